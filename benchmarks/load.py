"""Load worker, run in its own process against an emulator in another process.

``python benchmarks/load.py cpu|tts-conc|stt-conc FRAMEWORK IMPL BASE_URL N`` prints one JSON
line. Only this process's CPU (``time.process_time``) and memory count: the emulator runs
elsewhere, and imports and warm-up happen before the clocks start.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import psutil
from common import LONG_REPLY, RATE, key, now, percentile
from drivers.registry import TTS_DRIVERS
from drivers.stt import STT_DRIVERS

CONC_TEXT = "Your order shipped this morning. It should arrive by Friday afternoon."


def _quiet() -> None:
    try:
        from loguru import logger

        logger.remove()
    except ImportError:
        pass
    import logging

    logging.disable(logging.CRITICAL)


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


async def tts_conc(framework: str, impl: str, url: str, n: int) -> dict[str, Any]:
    make = TTS_DRIVERS[framework][impl]
    proc = psutil.Process()
    drivers = [make(url, key(speed=1)) for _ in range(n)]
    gc.collect()
    rss0 = proc.memory_info().rss
    for d in drivers:
        await d.__aenter__()
    try:
        c0, w0 = time.process_time(), now()
        turns = await asyncio.gather(
            *(d.turn([CONC_TEXT]) for d in drivers), return_exceptions=True
        )
        cpu_s, wall = time.process_time() - c0, now() - w0
        rss = proc.memory_info().rss
    finally:
        await asyncio.gather(*(d.close() for d in drivers), return_exceptions=True)
    ok = [t for t in turns if not isinstance(t, BaseException) and t.pushes]
    lags = [x for t in ok for x in _lags(t.pushes)]
    return {
        "streams_ok": len(ok),
        "lag_p50": percentile(lags, 50),
        "lag_p99": percentile(lags, 99),
        "cpu_pct": 100 * cpu_s / wall,
        "mem_per_stream_kb": (rss - rss0) / n / 1024,
        "errors": sorted({repr(t)[:120] for t in turns if isinstance(t, BaseException)})[:3],
    }


async def stt_conc(framework: str, impl: str, url: str, n: int) -> dict[str, Any]:
    from smallest_emulator.engines.deterministic import synthesize

    ours, official = STT_DRIVERS[framework]
    cls = ours if impl == "ours" else official
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
    c0, w0 = time.process_time(), now()
    heard = await asyncio.gather(
        *(
            cls(url, key(transcript=text)).utterance(pcm, finalize=True, realtime=True)
            for _ in range(n)
        ),
        return_exceptions=True,
    )
    cpu_s, wall = time.process_time() - c0, now() - w0
    sampler.cancel()
    ok = [h for h in heard if not isinstance(h, BaseException) and h.final_at]
    lat = [h.final_at - h.finalize_at for h in ok]
    return {
        "streams_ok": len(ok),
        "lag_p50": percentile(lat, 50),
        "lag_p99": percentile(lat, 99),
        "cpu_pct": 100 * cpu_s / wall,
        "mem_per_stream_kb": (peak[0] - rss0) / n / 1024,
        "errors": sorted({repr(h)[:120] for h in heard if isinstance(h, BaseException)})[:3],
    }


def main() -> None:
    _quiet()
    mode, framework, impl, url, n = sys.argv[1:6]
    fn = {"cpu": cpu, "tts-conc": tts_conc, "stt-conc": stt_conc}[mode]
    arg: Any = float(n) if mode == "cpu" else int(n)
    result = asyncio.run(fn(framework, impl, url, arg))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
