"""LiveKit Agents: ``smallest_livekit.TTS.stream()`` played into ``smallest_livekit.STT.stream()``.

This is what an ``AgentSession`` does with the plugins: push LLM tokens into a TTS stream and
play its ``SynthesizedAudio`` frames; push room audio frames into an STT stream and read its
``SpeechEvent``s. Here the agent's audio is what the STT hears, frame by frame as it plays.
"""

from __future__ import annotations

import asyncio

from livekit import rtc
from livekit.agents import stt, utils
from livekit.agents.types import USERDATA_TIMED_TRANSCRIPT
from playback import playing
from replies import token_stream
from turn import Log, Turn, Word

from smallest_livekit import STT, TTS

LAST_FINAL_TIMEOUT_S = 15.0


async def run(turn: Turn, base_url: str | None, api_key: str | None, log: Log) -> None:
    """Speak ``turn.reply`` into the STT as it plays, recording everything in ``turn``."""
    async with utils.http_context.open():
        engine = TTS(
            api_key=api_key, base_url=base_url, sample_rate=turn.sample_rate, word_timestamps=True
        )
        listener = STT(api_key=api_key, base_url=base_url)
        stream = listener.stream()
        reader = asyncio.create_task(_read(stream, turn, log))
        try:

            async def send(frame: bytes) -> None:
                stream.push_frame(rtc.AudioFrame(frame, turn.sample_rate, 1, len(frame) // 2))

            async with playing(turn, send, log):
                await _speak(engine, turn, log)
            stream.end_input()
            await asyncio.wait_for(reader, LAST_FINAL_TIMEOUT_S)
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            await stream.aclose()
            await engine.aclose()
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
        except BaseException:
            feeder.cancel()
            await asyncio.gather(feeder, return_exceptions=True)
            raise
        await feeder
    turn.mark("end of context")
    log(f"all audio received: {turn.audio_seconds:.2f} s, {len(turn.words)} timed words")


async def _read(stream: stt.RecognizeStream, turn: Turn, log: Log) -> None:
    async for event in stream:
        if event.type is stt.SpeechEventType.FINAL_TRANSCRIPT and event.alternatives:
            turn.final(event.alternatives[0].text)
            log(f"STT final: {event.alternatives[0].text!r}")
