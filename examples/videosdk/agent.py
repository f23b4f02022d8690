"""Smallest AI voice in a VideoSDK agent: offline against the emulator, or the real API.

    python examples/videosdk/agent.py                  # offline: in-process emulator
    SMALLEST_API_KEY=sk_... python agent.py            # same flow against api.smallest.ai
    SMALLEST_API_KEY=sk_... VIDEOSDK_AUTH_TOKEN=... python agent.py --meeting <room-id>

The file modes speak a streamed three-sentence reply into a file-backed stand-in for the
agent's 24 kHz track (``reply.wav``), print every ``word_spoken`` event (they follow
real-time playback, so the script waits until the reply has played), then transcribe that
file with Pulse, printing every transcript event. Offline, the emulator speaks with espeak-ng
and listens with pocketsphinx when its ``speech`` extra is installed; otherwise ``reply.wav``
holds its test tone, not speech. The meeting mode joins a VideoSDK room with an agent that
greets the caller and repeats what it hears (no LLM needed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import time
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from videosdk.agents import FlushMarker, STTResponse, audio_format

from smallest_videosdk import SmallestAISTT, SmallestAITTS

REPLY = (
    "Hello! I am speaking",
    " through Smallest AI.",
    " Every sentence",
    " streams as it arrives.",
)
TEXT = "".join(REPLY)
PLAYBACK_MARGIN_S = 2.0


class WavTrack:
    """What the pipeline gives the TTS: async ``add_new_bytes``, sync ``interrupt``."""

    sample_rate = 24000

    def __init__(self, path: Path) -> None:
        self.path = path
        self.audio = bytearray()

    async def add_new_bytes(self, audio_data: bytes) -> None:
        self.audio += audio_data

    def interrupt(self) -> None:
        self.audio.clear()

    def save(self) -> None:
        with wave.open(str(self.path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(self.sample_rate)
            out.writeframes(bytes(self.audio))


def real_speech() -> bool:
    """True when the emulator's ``speech`` extra (espeak-ng, pocketsphinx) is installed."""
    return all(importlib.util.find_spec(m) for m in ("espeakng_loader", "pocketsphinx"))


async def llm_tokens() -> AsyncIterator[str | FlushMarker]:
    for token in REPLY:
        yield token
    yield FlushMarker()  # the pipeline ends every turn with one


async def speak_and_transcribe(
    out_dir: Path, base_url: str | None, api_key: str | None, sound: str
) -> None:
    tts = SmallestAITTS(api_key=api_key, base_url=base_url, word_timestamps=True)
    track = WavTrack(out_dir / "reply.wav")
    tts.loop = asyncio.get_running_loop()
    tts.audio_track = track
    tts.on("error", lambda message: print("TTS error:", message))
    expected = len(TEXT.split())
    spoken: list[str] = []
    all_spoken = asyncio.Event()

    def on_word(data: dict[str, str]) -> None:
        spoken.append(data["word"])
        print(f"  spoken: {data['cumulative_text']}")
        if len(spoken) >= expected:
            all_spoken.set()

    tts.on("word_spoken", on_word)
    started = time.monotonic()
    try:
        await asyncio.wait_for(tts.synthesize(llm_tokens()), 30)
        seconds = len(track.audio) / 2 / track.sample_rate
        print(f"TTS: {seconds:.2f} s of audio in {time.monotonic() - started:.2f} s; playing it")
        # word_spoken fires as each word plays on the track (real time): wait for the last one
        # before closing, as an agent does when it lets its turn finish.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_spoken.wait(), seconds + PLAYBACK_MARGIN_S)
    finally:
        await tts.aclose()
    track.save()
    print(f"{len(spoken)} of {expected} words announced; {track.path}: {seconds:.2f} s of {sound}")
    if len(spoken) != expected:
        raise SystemExit(f"only {len(spoken)} of {expected} word_spoken events arrived")

    audio_format.publish(track.sample_rate, 1)  # what the room's input stream reports
    stt = SmallestAISTT(api_key=api_key, base_url=base_url, sample_rate=24000)

    last_interim = ""

    async def on_transcript(response: STTResponse) -> None:
        nonlocal last_interim
        if response.event_type.value == "interim_transcript":
            if response.data.text == last_interim:
                return
            last_interim = response.data.text
        print(f"STT {response.event_type.value}: {response.data.text!r}")

    stt.on_stt_transcript(on_transcript)
    stt.on("error", lambda message: print("STT error:", message))
    pcm = bytes(track.audio) + b"\x00\x00" * track.sample_rate  # 1 s of trailing silence
    frame = track.sample_rate // 50 * 2
    for i in range(0, len(pcm), frame):
        await stt.process_audio(pcm[i : i + frame])
    await stt.aclose()


async def run_meeting(room_id: str) -> None:
    from videosdk.agents import Agent, AgentSession, JobContext, Pipeline, RoomOptions

    class EchoAgent(Agent):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(instructions="Repeat what the caller says.")

        async def on_enter(self) -> None:
            await self.session.say("Hello! Say something and I will repeat it.")

        async def on_exit(self) -> None:
            await self.session.say("Goodbye!")

    pipeline = Pipeline(stt=SmallestAISTT(), tts=SmallestAITTS())
    session = AgentSession(agent=EchoAgent(), pipeline=pipeline)

    pending: set[asyncio.Future[Any]] = set()

    def _echo(data: Any) -> None:
        text = data.get("text", "") if isinstance(data, dict) else str(data)
        if text:
            future = asyncio.ensure_future(session.say(text))
            pending.add(future)
            future.add_done_callback(pending.discard)

    pipeline.on("transcript_ready", _echo)

    context = JobContext(room_options=RoomOptions(room_id=room_id, name="Smallest AI agent"))
    await context.connect()
    await session.start()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.Event().wait()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meeting", help="VideoSDK room id (needs VIDEOSDK_AUTH_TOKEN)")
    parser.add_argument("--out", default="demo-out", help="where reply.wav goes")
    args = parser.parse_args()
    out_dir = Path(args.out)
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    online = bool(os.environ.get("SMALLEST_API_KEY")) and not os.environ.get("SMALLEST_BASE_URL")
    if args.meeting:
        if not online:
            raise SystemExit("--meeting needs SMALLEST_API_KEY (and no SMALLEST_BASE_URL)")
        await run_meeting(args.meeting)
    elif online:
        print("Using the Smallest AI API")
        await speak_and_transcribe(out_dir, None, None, "Lightning speech")
    else:
        from smallest_emulator import Emulator, EmulatorConfig

        config = EmulatorConfig(complete_backoff_ms=0, speed=4.0)
        sound = "the emulator's test tone, not speech"
        if real_speech():
            # espeak-ng speaks; pocketsphinx listens for the reply (a one-phrase grammar).
            config = config.copy(engine="espeak", stt_engine="pocketsphinx", transcript=(TEXT,))
            sound = "espeak-ng speech"
            print(
                "Offline: in-process emulator speaking with espeak-ng, listening with pocketsphinx"
            )
        else:
            print(
                "Offline: in-process emulator without its speech extra - reply.wav will hold its\n"
                "test tone (a loud 12 kHz buzz that encodes the text), not speech; for real\n"
                "speech: pip install 'smallest-emulator[speech]'"
            )
        async with Emulator(config) as emu:
            await speak_and_transcribe(out_dir, emu.base_url, "sk_local", sound)


if __name__ == "__main__":
    asyncio.run(main())
