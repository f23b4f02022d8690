"""Core microbenchmark: smallest_core alone, no sockets, no framework.

* TTS frames parsed per second through ``TTSConnection.receive`` and ``events``
  (realistic ~1 KB base64 audio chunk frames, with and without interleaved word frames);
* CPU per second of audio in the core alone;
* STT frames parsed per second through ``STTStreamState.receive`` and ``events``;
* a cProfile of the TTS path (top functions by own time);
* the decoders for the ``smallest-core[fast]`` extra: a chunk frame's JSON + base64 decode
  with the standard library, orjson + pybase64, msgspec + pybase64 and a typed msgspec
  struct, and ``receive`` with the standard-library vs the installed decoders.

``python benchmarks/core_micro.py [--quick]`` prints JSON.
"""

from __future__ import annotations

import base64
import cProfile
import io
import json
import pstats
import sys
import time
from typing import Any

from smallest_core import STTOptions, STTStreamState, TTSConnection, TTSOptions

RATE = 24000
CHUNK = 1024  # bytes of PCM per chunk frame, as the server sends them


def _tts_frames(ctx: str, n_chunks: int, words: bool) -> list[str]:
    frames: list[str] = []
    pcm = bytes(range(256)) * (CHUNK // 256)
    audio = base64.b64encode(pcm).decode()
    samples = CHUNK // 2
    per_word = 12  # ~0.25 s per word at 1 KB / 21 ms chunks
    for i in range(n_chunks):
        if words and i % per_word == 0:
            start = i * samples / RATE
            frames.append(
                json.dumps(
                    {
                        "status": "word_timestamp",
                        "context_id": ctx,
                        "request_id": "task_1",
                        "data": {
                            "id": i // per_word,
                            "word": "word",
                            "start": start,
                            "end": start + 0.2,
                        },
                    }
                )
            )
        frames.append(
            json.dumps(
                {
                    "status": "chunk",
                    "context_id": ctx,
                    "request_id": "task_1",
                    "session_id": "sess_1",
                    "data": {"audio": audio},
                }
            )
        )
    return frames


def _connection(words: bool) -> tuple[TTSConnection, str]:
    conn = TTSConnection(TTSOptions(voice_id="liam", word_timestamps=words))
    ctx = conn.start_context()
    conn.push_text(ctx, "word " * 10_000)
    conn.end_input(ctx)
    conn.data_to_send()
    return conn, ctx


def tts_rate(n_chunks: int, words: bool) -> dict[str, float]:
    conn, ctx = _connection(words)
    frames = _tts_frames(ctx, n_chunks, words)
    receive, events = conn.receive, conn.events
    t0, c0 = time.perf_counter(), time.process_time()
    for i, f in enumerate(frames):
        receive(f, float(i))
        events()  # what the I/O loop does with each frame
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    audio_s = n_chunks * CHUNK / 2 / RATE
    return {
        "frames_per_s": len(frames) / wall,
        "cpu_per_audio_s": cpu / audio_s,
        "us_per_frame": 1e6 * wall / len(frames),
    }


def bare_parse_rate(n_chunks: int) -> dict[str, float]:
    """The floor: ``json.loads`` + base64 decode of the same frames, no protocol logic."""
    frames = _tts_frames("ctx", n_chunks, False)
    loads, b64 = json.loads, base64.b64decode
    t0, c0 = time.perf_counter(), time.process_time()
    for f in frames:
        b64(loads(f)["data"]["audio"])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    audio_s = n_chunks * CHUNK / 2 / RATE
    return {"frames_per_s": len(frames) / wall, "cpu_per_audio_s": cpu / audio_s}


def _best_us(fn: Any, n: int, repeat: int = 5) -> float:
    """Best-of-``repeat`` µs per call (the least disturbed run on a shared machine)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, time.perf_counter() - t0)
    return 1e6 * best / n


def decoder_options(n: int) -> dict[str, Any]:
    """µs to decode one 1 KB chunk frame (JSON + base64) per candidate; absent ones skipped."""
    import binascii

    frame = _tts_frames("ctx", 1, False)[0]
    std = json.JSONDecoder().decode
    a2b = binascii.a2b_base64
    options: dict[str, Any] = {
        "stdlib (json + binascii strict)": lambda: a2b(
            std(frame)["data"]["audio"], strict_mode=True
        )
    }
    try:
        import pybase64

        b64 = pybase64.b64decode
    except ImportError:
        return {"stdlib (json + binascii strict)": _best_us(options.popitem()[1], n)}
    try:
        import orjson

        loads = orjson.loads
        options["orjson + pybase64"] = lambda: b64(loads(frame)["data"]["audio"], validate=True)
    except ImportError:
        pass
    try:
        import msgspec

        dec = msgspec.json.Decoder().decode
        options["msgspec + pybase64"] = lambda: b64(dec(frame)["data"]["audio"], validate=True)

        data = msgspec.defstruct("Data", [("audio", bytes, b"")])
        fields = [("status", str, ""), ("context_id", str | None, None)]
        fields += [("request_id", str | None, None), ("data", data | None, None)]
        chunk = msgspec.defstruct("Chunk", fields)
        typed = msgspec.json.Decoder(chunk).decode
        options["msgspec typed struct (decodes base64 itself)"] = lambda: typed(frame)
    except ImportError:
        pass
    return {name: _best_us(fn, n) for name, fn in options.items()}


def _with_decoders(loads: Any, b64: Any, fn: Any) -> Any:
    """``fn()`` with ``loads``/``b64`` wherever the core decodes TTS frames."""
    from smallest_core import tts_frames, tts_incoming

    sites = [(tts_frames, "_loads", loads), (tts_frames, "_b64", b64)]
    sites.append((tts_incoming, "b64decode", b64))
    saved = [(mod, name, getattr(mod, name)) for mod, name, _ in sites]
    for mod, name, new in sites:
        setattr(mod, name, new)
    try:
        return fn()
    finally:
        for mod, name, old in saved:
            setattr(mod, name, old)


def receive_by_backend(n: int) -> dict[str, Any]:
    """``receive`` µs per chunk frame with the standard-library decoders and, when the
    ``fast`` extra is installed, with its native ones (whatever ``SMALLEST_CORE_PURE`` says)."""
    from smallest_core import _codec

    pure = (_codec.pure_loads, _codec.pure_b64decode)
    native = (_codec._native_loads(), _codec._native_b64decode())
    out: dict[str, Any] = {
        "native": "+".join(m for m, f in zip(("msgspec", "pybase64"), native, strict=True) if f)
        or None
    }
    rate = lambda: tts_rate(n, False)["us_per_frame"]  # noqa: E731
    # Interleaved, best of three each: the least disturbed run on a shared machine.
    stdlib: list[float] = []
    fast: list[float] = []
    for _ in range(3):
        stdlib.append(_with_decoders(*pure, rate))
        if native[0] and native[1]:
            fast.append(_with_decoders(*native, rate))
    out["stdlib_us"] = min(stdlib)
    if fast:
        out["native_us"] = min(fast)
        out["stdlib_runs_us"], out["native_runs_us"] = stdlib, fast
    return out


def stt_rate(n: int) -> dict[str, float]:
    state = STTStreamState(STTOptions(language="en", sample_rate=16000))
    state.connection_started()
    words = [
        {"word": w, "start": i * 0.3, "end": i * 0.3 + 0.25, "confidence": 0.98}
        for i, w in enumerate(["please", "check", "the", "status", "of", "my", "order"])
    ]
    partial = json.dumps(
        {
            "session_id": "s",
            "transcript": "please check the status",
            "is_final": False,
            "is_last": False,
            "words": words[:4],
        }
    )
    final = json.dumps(
        {
            "session_id": "s",
            "transcript": "please check the status of my order",
            "is_final": True,
            "is_last": False,
            "language": "en",
            "words": words,
        }
    )
    frames = [final if i % 5 == 4 else partial for i in range(n)]
    t0 = time.perf_counter()
    for f in frames:
        state.receive(f)
        state.events()
    wall = time.perf_counter() - t0
    return {"frames_per_s": n / wall, "us_per_frame": 1e6 * wall / n}


def profile(n_chunks: int) -> list[dict[str, Any]]:
    conn, ctx = _connection(True)
    frames = _tts_frames(ctx, n_chunks, True)
    prof = cProfile.Profile()
    prof.enable()
    for i, f in enumerate(frames):
        conn.receive(f, float(i))
        conn.events()
    prof.disable()
    stats = pstats.Stats(prof, stream=io.StringIO())
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    rows = []
    for (file, line, name), (_cc, nc, tt, ct, _callers) in sorted(
        stats.stats.items(),  # type: ignore[attr-defined]
        key=lambda kv: kv[1][2],
        reverse=True,
    )[:10]:
        short = file.split("site-packages/")[-1].split("/src/")[-1]
        rows.append(
            {
                "function": f"{short}:{line}({name})",
                "calls": nc,
                "own_pct": 100 * tt / total if total else 0.0,
                "cum_ms": 1000 * ct,
            }
        )
    return rows


def run(quick: bool = False) -> dict[str, Any]:
    n = 5_000 if quick else 30_000
    tts_rate(500, True)  # warm up
    return {
        "tts_chunks_only": tts_rate(n, False),
        "tts_with_words": tts_rate(n, True),
        "bare_parse": bare_parse_rate(n),
        "stt": stt_rate(n),
        "profile": profile(n // 2),
        "decoders": decoder_options(n),
        "receive_by_backend": receive_by_backend(n),
        "chunks": n,
    }


if __name__ == "__main__":
    if "--decoders" in sys.argv:  # only the decoder comparison
        n = 5_000 if "--quick" in sys.argv else 30_000
        print(json.dumps({"decoders": decoder_options(n), **receive_by_backend(n)}, indent=1))
    else:
        print(json.dumps(run("--quick" in sys.argv), indent=1))
