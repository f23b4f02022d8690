"""VideoSDK Agents: ``SmallestAITTS.synthesize()`` onto a track played into ``SmallestAISTT``.

This is what a VideoSDK ``Pipeline`` does with the plugins: hand the LLM's text stream (ended by a
``FlushMarker``) to the TTS, which pushes audio to the agent's track and emits ``word_spoken`` as
each word plays; feed room audio to the STT's ``process_audio`` and receive ``STTResponse``s.
Here the track's audio is what the STT hears, as it plays. ``error`` events fail the turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from playback import playing
from replies import token_stream
from turn import Log, Turn, Word
from videosdk.agents import FlushMarker, STTResponse, audio_format

from smallest_videosdk import SmallestAISTT, SmallestAITTS


class RecordingTrack:
    """The agent's 24 kHz output track, recorded, with the same real-time playback clock.

    Each push plays after the audio already queued (or now, if that has run out), so a
    ``word_spoken`` event's wall time maps back to a position in the audio.
    """

    sample_rate = 24000

    def __init__(self, turn: Turn, log: Log) -> None:
        self.turn = turn
        self.log = log
        self.spans: list[tuple[int, float]] = []  # (first sample, wall time it plays)
        self.samples = 0
        self.play_end = 0.0

    async def add_new_bytes(self, audio_data: bytes) -> None:
        start = max(self.play_end, self.turn.now())
        self.spans.append((self.samples, start))
        self.samples += len(audio_data) // 2
        self.play_end = start + len(audio_data) / 2 / self.sample_rate
        if not self.turn.pcm and audio_data:
            self.log(f"first audio {self.turn.now() * 1000:.0f} ms after the first token")
        self.turn.audio(audio_data)

    def interrupt(self) -> None:
        """Nothing to stop: the demo never barges in."""

    def seconds_at(self, wall: float) -> float:
        """Position in the audio (seconds) that plays at ``wall`` (turn time)."""
        first, start = self.spans[0]
        for sample, played in self.spans:
            if played <= wall:
                first, start = sample, played
        return first / self.sample_rate + (wall - start)


async def run(turn: Turn, base_url: str | None, api_key: str | None, log: Log) -> None:
    """Speak ``turn.reply`` into the STT as it plays, recording everything in ``turn``."""
    turn.sample_rate = RecordingTrack.sample_rate
    audio_format.publish(turn.sample_rate, 1)  # what the room's input stream reports
    stt = SmallestAISTT(api_key=api_key, base_url=base_url)

    async def on_transcript(response: STTResponse) -> None:
        if response.event_type.value == "final_transcript":
            turn.final(response.data.text)
            log(f"STT final: {response.data.text!r}")

    stt.on_stt_transcript(on_transcript)
    stt.on("error", lambda message: _failed(turn, log, "STT", message))
    try:
        async with playing(turn, stt.process_audio, log):
            await _speak(turn, base_url, api_key, log)
    finally:
        await stt.aclose()  # close_stream: the last final is delivered before this returns
    turn.raise_errors()


def _failed(turn: Turn, log: Log, what: str, message: object) -> None:
    turn.error(f"{what}: {message}")
    log(f"{what} error: {turn.errors[-1]}")


async def _speak(turn: Turn, base_url: str | None, api_key: str | None, log: Log) -> None:
    tts = SmallestAITTS(api_key=api_key, base_url=base_url, word_timestamps=True)
    track = RecordingTrack(turn, log)
    tts.loop = asyncio.get_running_loop()
    tts.audio_track = track
    expected = len(turn.reply.split())
    all_spoken = asyncio.Event()

    def on_word(data: dict[str, str]) -> None:
        turn.words.append(Word(data["word"], track.seconds_at(turn.now())))
        if len(turn.words) >= expected:
            all_spoken.set()

    tts.on("word_spoken", on_word)
    tts.on("error", lambda message: _failed(turn, log, "TTS", message))

    async def llm() -> AsyncIterator[str | FlushMarker]:
        async for token in token_stream(turn.reply):
            turn.token()
            yield token
        yield FlushMarker()  # the pipeline ends every turn with one

    try:
        await asyncio.wait_for(tts.synthesize(llm()), 60)
        turn.raise_errors()
        turn.mark("end of context")
        log(f"all audio received: {turn.audio_seconds:.2f} s on the track")
        # word_spoken follows playback in real time: wait for the last word to be heard.
        playing_for = max(0.0, track.play_end - turn.now())
        try:
            await asyncio.wait_for(all_spoken.wait(), playing_for + 2)
        except TimeoutError:
            log(f"only {len(turn.words)} of {expected} words were announced")
    finally:
        await tts.aclose()
    log(f"{len(turn.words)} words announced (word_spoken events, as each was heard)")
