"""Pipecat: smallest_pipecat.SmallestTTSService vs pipecat.services.smallest.tts."""

from __future__ import annotations

import asyncio
from typing import Any

from common import RATE, STALE_WINDOW_S, VOICE, Turn, now
from pipecat.frames.frames import (
    InterruptionFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    TTSStoppedFrame,
    TTSTextFrame,
)
from pipecat_pipeline import Harness

from drivers.base import TTSDriver


class _PipecatTTS(TTSDriver):
    framework = "pipecat"

    def _make(self) -> Any:
        raise NotImplementedError

    async def __aenter__(self) -> _PipecatTTS:
        self.service = self._make()
        self.h = Harness(self.service, out_rate=RATE, upstream=False)
        await self.h.__aenter__()
        return self

    async def close(self) -> None:
        await self.h.__aexit__(None, None, None)

    def _turns(self, start: int) -> dict[str, Turn]:
        """Frames since ``start`` grouped by audio context, in order of first appearance."""
        turns: dict[str, Turn] = {}
        for seen in self.h.down.seen[start:]:
            t, f = seen.at, seen.frame
            cid = getattr(f, "context_id", None)
            if isinstance(f, TTSAudioRawFrame) and cid:
                turn = turns.setdefault(cid, Turn())
                turn.pushes.append((t, len(f.audio)))
                turn.audio += f.audio
            elif isinstance(f, TTSTextFrame) and cid and f.pts is not None:
                # a word may come before its context's first audio
                turns.setdefault(cid, Turn()).words.append((f.text, f.pts / 1e9))
        return turns

    def _stopped(self, start: int) -> int:
        return len(self.h.down.of(TTSStoppedFrame, start))

    async def turn(self, tokens: list[str], gap_s: float = 0.0) -> Turn:
        start = len(self.h.down.seen)
        t0 = now()
        await self.h.send(LLMFullResponseStartFrame())
        for i, tok in enumerate(tokens):
            if i and gap_s:
                await asyncio.sleep(gap_s)
            await self.h.send(LLMTextFrame(tok))
        await self.h.send(LLMFullResponseEndFrame())
        await self.h.wait_for(lambda: self._stopped(start) >= 1)
        turns = [t for t in self._turns(start).values() if t.pushes]
        turn = turns[0] if turns else Turn()
        turn.started = t0
        return turn

    async def pair(self, first: str, second: str) -> list[Turn]:
        start = len(self.h.down.seen)
        t0 = now()
        await self.h.send(TTSSpeakFrame(first), TTSSpeakFrame(second))
        await self.h.wait_for(lambda: self._stopped(start) >= 2)
        turns = [t for t in self._turns(start).values() if t.pushes]
        for t in turns:
            t.started = t0
        return turns

    async def barge(self, tokens: list[str], cut_after_bytes: int) -> tuple[Turn, float, float]:
        start = len(self.h.down.seen)
        t0 = now()
        await self.h.send(TTSSpeakFrame("".join(tokens)))

        await self.h.wait_for(lambda: self.h.down.audio_bytes_since(start) >= cut_after_bytes)
        cut = now()
        await self.h.send(InterruptionFrame())
        returned = now()
        await self.h.wait_for(lambda: bool(self.h.down.of(InterruptionFrame, start)))
        await asyncio.sleep(STALE_WINDOW_S)  # anything stale arrives now
        turns = list(self._turns(start).values())
        turn = turns[0]
        turn.started = t0
        return turn, cut, returned


class Ours(_PipecatTTS):
    impl = "ours"

    def _make(self) -> Any:
        from pipecat.transcriptions.language import Language

        from smallest_pipecat import SmallestTTSService

        return SmallestTTSService(
            api_key=self.api_key,
            base_url=self.base_url,
            sample_rate=RATE,
            word_timestamps=self.words,
            settings=SmallestTTSService.Settings(
                voice=VOICE, model="lightning_v3.1", language=Language.EN
            ),
        )


class Official(_PipecatTTS):
    impl = "official"

    def _make(self) -> Any:
        from pipecat.services.smallest.tts import SmallestTTSService
        from pipecat.transcriptions.language import Language

        return SmallestTTSService(
            api_key=self.api_key,
            base_url=self.base_url.replace("http://", "ws://", 1),
            sample_rate=RATE,
            word_timestamps=self.words,
            settings=SmallestTTSService.Settings(
                voice=VOICE, model="lightning_v3.1", language=Language.EN
            ),
        )
