"""One ``FlushMarker``-delimited segment of a turn (one continuation context).

A segment's text is kept here until the segment is bound to a socket: a turn binds its
next segment only once the previous one is resolved, because the service synthesizes
one context at a time per socket and may drop fragments of a context sent meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from smallest_core import (
    AudioReceived,
    ContextEnded,
    ContextFailed,
    ContextState,
    TTSEvent,
    TTSOptions,
    WordReceived,
    check_text,
)
from smallest_core.aio import TTSSocket

_OPEN_STATES = (ContextState.HELD, ContextState.OPEN, ContextState.CLOSING)


@dataclass(frozen=True, slots=True)
class Sent:
    """Queued after text (or the closing message) went to the server, at ``at``."""

    at: float
    closing: bool


ContextEvent = AudioReceived | WordReceived | ContextEnded | ContextFailed
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
    replays: int = 0
    """Times this segment's context was sent again on a fresh socket (core policy)."""

    def bind(self, socket: TTSSocket, options: TTSOptions) -> None:
        """Start this segment's context on ``socket`` (again, with all its text so far)."""
        self.socket = socket
        self.context_id = socket.open_context(options, self._deliver)
        if self.text:
            socket.protocol.push_text(self.context_id, self.text)
            self._sent(closing=False)
        if self.closed:
            socket.protocol.end_input(self.context_id)
            socket.dispatch()
            self._sent(closing=True)

    async def push(self, text: str) -> None:
        """More text: sent at once when bound, kept for :meth:`bind` otherwise."""
        self.text += check_text(text)
        if self.socket is not None:
            self.socket.protocol.push_text(self.context_id, text)
            self._sent(closing=False)
            await self.socket.send_pending()

    async def close(self) -> None:
        """No more text for this segment."""
        self.closed = True
        if self.socket is not None:
            self.socket.protocol.end_input(self.context_id)
            self.socket.dispatch()
            self._sent(closing=True)
            await self.socket.send_pending()

    async def cancel(self) -> None:
        """Drop the context on the server (if it was sent) and wake the player."""
        self.cancelled = True
        if self.socket is not None:
            if self.unresolved:  # a context long resolved may be forgotten by the core
                self.socket.protocol.cancel(self.context_id, time.monotonic())
            self.socket.watch_deadline()
            await self.socket.send_pending()
        self.queue.put_nowait(None)

    @property
    def unresolved(self) -> bool:
        """Bound, and its context has neither ended, failed nor been cancelled."""
        if self.socket is None:
            return False
        return self.socket.protocol.context_state(self.context_id) in _OPEN_STATES

    def _deliver(self, event: TTSEvent) -> None:
        if isinstance(event, ContextEvent):
            self.queue.put_nowait(event)

    def _sent(self, *, closing: bool) -> None:
        self.queue.put_nowait(Sent(time.monotonic(), closing))
