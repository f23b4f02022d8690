"""Pulse frames in: transcripts (with Pulse 2's turn outputs), server VAD events and
errors; the audio a final covers is released from the resend buffer."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from loguru import logger
from pipecat.frames.frames import (
    InterimTranscriptionFrame,
    ProposedUserStoppedSpeakingFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.utils.time import time_now_iso8601
from pipecat.utils.types import is_given
from websockets.exceptions import ConnectionClosed

from smallest_core import (
    MAX_FRAME_BYTES,
    DeadlineMissed,
    ErrorKind,
    SmallestError,
    SpeechEnded,
    SpeechStarted,
    STTError,
    STTIgnored,
    STTStreamState,
    Transcript,
    connection_error,
    ends_turn,
    redact,
)
from smallest_pipecat._replay import ReplayBuffer
from smallest_pipecat.errors import error_frame
from smallest_pipecat.languages import language_from_code
from smallest_pipecat.settings import SmallestSTTSettings

if TYPE_CHECKING:
    from pipecat.services.stt_service import WebsocketSTTService as _Base
else:
    _Base = object

_TOO_BIG = 1009


class TranscriptReceiver(_Base):
    """The receiving half of :class:`~smallest_pipecat.SmallestSTTService`."""

    _settings: SmallestSTTSettings
    _state: STTStreamState | None
    _replay: ReplayBuffer | None
    _failures: int
    _finalize_marks: list[int]
    _last_transcript: asyncio.Event

    async def _report(self, error: SmallestError, prefix: str) -> None:
        frame = error_frame(error, prefix)
        await self._call_event_handler("on_connection_error", frame.error)
        await self.push_error_frame(frame)

    async def _receive_messages(self) -> None:
        """Pipecat's reader hook: the supervisor calls :meth:`_receive_until_closed`."""
        await self._receive_until_closed()

    async def _receive_until_closed(self) -> SmallestError | None:
        """Read the socket until it closes: ``None`` if that was asked for, else the
        reason (reported here once: a server error frame, or the drop itself)."""
        ws, state = self._websocket, self._state
        if ws is None or state is None:
            return None
        reported: SmallestError | None = None
        closed: ConnectionClosed | None = None
        try:
            while True:
                state.receive(await ws.recv())
                error = await self._dispatch()
                if error is not None:
                    reported = error
        except ConnectionClosed as exc:
            closed = exc
        if self._websocket is ws:
            self._websocket = None
            await self._call_event_handler("on_disconnected")
        if self._disconnecting or state.finished:
            return None
        if reported is not None:
            return reported
        error = _drop_error(closed)
        await self._report(error, "Smallest STT connection lost")
        return error

    async def _dispatch(self) -> SmallestError | None:
        """Drain the core's events and handle each, in order: the one handler of both
        the reader (after ``receive``) and the timers (after ``poll``). Returns the
        server's error, if one of the events was."""
        state = self._state
        if state is None:
            return None
        server_error: SmallestError | None = None
        for event in state.events():
            if isinstance(event, Transcript):
                await self._on_transcript(event)
            elif isinstance(event, SpeechStarted | SpeechEnded):
                await self._on_vad(event)
            elif isinstance(event, STTError):
                server_error = event.error
                await self.push_error_frame(error_frame(event.error, "Smallest STT error"))
            elif isinstance(event, STTIgnored):
                logger.debug(f"{self} ignored a server frame: {redact(event.reason)}")
            elif isinstance(event, DeadlineMissed):
                # A deadline the server missed: one ErrorFrame; the stream goes on.
                await self.push_error_frame(error_frame(event.error, "Smallest STT timed out"))
        return server_error

    @property
    def _model(self) -> str:
        model = self._settings.model
        return str(model) if is_given(model) and model else "pulse"

    async def _on_transcript(self, event: Transcript) -> None:
        language = language_from_code(event.language) or language_from_code(
            str(self._settings.language)
        )
        text = event.text.strip()
        if event.is_final:
            self._failures = 0
            self._release(event)
            if event.from_finalize:
                self.confirm_finalize()  # type: ignore[no-untyped-call]
            end_of_turn = ends_turn(event, self._model)  # Pulse 2's own, as the core rules
            if text:
                frame = TranscriptionFrame(
                    text, self._user_id, time_now_iso8601(), language, result=event
                )
                frame.metadata.update(event.metadata())
                if end_of_turn:
                    frame.finalized = True
                await self.push_frame(frame)
            elif event.from_finalize:
                await self.stop_ttfb_metrics()
            if end_of_turn:
                # Pulse 2 decided the turn is over: propose the stop to the turn strategies.
                await self.broadcast_frame(ProposedUserStoppedSpeakingFrame)
                await self._call_event_handler("on_end_of_turn", text)
            if event.is_last:
                self._last_transcript.set()
        elif text:
            await self.push_frame(
                InterimTranscriptionFrame(
                    text, self._user_id, time_now_iso8601(), language, result=event
                )
            )

    def _release(self, final: Transcript) -> None:
        """The audio a final covers is never sent again."""
        if self._replay is None:
            return
        if final.from_finalize and self._finalize_marks:
            self._replay.release_to(self._finalize_marks.pop(0))
        else:
            self._replay.release_sent()

    async def _on_vad(self, event: SpeechStarted | SpeechEnded) -> None:
        # Only when asked for: the pipeline's own VAD usually owns turn-taking.
        if self._settings.vad_events is not True:
            return
        if isinstance(event, SpeechStarted):
            await self.broadcast_frame(VADUserStartedSpeakingFrame)
        else:
            await self.broadcast_frame(VADUserStoppedSpeakingFrame)


def _drop_error(closed: ConnectionClosed | None) -> SmallestError:
    """Why a socket closed that was meant to stay open."""
    sent = closed.sent if closed is not None else None
    if sent is not None and sent.code == _TOO_BIG:
        return SmallestError(
            f"the server sent a frame over the {MAX_FRAME_BYTES // 2**20} MiB limit",
            kind=ErrorKind.PROTOCOL,
            code=str(_TOO_BIG),
        )
    rcvd = closed.rcvd if closed is not None else None
    code = rcvd.code if rcvd is not None else None
    reason = f": {rcvd.reason}" if rcvd is not None and rcvd.reason else ""
    return connection_error(f"the socket closed mid-stream{reason}", close_code=code)
