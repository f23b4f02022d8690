"""Soak: 1,000 turns per adapter on one plugin, seeded barge-ins and injected faults.

Every turn is checked as it ends against the emulator's record (then the records' audio is
dropped, so the emulator's memory does not count): 0 bytes lost, 0 stale bytes (audio not
the turn's own), sockets back to the pool size, memory flat (tracemalloc, after warm-up).
At the end the driver checks the text the server received for every turn against the
caller's tokens (exact, or a prefix for a barge-in or a fault); sentence ends are marked
the framework's way (VideoSDK: a ``FlushMarker`` after each sentence).
Run with ``nox -s soak``; progress and a summary per adapter are printed as it goes.
"""

from __future__ import annotations

import gc
import os
import random
import time
import tracemalloc
from dataclasses import dataclass, field
from typing import Any

import pytest
from drivers import DRIVERS, Driver, Turn, TurnResult, sockets_settle, turn

from smallest_emulator import Emulator, EmulatorConfig

TURNS = int(os.environ.get("SOAK_TURNS", "1000"))
WARM_UP = 100
MEMORY_LIMIT_BYTES = 2 * 1024 * 1024
"""Allowed growth between the end of warm-up and the last turn (flat, with allocator noise)."""
SECRET = "sk_soak_SECRET_1234"
FAULTS = ("error_after_chunks", "close_after_chunks")


@dataclass
class Tally:
    ok: int = 0
    interrupted: int = 0
    failed: int = 0
    lost: int = 0
    stale: int = 0
    problems: list[str] = field(default_factory=list)
    memory: list[tuple[int, tracemalloc.Snapshot]] = field(default_factory=list)
    sockets_open_max: int = 0


def _plan(seed: str) -> tuple[list[Turn], dict[int, str]]:
    rng = random.Random(seed)
    turns: list[Turn] = []
    faults: dict[int, str] = {}
    for n in range(TURNS):
        text = f"Turn {n} reports status {rng.randrange(1000)}. All systems nominal, over."
        if rng.random() < 0.15:
            cut = rng.randrange(1, 20_000)
            turns.append(Turn(turn(text).tokens, barge_in_after_bytes=cut, sentence_flush=True))
        else:
            turns.append(turn(text, sentence_flush=True))
        if n >= 1 and rng.random() < 0.05 and turns[n - 1].barge_in_after_bytes is None:
            faults[n] = rng.choice(FAULTS)  # not after a barge-in: its in-flight chunks race
    return turns, faults


def _records_of(emu: Emulator, n: int, seen: list[int]) -> list[Any]:
    """Turn ``n``'s contexts: the last one starting its text (a replay repeats it) and the
    contexts that continue it (its later sentences, when each is its own context)."""
    log = emu.tts_log
    starts = [k for k in range(seen[0], len(log)) if log[k].text.lstrip().startswith(f"Turn {n} ")]
    if not starts:
        return []
    seen[0] = starts[0]
    records = [log[starts[-1]]]
    for rec in log[starts[-1] + 1 :]:
        if rec.text.lstrip().startswith("Turn "):
            break
        records.append(rec)
    return records


def _plugin_memory() -> tracemalloc.Snapshot:
    """Traced allocations outside the emulator's own code (it shares the process)."""
    gc.collect()
    return tracemalloc.take_snapshot().filter_traces(
        [
            tracemalloc.Filter(False, "*smallest_emulator*"),
            tracemalloc.Filter(False, "*tracemalloc*"),
        ]
    )


def _size(snapshot: tracemalloc.Snapshot) -> int:
    return sum(stat.size for stat in snapshot.statistics("filename"))


@pytest.mark.soak
@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", list(DRIVERS))
async def test_a_thousand_turns(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    driver: Driver = DRIVERS[name]
    turns, faults = _plan(f"soak-{name}")
    tally = Tally()
    started = time.monotonic()

    def show(line: str) -> None:
        with capsys.disabled():  # progress is visible without -s
            print(line, flush=True)

    async with Emulator(config=EmulatorConfig(speed=0.0, complete_backoff_ms=0)) as emu:
        if 0 in faults:
            setattr(emu.config, faults[0], 2)
        seen = [0]  # the emulator records already assigned to a turn

        async def check(i: int, res: TurnResult) -> None:
            records = _records_of(emu, i, seen)
            own = b"".join(bytes(r.pcm) for r in records)
            if res.error is not None:
                tally.failed += 1
                if i not in faults:
                    tally.problems.append(f"turn {i}: unexpected {res.error}")
            elif res.interrupted:
                tally.interrupted += 1
            else:
                tally.ok += 1
                tally.lost += max(0, len(own) - len(res.audio))
            if not own.startswith(res.audio):
                tally.stale += len(res.audio)
                tally.problems.append(f"turn {i}: audio is not the turn's own")
            res.audio = b""  # checked: do not hold every turn's audio until the end
            for r in records:
                r.pcm = bytearray()  # nor the emulator (it keeps every context of a socket)
            # the fault fires 2 chunks into the next turn: chunks count per connection
            conn = emu.tts_log[-1].connection_id if emu.tts_log else ""
            sent = sum(r.chunks_sent for r in emu.tts_log if r.connection_id == conn)
            for fault in FAULTS:
                setattr(emu.config, fault, sent + 2 if faults.get(i + 1) == fault else None)
            emu.requests.clear()
            tally.sockets_open_max = max(tally.sockets_open_max, emu.ws_connections.open_now)
            if i + 1 == WARM_UP or i + 1 == TURNS:
                tally.memory.append((i + 1, _plugin_memory()))
            if (i + 1) % 100 == 0:
                show(
                    f"[soak {name}] {i + 1}/{TURNS} turns, {time.monotonic() - started:.1f}s, "
                    f"ok={tally.ok} barge-ins={tally.interrupted} faults={tally.failed}"
                )

        tracemalloc.start()
        try:
            await driver.tts_turns(emu, turns, api_key=SECRET, timeout_s=5.0, between=check)
        finally:
            tracemalloc.stop()
        open_at_end = await sockets_settle(emu)
        opened = emu.ws_connections.opened_total
    (_, warm), (_, end) = tally.memory
    growth = _size(end) - _size(warm)
    for stat in end.compare_to(warm, "lineno")[:3]:
        show(f"[soak {name}] memory growth site: {stat}")
    show(
        f"[soak {name}] SUMMARY turns={TURNS} ok={tally.ok} barge-ins={tally.interrupted} "
        f"faults={tally.failed}/{len(faults)} injected lost={tally.lost}B stale={tally.stale}B "
        f"sockets_opened={opened} open_during_max={tally.sockets_open_max} "
        f"open_after_close={open_at_end} memory_growth={growth / 1024:.0f}KiB "
        f"({_size(warm) / 1024:.0f}->{_size(end) / 1024:.0f}KiB) "
        f"in {time.monotonic() - started:.1f}s"
    )
    assert not tally.problems, tally.problems[:5]
    assert tally.lost == 0 and tally.stale == 0
    # Every error came from an injected fault (checked per turn). Not every planned fault
    # fires: the emulator applies error_after_chunks once per socket, and a plugin that keeps
    # its socket after an error frame (VideoSDK) sees only the first one on that socket.
    assert 1 <= tally.failed <= len(faults)
    assert tally.sockets_open_max <= 1  # the pool holds one socket between turns
    assert open_at_end == 0
    assert growth < MEMORY_LIMIT_BYTES, f"memory grew by {growth} bytes"
