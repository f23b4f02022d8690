"""The response clock of the Lightning socket service: when the server owes a context an
answer is the core's rule (:class:`~smallest_core.ResponseDeadline`); this keeps Pipecat's
quiet timer from cutting such a context, and fails one the server stays silent on.

Its deadlines fold into the reader's one timer with the core's own
(:meth:`ResponseClock._next_wakeup`): a send that makes something owed brings the timer
forward; a frame only pushes a context's deadline later, so it re-arms nothing (the
timer then fires early, finds nothing due and names the next deadline).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smallest_core import (
    ContextState,
    ErrorKind,
    ResponseDeadline,
    SmallestError,
    TTSConnection,
    TTSEvent,
    TTSOptions,
)
from smallest_pipecat._resample import PcmResampler
from smallest_pipecat.errors import error_frame

if TYPE_CHECKING:
    from pipecat.services.tts_service import WebsocketTTSService as _Base
else:
    _Base = object


@dataclass
class ServerContext:
    """A Pipecat audio context as carried by one server context."""

    context_id: str
    core_id: str
    conn: TTSConnection
    options: TTSOptions
    text: str = ""
    closed: bool = False
    replays: int = 0
    resampler: PcmResampler | None = None
    owed: ResponseDeadline | None = None
    """When the server owes this context its next frame (set when the context opens)."""
    text_unstamped: bool = False
    """Text was pushed since the clock last saw a send."""
    close_stamped: bool = False
    """The clock has seen the closing message go out."""
    pending: list[bytes] = field(default_factory=list)
    """Audio parsed but not yet handed to the audio context (see ``_on_audio``)."""
    fragments: list[str] | None = None
    """Sentences sent, each one server release (``None``: no text fallback, see
    ``_on_segments_complete``)."""
    segments: int = 0
    """Releases the server has completed so far."""
    segment_start: int = 0
    """Where the current release starts on the context's timeline (samples)."""


class ResponseClock(_Base):
    """When the server owes a context an answer, and what happens when it never comes."""

    _contexts: dict[str, ServerContext]
    _failed_contexts: set[str]
    _refused_contexts: set[str]
    _next_keepalive: float | None
    _response_timeout_s: float

    if TYPE_CHECKING:

        def _forget(self, ctx: ServerContext) -> None:
            raise NotImplementedError

        async def _handle_events(self, events: list[TTSEvent]) -> None:
            raise NotImplementedError

        def _wake_by(self, when: float) -> None:
            raise NotImplementedError

    def _owed(self, conn: TTSConnection) -> list[tuple[ServerContext, float]]:
        """The contexts on ``conn`` the server owes a frame, with when it is due."""
        pending = conn.next_deadline() or 0.0  # the core's own decision is not silence
        owed = []
        for ctx in self._contexts.values():
            if ctx.conn is conn and ctx.owed is not None:
                due = ctx.owed.due(pending)
                if due is not None:
                    owed.append((ctx, due))
        return owed

    def _start_owing(self, conn: TTSConnection) -> None:
        """Tell each context's clock what just went out on ``conn``."""
        now = time.monotonic()
        for ctx in self._contexts.values():
            if ctx.conn is not conn or ctx.owed is None:
                continue
            state = conn.context_state(ctx.core_id)
            if state not in (ContextState.OPEN, ContextState.CLOSING):
                continue  # held or over: nothing of it is at the server now
            if ctx.text_unstamped:
                ctx.owed.sent(now, closing=False)
                ctx.text_unstamped = False
            if state is ContextState.CLOSING and not ctx.close_stamped:
                ctx.owed.sent(now, closing=True)
                ctx.close_stamped = True
            due = ctx.owed.due()
            if due is None:
                continue
            if self._next_keepalive is None:
                self._next_keepalive = now + self._keepalive_interval()
            self._wake_by(min(due, self._next_keepalive))

    @staticmethod
    def _restart_clock(ctx: ServerContext) -> None:
        """A frame arrived for a context: the server answered what it was sent."""
        if ctx.owed is not None:
            ctx.owed.answered(time.monotonic())

    def _next_wakeup(self, conn: TTSConnection) -> float | None:
        owed = self._owed(conn)
        times = [due for _, due in owed]
        if not owed:
            self._next_keepalive = None
        elif self._next_keepalive is not None:
            times.append(self._next_keepalive)
        deadline = conn.next_deadline()
        if deadline is not None:
            times.append(deadline)
        return min(times) if times else None

    def _keepalive_interval(self) -> float:
        return max(0.05, self._stop_frame_timeout_s / 2)

    def _keep_owed_contexts_alive(self, conn: TTSConnection, now: float) -> None:
        """Pipecat ends an audio context that is quiet for ``stop_frame_timeout_s``; while
        the server owes it audio, the response timeout is what decides instead."""
        if self._next_keepalive is None or now < self._next_keepalive:
            return
        for ctx, _ in self._owed(conn):
            self._refresh_audio_context(ctx.context_id)
        self._next_keepalive = now + self._keepalive_interval()

    async def _fail_silent_contexts(self, conn: TTSConnection, now: float) -> bool:
        """Fail every context the server owes an answer for too long; True if any."""
        limit = self._response_timeout_s
        expired = [ctx for ctx, due in self._owed(conn) if now >= due]
        for ctx in expired:
            self._forget(ctx)
            conn.cancel(ctx.core_id)
            await self._handle_events(conn.events())
            error = SmallestError(
                f"no answer from the server within {limit:g} s", kind=ErrorKind.TIMEOUT
            )
            self._failed_contexts.add(ctx.context_id)
            await self.append_to_audio_context(
                ctx.context_id, error_frame(error, "Smallest TTS timed out")
            )
            if ctx.closed:
                await self.remove_audio_context(ctx.context_id)
            else:
                self._refused_contexts.add(ctx.context_id)  # the turn's rest ends at flush
        return bool(expired)
