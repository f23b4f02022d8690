"""LiveKit Agents: ``smallest_livekit.TTS.stream()`` then ``smallest_livekit.STT.stream()``.

This is what an ``AgentSession`` does with the plugins: push LLM tokens into a TTS stream and
play its ``SynthesizedAudio`` frames; push room audio frames into an STT stream and read its
``SpeechEvent``s.
"""

from __future__ import annotations

import asyncio

from livekit import rtc
from livekit.agents import stt, utils
from livekit.agents.types import USERDATA_TIMED_TRANSCRIPT
from replies import token_stream
from turn import Log, Turn, Word

from smallest_livekit import STT, TTS

FRAME_MS = 20


async def run(turn: Turn, base_url: str | None, api_key: str | None, log: Log) -> None:
    """Speak ``turn.reply`` and transcribe it back, recording everything in ``turn``."""
    async with utils.http_context.open():
        engine = TTS(
            api_key=api_key, base_url=base_url, sample_rate=turn.sample_rate, word_timestamps=True
        )
        try:
            await _speak(engine, turn, log)
        finally:
            await engine.aclose()
        listener = STT(api_key=api_key, base_url=base_url)
        try:
            await _listen(listener, turn, log)
        finally:
            await listener.aclose()


async def _speak(engine: TTS, turn: Turn, log: Log) -> None:
    async with engine.stream() as speech:

        async def feed() -> None:
            async for token in token_stream(turn.reply):
                turn.token()
                speech.push_text(token)
            speech.end_input()

        feeder = asyncio.create_task(feed())
        try:
            async for event in speech:
                if not turn.pcm:
                    log(f"first audio {turn.now() * 1000:.0f} ms after the first token")
                turn.audio(event.frame.data.tobytes())
                for word in event.frame.userdata.get(USERDATA_TIMED_TRANSCRIPT, []):
                    turn.words.append(Word(str(word).strip(), float(word.start_time)))
        finally:
            await feeder
    turn.mark("end of context")
    log(f"end of context: {turn.audio_seconds:.2f} s of audio, {len(turn.words)} timed words")


async def _listen(listener: STT, turn: Turn, log: Log) -> None:
    rate = turn.sample_rate
    step = rate * FRAME_MS // 1000 * 2
    audio = bytes(turn.pcm) + b"\0\0" * rate  # one second of silence after the reply
    stream = listener.stream()
    try:
        turn.mark("STT start")
        for i in range(0, len(audio), step):
            chunk = audio[i : i + step]
            stream.push_frame(rtc.AudioFrame(chunk, rate, 1, len(chunk) // 2))
        stream.end_input()
        async for event in stream:
            if event.type is stt.SpeechEventType.FINAL_TRANSCRIPT and event.alternatives:
                turn.final(event.alternatives[0].text)
                log(f"STT final: {event.alternatives[0].text!r}")
    finally:
        await stream.aclose()
