"""Lightning v4 frames in: each turn's audio to its Pipecat context, turn ends and
failures, a silent server timed out; and the commands out."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from loguru import logger
from pipecat.frames.frames import ErrorFrame, TTSAudioRawFrame
from websockets.exceptions import ConnectionClosed, WebSocketException

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
from smallest_pipecat.errors import error_frame

if TYPE_CHECKING:
    from pipecat.services.tts_service import WebsocketTTSService as _Base
else:
    _Base = object

_ACCESS_HINT = "Lightning v4 is in beta and enabled per account; SmallestTTSService works meanwhile"


@dataclass
class V4Context:
    """The v4 turns of one Pipecat audio context."""

    turns: set[str] = field(default_factory=set)
    flushed: bool = False
    resampler: PcmResampler | None = None


class V4Receiver(_Base):
    """The socket side of :class:`~smallest_pipecat.SmallestLightningV4TTSService`."""

    _session: LightningV4Session | None
    _reported: LightningV4Session | None
    _contexts: dict[str, V4Context]
    _turn_context: dict[str, str]
    _failed_contexts: set[str]
    _socket_ready: asyncio.Event
    _recv_timeout: asyncio.Timeout | None
    _response_timeout_s: float

    async def _send_out(self, session: LightningV4Session) -> None:
        ws = self._websocket
        messages = session.data_to_send()
        if not messages or ws is None or session is not self._session:
            return
        try:
            for message in messages:
                await ws.send(message)
        except (OSError, WebSocketException) as exc:
            logger.debug(f"{self} send failed: {redact(str(exc))}")  # the reader sees the close

    async def _receive_loop(self) -> None:
        while True:
            await self._socket_ready.wait()
            await self._receive_messages()

    async def _receive_messages(self) -> None:
        """Read the current socket until it closes or goes silent while owing audio."""
        ws, session = self._websocket, self._session
        if ws is None or session is None:
            self._socket_ready.clear()
            return
        code: int | None = None
        reason = ""
        loop = asyncio.get_running_loop()
        while True:
            deadline = loop.time() + self._response_timeout_s if session.busy else None
            try:
                async with asyncio.timeout_at(deadline) as timeout:
                    self._recv_timeout = timeout
                    message = await ws.recv()
            except TimeoutError:
                reason = f"no answer from the server within {self._response_timeout_s:g} s"
                with contextlib.suppress(OSError, WebSocketException):
                    await ws.close()
                break
            except ConnectionClosed as exc:
                if exc.rcvd is not None:
                    code, reason = exc.rcvd.code, exc.rcvd.reason
                break
            finally:
                self._recv_timeout = None
            session.receive(message)
            await self._handle_events(session, session.events())
            await self._send_out(session)
        if self._websocket is ws:
            self._websocket, self._session = None, None
            self._socket_ready.clear()
            await self._call_event_handler("on_disconnected")
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
        if error.code == "model_access_denied":
            error = SmallestError(
                f"{error.message} ({_ACCESS_HINT})",
                kind=error.kind,
                code=error.code,
                status_code=error.status_code,
            )
        return error_frame(error, "Smallest Lightning v4 error")
