"""TTS scenarios 1-7, identical for every driver, against one in-process emulator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp
from common import (
    LONG_REPLY,
    RATE,
    REPLY_3,
    TURN_5,
    NotSupported,
    bare_tts_request,
    bare_tts_url,
    key,
    median,
    now,
    play_time_of,
    playback,
    stale_bytes,
    tokens,
)
from drivers.base import Driver

FIRST_SENTENCE = "Hello there, this is the first reply."
TOKEN_GAP_S = 0.03  # ~33 tokens/s, a typical LLM stream
BARGE_AFTER_BYTES = 4800  # 100 ms of audio delivered, then the user speaks


def _ws_opened(emu: Any) -> int:
    return int(emu.ws_connections.opened_total)


def _pcm_since(emu: Any, index: int) -> bytes:
    return b"".join(bytes(r.pcm) for r in emu.tts_log[index:] if r.transport == "ws")


async def server_ttfb(emu: Any, repeats: int) -> float:
    """The server's own time to first byte, seen by a bare aiohttp client on a warm socket."""
    times: list[float] = []
    headers = {"Authorization": f"Bearer {key()}"}
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(bare_tts_url(emu.base_url), headers=headers) as ws,
    ):
        for i in range(repeats + 1):
            t0 = now()
            await ws.send_str(bare_tts_request(f"raw{i}", FIRST_SENTENCE))
            first = None
            while True:
                frame = json.loads((await ws.receive(timeout=10)).data)
                if frame.get("status") == "chunk" and first is None:
                    first = now() - t0
                if frame.get("status") == "complete":
                    break
            if i:  # the first one warms up
                times.append(first or 0.0)
    return median(times)


async def first_audio(make: Callable[..., Driver], emu: Any, repeats: int) -> dict[str, Any]:
    async with make(emu.base_url, key()) as d:
        await d.warm()
        samples = []
        for _ in range(repeats):
            t = await d.turn([FIRST_SENTENCE])
            if t.first_audio is None:
                raise RuntimeError("no audio")
            samples.append(t.first_audio - t.started)
    return {"first_audio_s": median(samples), "samples": samples}


async def dead_air(make: Callable[..., Driver], emu: Any, repeats: int) -> dict[str, Any]:
    toks = tokens(REPLY_3)
    async with make(emu.base_url, key()) as d:
        await d.warm()
        dead = []
        for _ in range(repeats):
            t = await d.turn(toks, TOKEN_GAP_S)
            dead.append(playback(t.pushes)[2])
    return {"dead_air_s": median(dead), "samples": dead}


async def back_to_back(make: Callable[..., Driver], emu: Any, repeats: int) -> dict[str, Any]:
    gaps = []
    async with make(emu.base_url, key()) as d:
        await d.warm()
        for _ in range(repeats):
            a, b = await d.pair("Sure.", "Let me check that for you.")
            if not a.pushes or not b.pushes:
                raise RuntimeError("an utterance produced no audio")
            _, a_end, _ = playback(a.pushes)
            gaps.append(max(0.0, b.pushes[0][0] - a_end))
    return {"gap_s": median(gaps), "samples": gaps}


async def word_error(make: Callable[..., Driver], emu: Any, repeats: int) -> dict[str, Any]:
    errors: list[float] = []
    missing = 0
    async with make(emu.base_url, key(), words=True) as d:
        if d.words_reason:
            raise NotSupported(d.words_reason)
        await d.warm()
        for _ in range(repeats):
            before = len(emu.tts_log)
            t = await d.turn(tokens(TURN_5), TOKEN_GAP_S)
            recs = [r for r in emu.tts_log[before:] if r.transport == "ws"]
            truth: list[tuple[str, int]] = []
            offset = 0
            for r in recs:  # context timeline, across one or several server contexts
                truth += [(w.word, offset + w.context_start_sample) for w in r.words]
                offset += len(r.pcm) // 2
            fifth_n = len(TURN_5[4].split())
            want = truth[-fifth_n:]
            if d.framework == "videosdk":  # words are events at playback time
                got_wall = t.word_times[-fifth_n:]
                if len(got_wall) < fifth_n:
                    missing += fifth_n - len(got_wall)
                    continue
                errs = [
                    abs(wall - play_time_of(t.pushes, s))
                    for (_, wall), (_, s) in zip(got_wall, want, strict=True)
                ]
            else:
                got = t.words
                if len(got) < len(truth):
                    missing += len(truth) - len(got)
                if len(got) < fifth_n:
                    continue
                # Pipecat reports presentation times: compare relative to the first word.
                base_got = got[0][1] if d.framework == "pipecat" else 0.0
                base_truth = truth[0][1] / RATE if d.framework == "pipecat" else 0.0
                errs = [
                    abs((g - base_got) - (s / RATE - base_truth))
                    for (_, g), (_, s) in zip(got[-fifth_n:], want, strict=True)
                ]
            errors.append(max(errs))
    if not errors:
        raise NotSupported(f"no word timings delivered ({missing} missing)")
    return {"word_error_s": median(errors), "missing_words": missing, "samples": errors}


async def barge_in(make: Callable[..., Driver], emu: Any, repeats: int) -> dict[str, Any]:
    stale, reconnects, stops = [], [], []
    async with make(emu.base_url, key()) as d:
        await d.warm()
        for _ in range(repeats):
            opened = _ws_opened(emu)
            turn, cut, returned = await d.barge([LONG_REPLY], BARGE_AFTER_BYTES)
            after = [(t, n) for t, n in turn.pushes if t > cut]
            last = max([returned] + [t for t, _ in after])
            before = len(emu.tts_log)
            nxt = await d.turn(["Second turn now."])
            expected = _pcm_since(emu, before)
            stale.append(sum(n for _, n in after) + stale_bytes(bytes(nxt.audio), expected))
            reconnects.append(_ws_opened(emu) - opened)
            stops.append(last - cut)
    return {
        "stale_bytes": max(stale),
        "reconnects": median([float(r) for r in reconnects]),
        "stop_s": median(stops),
        "samples": {"stale": stale, "reconnects": reconnects, "stop": stops},
    }


async def sockets(make: Callable[..., Driver], emu: Any, repeats: int) -> dict[str, Any]:
    opened = _ws_opened(emu)
    async with make(emu.base_url, key()) as d:
        for i in range(10):
            await d.turn([f"Turn {i} says hello."])
    return {"sockets": _ws_opened(emu) - opened}


async def pause_loss(make: Callable[..., Driver], emu: Any, repeats: int) -> dict[str, Any]:
    lost = []
    extra = []
    async with make(emu.base_url, key(pause_ms=1000, pause_after_chunks=3)) as d:
        for _ in range(repeats):
            before = len(emu.tts_log)
            t = await d.turn(tokens(REPLY_3))
            await asyncio.sleep(1.2)  # let anything the plugin gave up on arrive at the server
            expected = _pcm_since(emu, before)
            got = bytes(t.audio)
            lost.append(max(0, len(expected) - len(got)))
            extra.append(0 if got == expected[: len(got)] else 1)
    return {"lost_bytes": max(lost), "corrupt_runs": sum(extra), "samples": lost}


SCENARIOS: dict[str, Callable[..., Any]] = {
    "first_audio": first_audio,
    "dead_air": dead_air,
    "back_to_back": back_to_back,
    "word_error": word_error,
    "barge_in": barge_in,
    "sockets": sockets,
    "pause_loss": pause_loss,
}
