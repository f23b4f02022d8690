"""Lightning v4 frames in: each turn's audio to its Pipecat context, turn ends and
failures, a silent server timed out; and the commands out."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from loguru import logger
from pipecat.frames.frames import ErrorFrame, TTSAudioRawFrame

from smallest_core import (
    LightningV4Event,
    LightningV4Session,
    SessionFailed,
    SessionNotice,
    SessionReady,
    SmallestError,
    TurnAudio,
    TurnEnded,
    TurnFailed,
    redact,
)
from smallest_pipecat._resample import PcmResampler
from smallest_pipecat._socket_service import SocketService
from smallest_pipecat.errors import error_frame


@dataclass
class V4Context:
    """The v4 turns of one Pipecat audio context."""

    turns: set[str] = field(default_factory=set)
    flushed: bool = False
    resampler: PcmResampler | None = None


class V4Receiver(SocketService[LightningV4Session]):
    """The socket side of :class:`~smallest_pipecat.SmallestLightningV4TTSService`."""

    _reported: LightningV4Session | None
    _contexts: dict[str, V4Context]
    _turn_context: dict[str, str]
    _failed_contexts: set[str]
    _heard_at: float
    _response_timeout_s: float

    async def _on_frame(self, session: LightningV4Session, data: str | bytes, now: float) -> None:
        self._heard_at = now
        session.receive(data)
        await self._handle_events(session, session.events())
        await self._send_queued(session)

    async def _on_deadline(self, session: LightningV4Session, now: float) -> float | None:
        """The server may stay silent ``response_timeout_s`` while it owes a turn audio."""
        if not session.busy:
            return None
        due = self._heard_at + self._response_timeout_s
        if now < due:
            return due
        await self._stop_reading(f"no answer from the server within {self._response_timeout_s:g} s")
        return None

    def _owe_audio(self, was_busy: bool) -> None:
        """A turn was queued: the server's silence counts from now if it owed nothing."""
        if not was_busy:
            self._heard_at = time.monotonic()
        self._wake_by(self._heard_at + self._response_timeout_s)

    async def _socket_lost(
        self, session: LightningV4Session, code: int | None, reason: str
    ) -> None:
        session.connection_lost(code, reason)
        await self._handle_events(session, session.events())

    async def _handle_events(
        self, session: LightningV4Session, events: list[LightningV4Event]
    ) -> None:
        for event in events:
            if isinstance(event, TurnAudio):
                await self._on_audio(event)
            elif isinstance(event, TurnEnded):
                await self._turn_over(event.turn_id)
            elif isinstance(event, TurnFailed):
                if await self._turn_failed(event):
                    self._reported = session
            elif isinstance(event, SessionFailed):
                if self._reported is not session:
                    await self.push_error_frame(self._error_frame(event.error))
                self._reported = session  # one report per session
            elif isinstance(event, SessionNotice):
                logger.warning(f"{self} {redact(event.message)}")
            elif isinstance(event, SessionReady):
                logger.debug(f"{self} Lightning v4 session ready at {event.sample_rate} Hz")

    async def _on_audio(self, event: TurnAudio) -> None:
        context_id = self._turn_context.get(event.turn_id)
        ctx = self._contexts.get(context_id or "")
        if context_id is None or ctx is None:
            return
        audio = ctx.resampler.process(event.audio) if ctx.resampler else event.audio
        if audio:
            frame = TTSAudioRawFrame(audio, self.sample_rate, 1, context_id=context_id)
            await self.append_to_audio_context(context_id, frame)

    async def _turn_over(self, turn_id: str) -> None:
        context_id = self._turn_context.pop(turn_id, None)
        ctx = self._contexts.get(context_id or "")
        if context_id is None or ctx is None:
            return
        ctx.turns.discard(turn_id)
        if ctx.flushed and not ctx.turns:
            await self._finish(context_id)

    async def _turn_failed(self, event: TurnFailed) -> bool:
        """Report a failed turn in its context (once per context); True if reported."""
        context_id = self._turn_context.get(event.turn_id)
        if context_id is None or context_id not in self._contexts:
            return False
        if context_id not in self._failed_contexts:
            self._failed_contexts.add(context_id)
            await self.append_to_audio_context(context_id, self._error_frame(event.error))
        await self._turn_over(event.turn_id)
        return True

    async def _finish(self, context_id: str) -> None:
        ctx = self._contexts.pop(context_id, None)
        if ctx is not None and ctx.resampler is not None:
            tail = ctx.resampler.flush()
            if tail:
                frame = TTSAudioRawFrame(tail, self.sample_rate, 1, context_id=context_id)
                await self.append_to_audio_context(context_id, frame)
        await self.remove_audio_context(context_id)

    @staticmethod
    def _error_frame(error: SmallestError) -> ErrorFrame:
        """The core's error (a ``model_access_denied`` already says how to get access)."""
        return error_frame(error, "Smallest Lightning v4 error")
