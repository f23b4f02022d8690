"""One ``FlushMarker``-delimited segment of a turn, and when the server owes it audio.

A segment's text is kept here until the segment is bound to a socket: a turn binds its
next segment only once the previous one is resolved, because the service synthesizes
one context at a time per socket and may drop fragments of a context sent meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from smallest_core import ContextState, TTSOptions, check_text
from smallest_videosdk._tts_socket import ContextEvent, TTSSocket

_OPEN_STATES = (ContextState.HELD, ContextState.OPEN, ContextState.CLOSING)
DEFAULT_BUFFER_DELAY_S = 3.0
"""How long the service holds text waiting for a sentence end (``max_buffer_delay_ms``)."""


@dataclass(frozen=True, slots=True)
class Sent:
    """Queued after text (or the closing message) went to the server, at ``at``."""

    at: float
    closing: bool


SegmentEvent = ContextEvent | Sent | None
"""``None``: the segment was cancelled."""


@dataclass(eq=False)
class Segment:
    """Text between two ``FlushMarker``s: one continuation context once bound."""

    queue: asyncio.Queue[SegmentEvent] = field(default_factory=asyncio.Queue)
    socket: TTSSocket | None = None
    context_id: str = ""
    text: str = ""
    closed: bool = False
    cancelled: bool = False
    replayed: bool = False

    def bind(self, socket: TTSSocket, options: TTSOptions) -> None:
        """Start this segment's context on ``socket`` (again, with all its text so far)."""
        self.socket = socket
        self.context_id = socket.conn.start_context(options=options)
        socket.subscribe(self.context_id, self.queue)
        if self.text:
            socket.conn.push_text(self.context_id, self.text)
            self._sent(closing=False)
        if self.closed:
            socket.dispatch(socket.conn.end_input(self.context_id))
            self._sent(closing=True)

    async def push(self, text: str) -> None:
        """More text: sent at once when bound, kept for :meth:`bind` otherwise."""
        self.text += check_text(text)
        if self.socket is not None:
            self.socket.conn.push_text(self.context_id, text)
            self._sent(closing=False)
            await self.socket.flush()

    async def close(self) -> None:
        """No more text for this segment."""
        self.closed = True
        if self.socket is not None:
            self.socket.dispatch(self.socket.conn.end_input(self.context_id))
            self._sent(closing=True)
            await self.socket.flush()

    async def cancel(self) -> None:
        """Drop the context on the server (if it was sent) and wake the player."""
        self.cancelled = True
        if self.socket is not None:
            self.socket.dispatch(self.socket.conn.cancel(self.context_id, time.monotonic()))
            self.socket.watch_deadline()
            await self.socket.flush()
        self.queue.put_nowait(None)

    @property
    def unresolved(self) -> bool:
        """Bound, and its context has neither ended, failed nor been cancelled."""
        if self.socket is None:
            return False
        return self.socket.conn.context_state(self.context_id) in _OPEN_STATES

    def _sent(self, *, closing: bool) -> None:
        self.queue.put_nowait(Sent(time.monotonic(), closing))


class AudioOwed:
    """The deadline for the server's next frame: only for text it was actually sent.

    Once the segment is closed the server owes everything: ``timeout`` after the close
    or the latest frame. Before that, text sent and not yet answered is owed within
    ``timeout`` plus the server's sentence buffering delay; a server that has answered
    everything it was sent owes nothing while the caller's text source is quiet.
    """

    def __init__(self, timeout: float, buffer_delay: float) -> None:
        self.timeout = timeout
        self.buffer_delay = buffer_delay
        self._unanswered_since: float | None = None
        self._closed_at: float | None = None
        self._last_frame = 0.0

    def sent(self, marker: Sent) -> None:
        if marker.closing:
            self._closed_at = marker.at
        elif self._unanswered_since is None:
            self._unanswered_since = marker.at

    def answered(self, now: float) -> None:
        self._unanswered_since = None
        self._last_frame = now

    def deadline(self, activity: float = 0.0) -> float | None:
        """Monotonic time by which a frame is due, or None (nothing is owed).

        ``activity`` is the socket's latest sign of work that is no event of this
        segment (a ``complete``, an untimed word, the core's own pending end of the
        context): the server is still answering, so the wait starts again from there.
        """
        if self._closed_at is not None:
            return max(self._closed_at, self._last_frame, activity) + self.timeout
        if self._unanswered_since is not None:
            return max(self._unanswered_since + self.buffer_delay, activity) + self.timeout
        return None
