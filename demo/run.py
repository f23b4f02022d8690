"""Reply → our TTS → audio → our STT → text, once per framework (LiveKit, Pipecat, VideoSDK).

    python demo/run.py                        # all three, offline (in-process emulator)
    python demo/run.py --frameworks livekit   # just one (comma-separated list)
    SMALLEST_API_KEY=sk_... python demo/run.py  # the real API (SMALLEST_BASE_URL unset)

Offline, the embedded emulator speaks with espeak-ng and listens with pocketsphinx (the
``smallest-emulator[speech]`` extra), so the audio and the transcript are real speech and real
recognition. Writes ``demo-out/<framework>.wav`` and ``demo-out/<framework>.png``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import sys
import time
import wave
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from replies import REPLIES
from scoring import word_accuracy
from turn import Turn

FRAMEWORKS = {"livekit": "LiveKit", "pipecat": "Pipecat", "videosdk": "VideoSDK"}
TURN_TIMEOUT_S = 120


def online() -> bool:
    """The real API: a key and no local API root."""
    return bool(os.environ.get("SMALLEST_API_KEY")) and not os.environ.get("SMALLEST_BASE_URL")


@contextlib.asynccontextmanager
async def api(offline_speed: float) -> AsyncIterator[tuple[str | None, str | None]]:
    """(base_url, api_key): the real API, or an emulator with real speech in and out."""
    if online():
        print("Using the Smallest AI API (SMALLEST_API_KEY is set)")
        yield None, None
        return
    from smallest_emulator import Emulator, EmulatorConfig

    config = EmulatorConfig(
        engine="espeak",  # TTS audio: espeak-ng speech, word times from its synthesis events
        stt_engine="pocketsphinx",  # STT: pocketsphinx recognition of the received audio
        transcript=tuple(REPLIES.values()),  # the phrases pocketsphinx's grammar allows
        speed=offline_speed,
        complete_backoff_ms=0,
    )
    async with Emulator(config) as emu:
        print(f"Offline: embedded emulator at {emu.base_url} (espeak TTS, pocketsphinx STT)")
        yield emu.base_url, "sk_demo"


def write_wav(turn: Turn, path: Path) -> None:
    """The turn's TTS audio as a 16-bit mono WAV file."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(turn.sample_rate)
        out.writeframes(bytes(turn.pcm))


async def run_one(name: str, base_url: str | None, api_key: str | None) -> Turn:
    """One framework's turn, with progress lines."""
    label = FRAMEWORKS[name]
    started = time.monotonic()

    def log(message: str) -> None:
        print(f"  [{label} +{time.monotonic() - started:5.2f}s] {message}", flush=True)

    module = importlib.import_module(f"{name}_turn")
    turn = Turn(framework=label, reply=REPLIES[name])
    print(f"\n{label}: speaking {len(REPLIES[name].split())} words token by token", flush=True)
    await asyncio.wait_for(module.run(turn, base_url, api_key, log), TURN_TIMEOUT_S)
    return turn


def table(turns: list[Turn]) -> str:
    """The summary: one row per framework."""
    head = ("framework", "first audio", "audio", "timed words", "STT finals", "word accuracy")
    rows = [head]
    for t in turns:
        first = f"{t.first_audio_ms:.0f} ms" if t.first_audio_ms is not None else "-"
        acc = word_accuracy(t.reply, t.transcript)
        rows.append(
            (
                t.framework,
                first,
                f"{t.audio_seconds:.2f} s",
                f"{len(t.words)}/{len(t.reply.split())}",
                str(len(t.finals)),
                f"{acc:.0%}" + (" (exact)" if acc == 1.0 else ""),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for t in turns:
        lines.append(f"\n{t.framework}\n  reply: {t.reply}\n  heard: {t.transcript or '(nothing)'}")
    return "\n".join(lines)


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--frameworks",
        default=",".join(FRAMEWORKS),
        help="comma-separated subset of: " + ", ".join(FRAMEWORKS),
    )
    parser.add_argument("--out", type=Path, default=Path("demo-out"), help="output directory")
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="offline: emulator pacing vs real time (1 = like the real service, 0 = unpaced)",
    )
    args = parser.parse_args(argv)
    names = [n.strip().lower() for n in args.frameworks.split(",") if n.strip()]
    unknown = [n for n in names if n not in FRAMEWORKS]
    if unknown or not names:
        parser.error(f"unknown framework(s) {unknown}; choose from {', '.join(FRAMEWORKS)}")
    args.out.mkdir(parents=True, exist_ok=True)

    from timeline_plot import draw  # matplotlib import takes a moment: after argument errors

    turns: list[Turn] = []
    failed: list[str] = []
    async with api(args.speed) as (base_url, api_key):
        for name in names:
            try:
                turn = await run_one(name, base_url, api_key)
            except Exception as exc:  # one framework failing must not hide the others
                print(f"  {FRAMEWORKS[name]} failed: {type(exc).__name__}: {exc}", flush=True)
                failed.append(name)
                continue
            turns.append(turn)
            write_wav(turn, args.out / f"{name}.wav")
            draw(turn, args.out / f"{name}.png")
            print(f"  wrote {args.out / name}.wav and {args.out / name}.png", flush=True)

    print("\n" + table(turns))
    if not online():
        print(
            "\nOffline, pocketsphinx decodes with a grammar of the demo's three replies (the"
            " emulator constrains it to expected phrases), so the accuracy shows that the audio"
            " is the reply's speech, in order - not open-vocabulary recognition quality."
        )
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    ok = not failed and all(t.pcm and t.finals for t in turns)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
