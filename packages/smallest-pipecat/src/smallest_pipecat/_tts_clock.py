"""The response clock of the Lightning socket service: it runs only while the server
owes a context an answer, keeps Pipecat's quiet timer from cutting such a context, and
fails a context the server stays silent on for ``response_timeout_s``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smallest_core import (
    ContextState,
    ErrorKind,
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
    unanswered: bool = False
    """Text was pushed and no frame has arrived for it since."""
    owed_since: float | None = None
    """When the server started owing this context an answer (``None``: it owes nothing)."""
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
    _recv_timeout: asyncio.Timeout | None
    _next_keepalive: float | None
    _response_timeout_s: float

    if TYPE_CHECKING:

        def _forget(self, ctx: ServerContext) -> None:
            raise NotImplementedError

        async def _handle_events(self, events: list[TTSEvent]) -> None:
            raise NotImplementedError

    def _owed(self, conn: TTSConnection) -> list[ServerContext]:
        return [c for c in self._contexts.values() if c.conn is conn and c.owed_since is not None]

    def _start_owing(self, conn: TTSConnection) -> None:
        """Start the response clock of contexts the server now owes an answer.

        That is a context whose closing fragment went out, or (with no server-side
        buffering, as in sentence aggregation) one whose latest text is unanswered.
        """
        now = asyncio.get_running_loop().time()
        for ctx in self._contexts.values():
            if ctx.conn is not conn or ctx.owed_since is not None:
                continue
            state = conn.context_state(ctx.core_id)
            eager = ctx.unanswered and ctx.options.max_buffer_delay_ms == 0
            if state is ContextState.CLOSING or (state is ContextState.OPEN and eager):
                ctx.owed_since = now
                if self._next_keepalive is None:
                    self._next_keepalive = now + self._keepalive_interval()
                self._wake_by(min(now + self._response_timeout_s, self._next_keepalive))

    @staticmethod
    def _restart_clock(ctx: ServerContext) -> None:
        """A frame arrived for a context: its clock restarts if it is closing, else stops."""
        ctx.unanswered = False
        ctx.owed_since = asyncio.get_running_loop().time() if ctx.closed else None

    def _wake_by(self, when: float) -> None:
        timeout = self._recv_timeout
        if timeout is not None:
            current = timeout.when()
            if current is None or when < current:
                timeout.reschedule(when)

    def _next_wakeup(self, conn: TTSConnection) -> float | None:
        owed = self._owed(conn)
        times = [c.owed_since + self._response_timeout_s for c in owed if c.owed_since]
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
        for ctx in self._owed(conn):
            self._refresh_audio_context(ctx.context_id)
        self._next_keepalive = now + self._keepalive_interval()

    async def _fail_silent_contexts(self, conn: TTSConnection, now: float) -> bool:
        """Fail every context the server owes an answer for too long; True if any."""
        limit = self._response_timeout_s
        expired = [c for c in self._owed(conn) if c.owed_since and now >= c.owed_since + limit]
        for ctx in expired:
            self._forget(ctx)
            await self._handle_events(conn.cancel(ctx.core_id))
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
