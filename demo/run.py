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

After each framework's turn come the newer models' turns (``extras.py``): a Lightning v4 reply
cut by a barge-in and a follow-up on the same session, a Lightning v3.2 reply whose affect
changes per sentence, and a Pulse 2 transcription of the turn's audio with emotion and gender
(``--no-extras`` leaves them out). Each that fails is named like a failed framework.
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
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import extras
from extras import Extras, Mark, Server
from replies import REPLIES
from scoring import word_accuracy
from turn import Turn, TurnFailed

from smallest_core import redact
from smallest_core.endpoints import DEFAULT_BASE_URL

FRAMEWORKS = {"livekit": "LiveKit", "pipecat": "Pipecat", "videosdk": "VideoSDK"}
TURN_TIMEOUT_S = 120
SECONDS_PER_TURN = 12
"""Loading a framework, one turn played in real time, its picture: 10-13 s on 2 cores."""
SECONDS_PER_EXTRAS = 8
"""The turn's audio played into Pulse 2 in real time (7 s), while the v4 barge-in and
follow-up (2 s) and the two v3.2 sentences (under 1 s) are spoken."""


def server(args: argparse.Namespace) -> str | None:
    """The API root chosen by the flags and the environment; None for the embedded emulator."""
    if args.offline:
        return None
    base_url = args.base_url or os.environ.get("SMALLEST_BASE_URL")
    if base_url:
        return str(base_url)
    return DEFAULT_BASE_URL if os.environ.get("SMALLEST_API_KEY") else None


@contextlib.asynccontextmanager
async def api(base_url: str | None, speed: float) -> AsyncIterator[Server]:
    """The given server (key from SMALLEST_API_KEY), or an embedded emulator."""
    if base_url is not None:
        print(f"Using {base_url} (key from SMALLEST_API_KEY)", flush=True)
        yield Server(base_url, None)
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
        yield Server(emu.base_url, "sk_demo", emu)


def write_wav(turn: Turn, path: Path) -> None:
    """The turn's TTS audio as a 16-bit mono WAV file."""
    write_pcm(bytes(turn.pcm), turn.sample_rate, path, turn.framework)


def write_pcm(pcm: bytes, sample_rate: int, path: Path, what: str) -> None:
    """16-bit mono PCM as a WAV file; ``ValueError`` (and no file) when there is none."""
    if not pcm:
        raise ValueError(f"{what}: no audio to write")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm)


def describe(exc: BaseException) -> str:
    """One line naming what went wrong, with any API key redacted."""
    if isinstance(exc, TimeoutError):
        return redact(str(exc)) if str(exc) else f"no result within {TURN_TIMEOUT_S} s"
    text = redact(" ".join(str(exc).split()))
    if isinstance(exc, TurnFailed):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def run_one(name: str, server: Server, pace: float) -> Turn:
    """One framework's turn, with progress lines; raises if it failed in any way."""
    label = FRAMEWORKS[name]
    print(f"\n{label}: loading the framework", flush=True)
    module = importlib.import_module(f"{name}_turn")
    turn = Turn(framework=label, reply=REPLIES[name], pace=pace)

    def log(message: str) -> None:
        print(f"  [{label} {turn.now():5.2f} s] {message}", flush=True)

    log(f"speaking {len(turn.reply.split())} words token by token (the clock starts now)")
    await asyncio.wait_for(module.run(turn, server.base_url, server.api_key, log), TURN_TIMEOUT_S)
    problems = turn.problems()
    if problems:
        raise TurnFailed("; ".join(problems))
    return turn


EXTRA_FILES = {"Lightning v4": "v4", "Lightning v3.2": "v32"}
"""The extra turns that write a WAV file, and its name after ``<framework>-``."""


async def run_extras(name: str, server: Server, turn: Turn, out: Path) -> Extras:
    """The newer models' turns of one framework; each failure is kept, not raised."""
    label = FRAMEWORKS[name]
    module = importlib.import_module(f"{name}_extras")
    result = Extras(label)
    started = time.monotonic()

    def log(message: str) -> None:
        print(f"  [{label} extras {time.monotonic() - started:5.2f} s] {message}", flush=True)

    emu = server.emulator
    # Pulse 2 listens (in real time) while the v4 and v3.2 turns speak: they do not overlap on
    # the server's side, and the extras take the time of the longest, not of all three.
    listening = asyncio.create_task(
        asyncio.wait_for(module.pulse2(server, bytes(turn.pcm), log), TURN_TIMEOUT_S)
    )
    try:
        for what in EXTRA_FILES:
            mark, pcm = Mark.of(emu), b""
            try:
                if what == "Lightning v4":
                    result.v4 = await asyncio.wait_for(module.v4(server, log), TURN_TIMEOUT_S)
                    problems = extras.check_v4(result.v4, emu, mark)
                    pcm = bytes(result.v4.reply_pcm + result.v4.follow_up_pcm)
                else:
                    result.v32 = await asyncio.wait_for(module.v32(server, log), TURN_TIMEOUT_S)
                    problems = extras.check_v32(result.v32, emu, mark)
                    pcm = b"".join(s.pcm for s in result.v32)
            except Exception as exc:  # one turn failing must not hide the others
                problems = [describe(exc)]
            path = out / f"{name}-{EXTRA_FILES[what]}.wav"
            if problems:
                _failed(result, what, problems, log)
                if path.exists():
                    path.unlink()
                    log(f"removed {path} from an earlier run")
            else:
                write_pcm(pcm, extras.SAMPLE_RATE, path, f"{label} {what}")
                log(f"wrote {path}")
        try:
            result.pulse2 = await listening
            problems = extras.check_pulse2(result.pulse2)
        except Exception as exc:
            problems = [describe(exc)]
        if problems:
            _failed(result, "Pulse 2", problems, log)
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
    return result


def extra_files(name: str) -> list[str]:
    """The files the extra turns of framework ``name`` write."""
    return [f"{name}-{suffix}.wav" for suffix in EXTRA_FILES.values()]


def remove_stale(names: list[str], out: Path) -> None:
    """Remove what an earlier run wrote that this run does not (re)write."""
    for stale in (out / n for n in names):
        if stale.exists():
            stale.unlink()
            print(f"  removed {stale} from an earlier run", flush=True)


def _failed(result: Extras, what: str, problems: list[str], log: Callable[[str], None]) -> None:
    result.failed[what] = "; ".join(problems)
    log(f"{what} FAILED: {result.failed[what]}")


async def v32_voice(server: Server) -> str:
    """The first voice of the server's Lightning v3.2 catalogue, or a placeholder if it lists
    none (the emulator's is empty: the v3.2 spec names no voice; it accepts any new id)."""
    import aiohttp

    url = f"{server.base_url.rstrip('/')}/waves/v1/lightning-v3.2/get_voices"
    key = server.api_key or os.environ.get("SMALLEST_API_KEY", "")
    host = urlsplit(url).hostname or ""
    safe = url.startswith("https://") or host in ("127.0.0.1", "localhost", "::1")
    headers = {"Authorization": f"Bearer {key}"} if key and safe else {}  # never in clear text
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
            session.get(url, headers=headers) as response,
        ):
            voices = (await response.json()).get("voices") or [] if response.ok else []
    except (aiohttp.ClientError, TimeoutError, ValueError, AttributeError):
        voices = []
    first = voices[0].get("voice_id") if voices and isinstance(voices[0], dict) else None
    voice = str(first) if first else extras.V32_FALLBACK_VOICE
    print(f"Lightning v3.2 voice: {voice}", flush=True)
    return voice


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
    parser.add_argument(
        "--no-extras",
        action="store_true",
        help="only the main turn: leave out the Lightning v4, v3.2 and Pulse 2 turns",
    )
    parser.add_argument(
        "--v32-voice",
        help="the Lightning v3.2 voice (default: the first the server's v3.2 catalogue lists)",
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
    each = SECONDS_PER_TURN + (0 if args.no_extras else SECONDS_PER_EXTRAS)
    more = "" if args.no_extras else " plus Lightning v4, v3.2 and Pulse 2 turns"
    print(f"Demo: one spoken turn each for {labels}{more}; about {each} s each", flush=True)

    from timeline_plot import draw  # matplotlib import takes a moment: after argument errors

    started = time.monotonic()
    base_url = server(args)
    turns: list[Turn] = []
    failed: dict[str, str] = {}
    done: list[Extras] = []
    async with api(base_url, args.speed) as target:
        target.pace = args.speed
        if not args.no_extras:
            target.v32_voice = args.v32_voice or await v32_voice(target)
        for name in names:
            try:
                turn = await run_one(name, target, args.speed)
            except Exception as exc:  # one framework failing must not hide the others
                failed[FRAMEWORKS[name]] = describe(exc)
                print(f"  {FRAMEWORKS[name]} FAILED: {failed[FRAMEWORKS[name]]}", flush=True)
                remove_stale([f"{name}.wav", f"{name}.png", *extra_files(name)], args.out)
                continue
            turns.append(turn)
            write_wav(turn, args.out / f"{name}.wav")
            draw(turn, args.out / f"{name}.png")
            print(f"  wrote {args.out / name}.wav and {args.out / name}.png", flush=True)
            if args.no_extras:
                remove_stale(extra_files(name), args.out)
            else:
                print(f"\n{FRAMEWORKS[name]}: the newer models' turns", flush=True)
                done.append(await run_extras(name, target, turn, args.out))

    if turns:
        print("\n" + table(turns))
    if done:
        print("\nThe newer models (Lightning v4 barge-in, v3.2 affect, Pulse 2 emotion):")
        for result in done:
            print("\n".join(extras.describe(result)))
        if base_url is None:
            print("\n" + extras.OFFLINE_NOTE)
    if turns and base_url is None:
        print(
            "\nOffline, pocketsphinx decodes with a grammar of the demo's three replies (the"
            " emulator constrains it to expected phrases), so the accuracy shows that the audio"
            " is the reply's speech, in order - not open-vocabulary recognition quality."
        )
    print(f"\n{len(turns)} of {len(names)} frameworks worked in {time.monotonic() - started:.0f} s")
    failed_extras = {
        f"{r.framework} ({what})": reason for r in done for what, reason in r.failed.items()
    }
    if done:
        total = 3 * len(done)
        print(f"{total - len(failed_extras)} of {total} newer-model turns worked")
    for label, reason in {**failed, **failed_extras}.items():
        print(f"failed: {label} - {reason}")
    return 1 if failed or failed_extras else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
