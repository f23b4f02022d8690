"""Load worker, run in its own process against an emulator in another process.

``python benchmarks/load.py cpu|cpu-floor|tts-conc|stt-conc FRAMEWORK IMPL BASE_URL N`` prints
one JSON line. Only this process's CPU (``time.process_time``) and memory count: the emulator runs
elsewhere, and imports and warm-up happen before the clocks start.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import gc
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import psutil
from common import (
    LONG_REPLY,
    RATE,
    bare_tts_request,
    bare_tts_url,
    key,
    now,
    percentile,
    quiet,
)
from drivers.registry import TTS_DRIVERS, driver

CONC_TEXT = "Your order shipped this morning. It should arrive by Friday afternoon."


class GcPauses:
    """Garbage-collector pauses while measuring (they stop every stream in the process)."""

    def __init__(self, *, freeze: bool = True) -> None:
        self.pauses: list[float] = []
        self._t = 0.0
        self.freeze = freeze

    def __enter__(self) -> GcPauses:
        # A long-running worker's start-up heap (framework modules, warm sockets) never
        # becomes garbage: freezing it keeps full collections from walking it again and
        # again, as servers do after start-up. Ours and the official plugins alike.
        if self.freeze:
            gc.collect()
            gc.freeze()
        gc.callbacks.append(self._on_gc)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._t = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._t)

    def summary(self) -> dict[str, float]:
        return {
            "gc_pauses": len(self.pauses),
            "gc_max_ms": 1000 * max(self.pauses, default=0),
            "gc_total_ms": 1000 * sum(self.pauses),
        }


def _traces(url: str, prefix: str) -> dict[str, Any]:
    """The emulator's send times for the connections labelled ``prefix…`` (trace option)."""
    import urllib.request

    req = urllib.request.Request(
        f"{url}/_emulator/traces?prefix={prefix}", headers={"Authorization": f"Bearer {key()}"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return dict(json.loads(resp.read()))


def _delivery_lags(
    pushes: list[tuple[float, int]], contexts: list[list[list[float]]]
) -> list[float]:
    """For each delivery: framework receipt − the server's send of the chunk completing it.

    Bytes delivered are mapped onto bytes sent (the ratio absorbs a resampling plugin);
    the server's clock is ``time.monotonic()``, the same clock as :func:`now` here.
    """
    sent: list[int] = []
    times: list[float] = []
    base = 0
    for sends in contexts:
        for n, t in sends:
            sent.append(base + int(n))
            times.append(t)
        base = sent[-1] if sent else base
    delivered = sum(n for _, n in pushes)
    if not sent or not delivered:
        return []
    scale = sent[-1] / delivered
    out, total = [], 0
    for t, n in pushes:
        total += n
        i = min(bisect.bisect_left(sent, round(total * scale)), len(sent) - 1)
        out.append(t - times[i])
    return out


def _lags(pushes: list[tuple[float, int]]) -> list[float]:
    """How late each delivery is against the server's real-time schedule (speed 1)."""
    if not pushes:
        return []
    t_first, first = pushes[0]
    out, total = [], 0
    for t, n in pushes:
        total += n
        out.append(t - (t_first + (total - first) / 2 / RATE))
    return out


async def cpu(framework: str, impl: str, url: str, seconds: float) -> dict[str, Any]:
    make = TTS_DRIVERS[framework][impl]
    async with make(url, key(speed=0)) as d:
        await d.warm()
        gc.collect()
        audio = 0
        c0, w0 = time.process_time(), now()
        while audio < seconds * 2 * RATE:
            t = await d.turn([LONG_REPLY])
            audio += len(t.audio)
        cpu_s, wall = time.process_time() - c0, now() - w0
    audio_s = audio / 2 / RATE
    return {"cpu_per_audio_s": cpu_s / audio_s, "audio_s": audio_s, "cpu_s": cpu_s, "wall": wall}


async def cpu_floor(url: str, seconds: float) -> dict[str, Any]:
    """The least any client can spend: receive the same frames, JSON-decode, base64-decode.

    No framework, no routing, no accounting: a lower bound for row 8, measured the same way.
    """
    import base64

    import aiohttp

    headers = {"Authorization": f"Bearer {key(speed=0)}"}
    session = aiohttp.ClientSession()
    async with session, session.ws_connect(bare_tts_url(url), headers=headers) as ws:

        async def turn() -> int:
            got = 0
            await ws.send_str(bare_tts_request(uuid.uuid4().hex, LONG_REPLY))
            while True:
                msg = await ws.receive()
                frame = json.loads(msg.data)
                if frame["status"] == "chunk":
                    got += len(base64.b64decode(frame["data"]["audio"]))
                elif frame["status"] in ("complete", "error"):
                    return got

        await turn()  # warm-up
        gc.collect()
        audio = 0
        c0, w0 = time.process_time(), now()
        while audio < seconds * 2 * RATE:
            audio += await turn()
        cpu_s, wall = time.process_time() - c0, now() - w0
    audio_s = audio / 2 / RATE
    return {"cpu_per_audio_s": cpu_s / audio_s, "audio_s": audio_s, "cpu_s": cpu_s, "wall": wall}


async def tts_conc(framework: str, impl: str, url: str, n: int) -> dict[str, Any]:
    make = TTS_DRIVERS[framework][impl]
    proc = psutil.Process()
    run = uuid.uuid4().hex[:8]
    drivers = [make(url, key(speed=1, trace=f"{run}-{i}")) for i in range(n)]
    gc.collect()
    rss0 = proc.memory_info().rss
    for d in drivers:
        await d.__aenter__()
    try:
        with GcPauses() as pauses:
            c0, w0 = time.process_time(), now()
            turns = await asyncio.gather(
                *(d.turn([CONC_TEXT]) for d in drivers), return_exceptions=True
            )
            cpu_s, wall = time.process_time() - c0, now() - w0
        rss = proc.memory_info().rss
    finally:
        await asyncio.gather(*(d.close() for d in drivers), return_exceptions=True)
    traces = _traces(url, f"{run}-")["tts"]
    sent_bytes = sum(ctx[-1][0] for ctxs in traces.values() for ctx in ctxs if ctx)
    lags: list[float] = []
    late: list[float] = []
    ok = 0
    for i, t in enumerate(turns):
        if isinstance(t, BaseException) or not t.pushes:
            continue
        ok += 1
        lags.extend(_delivery_lags(t.pushes, traces.get(f"{run}-{i}", [])))
        late.extend(_lags(t.pushes))
    return {
        "streams_ok": ok,
        "lag_p50": percentile(lags, 50),
        "lag_p99": percentile(lags, 99),
        "lateness_p50": percentile(late, 50),
        "lateness_p99": percentile(late, 99),
        **pauses.summary(),
        "cpu_pct": 100 * cpu_s / wall,
        "cpu_per_audio_s": cpu_s / (sent_bytes / 2 / RATE) if sent_bytes else None,
        "mem_per_stream_kb": (rss - rss0) / n / 1024,
        "errors": sorted({repr(t)[:120] for t in turns if isinstance(t, BaseException)})[:3],
    }


async def stt_conc(framework: str, impl: str, url: str, n: int) -> dict[str, Any]:
    from smallest_emulator.engines.deterministic import synthesize

    text = "please check my order status"
    pcm = synthesize(text, 16000).pcm
    proc = psutil.Process()
    gc.collect()
    rss0 = proc.memory_info().rss
    peak = [rss0]

    async def sample() -> None:
        while True:
            peak[0] = max(peak[0], proc.memory_info().rss)
            await asyncio.sleep(0.2)

    sampler = asyncio.ensure_future(sample())
    run = uuid.uuid4().hex[:8]
    with GcPauses() as pauses:
        c0, w0 = time.process_time(), now()
        heard = await asyncio.gather(
            *(
                driver(framework, impl, url, key(transcript=text, trace=f"{run}-{i}")).utterance(
                    pcm, finalize=True, realtime=True
                )
                for i in range(n)
            ),
            return_exceptions=True,
        )
        cpu_s, wall = time.process_time() - c0, now() - w0
    sampler.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sampler
    sent = _traces(url, f"{run}-")["stt"]
    lags: list[float] = []
    lat: list[float] = []
    for i, h in enumerate(heard):
        if isinstance(h, BaseException) or not h.final_at:
            continue
        lat.append(h.final_at - h.finalize_at)
        before = [t for t in sent.get(f"{run}-{i}", []) if t <= h.final_at]
        if before:  # receipt of the final − the server sending it
            lags.append(h.final_at - max(before))
    return {
        "streams_ok": len(lat),
        "lag_p50": percentile(lags, 50),
        "lag_p99": percentile(lags, 99),
        "finalize_p50": percentile(lat, 50),
        "finalize_p99": percentile(lat, 99),
        **pauses.summary(),
        "cpu_pct": 100 * cpu_s / wall,
        "cpu_per_audio_s": cpu_s / (n * len(pcm) / 2 / 16000),
        "mem_per_stream_kb": (peak[0] - rss0) / n / 1024,
        "errors": sorted({repr(h)[:120] for h in heard if isinstance(h, BaseException)})[:3],
    }


def main() -> None:
    quiet()
    mode, framework, impl, url, n = sys.argv[1:6]
    if mode == "cpu-floor":
        result = asyncio.run(cpu_floor(url, float(n)))
    else:
        fn = {"cpu": cpu, "tts-conc": tts_conc, "stt-conc": stt_conc}[mode]
        arg: Any = float(n) if mode == "cpu" else int(n)
        result = asyncio.run(fn(framework, impl, url, arg))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
