"""LiveKit Agents: smallest_livekit.TTS vs livekit.plugins.smallestai.TTS (same stream API)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
from common import RATE, VOICE, Turn, bare_tts_url, now

from drivers.base import TTSDriver, feed

_TIMED = "lk.timed_transcripts"


class _LiveKitTTS(TTSDriver):
    framework = "livekit"

    def _make(self) -> Any:
        raise NotImplementedError

    async def __aenter__(self) -> _LiveKitTTS:
        from livekit.agents import utils

        self._http = utils.http_context.open()
        await self._http.__aenter__()
        # One session per instance, as one agent job has: the job context's shared session
        # allows 50 connections per host, which would cap the concurrency scenario at 50.
        self.session = aiohttp.ClientSession()
        self.engine = self._make()
        return self

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.engine.aclose()
        await self.session.close()
        await self._http.__aexit__(None, None, None)

    @staticmethod
    def _record(ev: Any, turn: Turn) -> None:
        frame = ev.frame
        data = frame.data.tobytes()
        # LiveKit closes a segment with a synthetic 10 ms silent frame: not server audio.
        marker = frame.samples_per_channel == frame.sample_rate // 100 and not any(data)
        if not (ev.is_final and marker):
            turn.add(data)
        for w in frame.userdata.get(_TIMED, []) or []:
            start = getattr(w, "start_time", None)
            if isinstance(start, (int, float)):
                turn.words.append((str(w), float(start)))
                turn.word_times.append((str(w), now()))

    async def turn(self, tokens: list[str], gap_s: float = 0.0) -> Turn:
        turn = Turn()
        stream = self.engine.stream()
        task = asyncio.ensure_future(feed(stream.push_text, stream.end_input, tokens, gap_s, turn))
        try:
            async for ev in stream:
                self._record(ev, turn)
        finally:
            await task
            await stream.aclose()
        return turn

    async def barge(self, tokens: list[str], cut_after_bytes: int) -> tuple[Turn, float, float]:
        turn = Turn()
        stream = self.engine.stream()
        await feed(stream.push_text, stream.end_input, tokens, 0.0, turn)
        cut = returned = 0.0
        async for ev in stream:
            self._record(ev, turn)
            if len(turn.audio) >= cut_after_bytes:
                cut = now()
                await stream.aclose()  # what the agent does on barge-in
                returned = now()
                break
        return turn, cut, returned


class Ours(_LiveKitTTS):
    impl = "ours"

    def _make(self) -> Any:
        from smallest_livekit import TTS

        return TTS(
            api_key=self.api_key,
            base_url=self.base_url,
            voice_id=VOICE,
            sample_rate=RATE,
            word_timestamps=self.words,
            http_session=self.session,
        )


class Official(_LiveKitTTS):
    impl = "official"

    def _make(self) -> Any:
        from livekit.plugins.smallestai import TTS

        return TTS(
            api_key=self.api_key,
            model="lightning_v3.1",
            voice_id=VOICE,
            sample_rate=RATE,
            word_timestamps=self.words,
            base_url=f"{self.base_url}/waves/v1",
            ws_url=bare_tts_url(self.base_url),
            http_session=self.session,
        )

    async def warm(self) -> None:
        """The official plugin reconnects in the background after a turn (a socket per
        turn): let that finish too, so the measured turn starts on a warm socket."""
        await super().warm()
        await asyncio.sleep(0.3)
