"""VideoSDK: smallest_videosdk.SmallestAITTS vs videosdk.plugins.smallestai.SmallestAITTS.

The pipeline sets ``tts.loop`` and ``tts.audio_track``; here the track is a recorder with
VideoSDK's contract (async ``add_new_bytes``, sync ``interrupt``) that timestamps each push.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from common import RATE, STALE_WINDOW_S, VOICE, Turn, now, playback

from drivers.base import TTSDriver


class RecordingTrack:
    """VideoSDK's 24 kHz agent track, recording instead of playing."""

    sample_rate = RATE

    def __init__(self) -> None:
        self.turn = Turn()

    async def add_new_bytes(self, audio_data: bytes) -> None:
        self.turn.add(bytes(audio_data))

    def interrupt(self) -> None:
        pass


class _VideoSDKTTS(TTSDriver):
    framework = "videosdk"

    def _make(self) -> Any:
        raise NotImplementedError

    async def __aenter__(self) -> _VideoSDKTTS:
        self.engine = self._make()
        self.track = RecordingTrack()
        self.engine.loop = asyncio.get_running_loop()
        self.engine.audio_track = self.track
        self.engine.on("word_spoken", self._on_word)
        return self

    def _on_word(self, payload: dict[str, Any]) -> None:
        self.track.turn.word_times.append((str(payload.get("word", "")), now()))

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.engine.aclose()

    async def _text(self, tokens: list[str], gap_s: float, turn: Turn) -> AsyncIterator[Any]:
        from videosdk.agents import FlushMarker

        turn.started = now()
        for i, tok in enumerate(tokens):
            if i and gap_s:
                await asyncio.sleep(gap_s)
            yield tok
        yield FlushMarker()  # the pipeline ends every turn with one

    async def turn(self, tokens: list[str], gap_s: float = 0.0) -> Turn:
        turn = self.track.turn = Turn()
        self.engine.reset_first_audio_tracking()
        await self.engine.synthesize(self._text(tokens, gap_s, turn))
        if self.words and turn.pushes:  # words are spoken at playback time: wait for them
            _, end, _ = playback(turn.pushes)
            await asyncio.sleep(max(0.0, end - now()) + 0.05)
        return turn

    async def barge(self, tokens: list[str], cut_after_bytes: int) -> tuple[Turn, float, float]:
        turn = self.track.turn = Turn()
        self.engine.reset_first_audio_tracking()
        reached = asyncio.Event()
        add = self.track.add_new_bytes

        async def watch(data: bytes) -> None:
            await add(data)
            if len(turn.audio) >= cut_after_bytes:
                reached.set()

        self.track.add_new_bytes = watch  # type: ignore[method-assign]
        task = asyncio.ensure_future(self.engine.synthesize(self._text(tokens, 0.0, turn)))
        try:
            await asyncio.wait_for(reached.wait(), 30)
            cut = now()
            await self.engine.interrupt()
            returned = now()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 15)
            await asyncio.sleep(STALE_WINDOW_S)  # anything stale arrives now
        finally:
            self.track.add_new_bytes = add  # type: ignore[method-assign]
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        return turn, cut, returned


class Ours(_VideoSDKTTS):
    impl = "ours"

    def _make(self) -> Any:
        from smallest_videosdk import SmallestAITTS

        return SmallestAITTS(
            api_key=self.api_key,
            base_url=self.base_url,
            voice_id=VOICE,
            sample_rate=RATE,
            word_timestamps=self.words,
        )


class Official(_VideoSDKTTS):
    impl = "official"
    words_reason = "the official plugin emits no word timestamps"

    def _make(self) -> Any:
        from videosdk.plugins.smallestai import SmallestAITTS

        return SmallestAITTS(
            api_key=self.api_key,
            base_url=f"{self.base_url}/waves/v1",
            voice_id=VOICE,
            sample_rate=RATE,
        )
