"""Reply → our TTS → audio played into our STT → text, per framework (LiveKit, Pipecat, VideoSDK).

    python demo/run.py                          # all three, offline (in-process emulator)
    python demo/run.py --frameworks livekit     # just one (comma-separated list)
    SMALLEST_API_KEY=sk_... python demo/run.py  # the real API
    python demo/run.py --base-url URL           # another server (or set SMALLEST_BASE_URL)

Offline, the embedded emulator speaks with espeak-ng and listens with pocketsphinx (the
``smallest-emulator[speech]`` extra), so the audio and the transcript are real speech and real
recognition. The TTS audio is played into the STT as it arrives, in real time, as a caller would
hear it. Writes ``demo-out/<framework>.wav`` and ``demo-out/<framework>.png`` for each framework
that worked; a framework that fails is named with its error and the exit code is 1.
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
from turn import Turn, TurnFailed

from smallest_core import redact
from smallest_core.endpoints import DEFAULT_BASE_URL

FRAMEWORKS = {"livekit": "LiveKit", "pipecat": "Pipecat", "videosdk": "VideoSDK"}
TURN_TIMEOUT_S = 120
SECONDS_PER_TURN = 12
"""Loading a framework, one turn played in real time, its picture: 10-13 s on 2 cores."""


def server(args: argparse.Namespace) -> str | None:
    """The API root chosen by the flags and the environment; None for the embedded emulator."""
    if args.offline:
        return None
    base_url = args.base_url or os.environ.get("SMALLEST_BASE_URL")
    if base_url:
        return str(base_url)
    return DEFAULT_BASE_URL if os.environ.get("SMALLEST_API_KEY") else None


@contextlib.asynccontextmanager
async def api(base_url: str | None, speed: float) -> AsyncIterator[tuple[str, str | None]]:
    """(base_url, api_key): the given server (key from SMALLEST_API_KEY), or an emulator."""
    if base_url is not None:
        print(f"Using {base_url} (key from SMALLEST_API_KEY)", flush=True)
        yield base_url, None
        return
    from smallest_emulator import Emulator, EmulatorConfig

    config = EmulatorConfig(
        engine="espeak",  # TTS audio: espeak-ng speech, word times from its synthesis events
        stt_engine="pocketsphinx",  # STT: pocketsphinx recognition of the received audio
        transcript=tuple(REPLIES.values()),  # the phrases pocketsphinx's grammar allows
        speed=speed,
        complete_backoff_ms=0,
    )
    async with Emulator(config) as emu:
        print(f"Offline: embedded emulator at {emu.base_url} (espeak TTS, pocketsphinx STT)")
        yield emu.base_url, "sk_demo"


def write_wav(turn: Turn, path: Path) -> None:
    """The turn's TTS audio as a 16-bit mono WAV file."""
    if not turn.pcm:
        raise ValueError(f"{turn.framework}: no audio to write")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(turn.sample_rate)
        out.writeframes(bytes(turn.pcm))


def describe(exc: BaseException) -> str:
    """One line naming what went wrong, with any API key redacted."""
    if isinstance(exc, TimeoutError):
        return f"no result within {TURN_TIMEOUT_S} s"
    text = redact(" ".join(str(exc).split()))
    if isinstance(exc, TurnFailed):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def run_one(name: str, base_url: str, api_key: str | None, pace: float) -> Turn:
    """One framework's turn, with progress lines; raises if it failed in any way."""
    label = FRAMEWORKS[name]
    print(f"\n{label}: loading the framework", flush=True)
    module = importlib.import_module(f"{name}_turn")
    turn = Turn(framework=label, reply=REPLIES[name], pace=pace)

    def log(message: str) -> None:
        print(f"  [{label} {turn.now():5.2f} s] {message}", flush=True)

    log(f"speaking {len(turn.reply.split())} words token by token (the clock starts now)")
    await asyncio.wait_for(module.run(turn, base_url, api_key, log), TURN_TIMEOUT_S)
    problems = turn.problems()
    if problems:
        raise TurnFailed("; ".join(problems))
    return turn


def table(turns: list[Turn]) -> str:
    """The summary: one row per framework."""
    head = (
        "framework",
        "first audio",
        "audio",
        "STT final after speech end",
        "timed words",
        "STT finals",
        "word accuracy",
    )
    rows = [head]
    for t in turns:
        first = f"{t.first_audio_ms:.0f} ms" if t.first_audio_ms is not None else "-"
        after = t.final_after_speech_ms
        acc = word_accuracy(t.reply, t.transcript)
        rows.append(
            (
                t.framework,
                first,
                f"{t.audio_seconds:.2f} s",
                f"{after:.0f} ms" if after is not None else "-",
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
        help="pace of the emulator and of the audio played into the STT, vs real time "
        "(1 = real time, as a caller hears it; 0 = as fast as possible)",
    )
    parser.add_argument(
        "--base-url", help="a Smallest API root to use (default: SMALLEST_BASE_URL)"
    )
    parser.add_argument(
        "--offline", action="store_true", help="use the embedded emulator whatever is set"
    )
    args = parser.parse_args(argv)
    names = [n.strip().lower() for n in args.frameworks.split(",") if n.strip()]
    unknown = [n for n in names if n not in FRAMEWORKS]
    if unknown or not names:
        parser.error(f"unknown framework(s) {unknown}; choose from {', '.join(FRAMEWORKS)}")
    if args.speed < 0:
        parser.error("--speed must be 0 or more")
    args.out.mkdir(parents=True, exist_ok=True)
    labels = ", ".join(FRAMEWORKS[n] for n in names)
    print(f"Demo: one spoken turn each for {labels}; about {SECONDS_PER_TURN} s each", flush=True)

    from timeline_plot import draw  # matplotlib import takes a moment: after argument errors

    started = time.monotonic()
    base_url = server(args)
    turns: list[Turn] = []
    failed: dict[str, str] = {}
    async with api(base_url, args.speed) as (url, api_key):
        for name in names:
            try:
                turn = await run_one(name, url, api_key, args.speed)
            except Exception as exc:  # one framework failing must not hide the others
                failed[FRAMEWORKS[name]] = describe(exc)
                print(f"  {FRAMEWORKS[name]} FAILED: {failed[FRAMEWORKS[name]]}", flush=True)
                for stale in (args.out / f"{name}.wav", args.out / f"{name}.png"):
                    if stale.exists():
                        stale.unlink()
                        print(f"  removed {stale} from an earlier run", flush=True)
                continue
            turns.append(turn)
            write_wav(turn, args.out / f"{name}.wav")
            draw(turn, args.out / f"{name}.png")
            print(f"  wrote {args.out / name}.wav and {args.out / name}.png", flush=True)

    if turns:
        print("\n" + table(turns))
    if turns and base_url is None:
        print(
            "\nOffline, pocketsphinx decodes with a grammar of the demo's three replies (the"
            " emulator constrains it to expected phrases), so the accuracy shows that the audio"
            " is the reply's speech, in order - not open-vocabulary recognition quality."
        )
    print(f"\n{len(turns)} of {len(names)} frameworks worked in {time.monotonic() - started:.0f} s")
    for label, reason in failed.items():
        print(f"failed: {label} - {reason}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
