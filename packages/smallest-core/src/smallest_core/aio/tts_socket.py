"""One Lightning TTS WebSocket: a socket, its core :class:`TTSConnection` and the task
that reads it.

The loop (:class:`~smallest_core.aio.SocketReader`) is the whole of the I/O: read a frame
→ feed the core → hand each event it queued, in order and synchronously, to the sink of
the context it belongs to → send what the core queued → sleep until the next frame or the
core's next deadline. Routing, the end of a context, dropping a cancelled context's
frames and every timer are the core's decisions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import aiohttp

from smallest_core.aio.reader import SocketReader
from smallest_core.aio.transport import AiohttpTransport, Transport
from smallest_core.errors import SmallestError, is_idle_timeout
from smallest_core.options import TTSOptions
from smallest_core.redaction import redact
from smallest_core.tts_connection import TTSConnection
from smallest_core.tts_events import (
    AudioReceived,
    ConnectionFailed,
    ContextEnded,
    ContextFailed,
    FrameIgnored,
    TTSEvent,
)

EventSink = Callable[[TTSEvent], None]
"""Called from the reader for each event of one context; must not block."""


class TTSSocket:
    """A TTS WebSocket shared by consecutive contexts (one at a time)."""

    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse | Transport,
        protocol: TTSConnection,
        logger: logging.Logger,
    ) -> None:
        self.ws = ws
        """The socket as given (an aiohttp WebSocket, or any :class:`Transport`)."""
        self.transport: Transport = (
            AiohttpTransport(ws) if isinstance(ws, aiohttp.ClientWebSocketResponse) else ws
        )
        self.protocol = protocol
        self.logger = logger
        self.opened_at = time.monotonic()
        self.last_frame_at = self.opened_at
        """When the latest frame of any kind arrived (``time.monotonic()``)."""
        self.failure: SmallestError | None = None
        """Set when the server reported a connection-level error or a context timed out."""
        self.first_audio_at: dict[str, float] = {}
        """``time.perf_counter()`` when the first audio frame of each context arrived."""
        self._sinks: dict[str, EventSink] = {}
        self._outbox: list[str] = []
        self._send_lock = asyncio.Lock()
        self._io = SocketReader(self.transport, self._on_frame, self._on_deadline)
        self._reader = asyncio.create_task(self._read_loop(), name="smallest.tts.reader")

    @property
    def usable(self) -> bool:
        """Whether a new context may start on this socket."""
        return (
            self.failure is None
            and not self.transport.closed
            and not self.protocol.closed
            and self.protocol.reusable
            and not self._reader.done()
        )

    @property
    def idle_closed(self) -> bool:
        """The server closed this socket for inactivity (reconnect quietly)."""
        return self.failure is not None and is_idle_timeout(self.failure)

    def activity(self) -> float:
        """The latest sign that the server is at work on this socket: its last frame, or a
        decision the core takes by itself later (the end of a context a quiet period after
        its ``complete``, on a server that sends no terminal marker)."""
        pending = self.protocol.next_deadline()
        return self.last_frame_at if pending is None else max(self.last_frame_at, pending)

    def open_context(self, options: TTSOptions, sink: EventSink) -> str:
        """Start a context whose events are passed to ``sink``."""
        ctx = self.protocol.start_context(options=options)
        self._sinks[ctx] = sink
        return ctx

    def detach(self, context_id: str) -> None:
        """Stop routing the context's events (late ones are dropped by the core)."""
        self._sinks.pop(context_id, None)
        self.first_audio_at.pop(context_id, None)

    def dispatch(self) -> None:
        """Hand each event the core queued to its context's sink, in order; note
        connection-level failures. Call after a command that may end a context
        (``end_input`` of an empty one); :meth:`send_pending` calls it too."""
        self._hand_out(self.protocol.events())

    def _hand_out(self, events: list[TTSEvent]) -> None:
        for event in events:
            if type(event) is AudioReceived:  # the hot path: one per audio frame
                context_id = event.context_id
                if context_id not in self.first_audio_at:
                    self.first_audio_at[context_id] = time.perf_counter()
                sink = self._sinks.get(context_id)
                if sink is not None:
                    sink(event)
            elif isinstance(event, ConnectionFailed):
                self._connection_failed(event.error)
            elif isinstance(event, FrameIgnored):
                self.logger.warning("ignored a TTS frame: %s", redact(event.reason))
            else:
                sink = self._sinks.get(event.context_id)
                if sink is not None:
                    sink(event)
                if isinstance(event, ContextEnded | ContextFailed):
                    self._sinks.pop(event.context_id, None)

    async def send_pending(self) -> int:
        """Send every message the core queued, in order; returns how many this call took.

        Whichever task holds the lock drains the outbox, so on return every message queued
        so far has been sent. A socket that cannot send fails its contexts (their sinks
        get :class:`ContextFailed`) instead of raising here.
        """
        self.dispatch()
        queued = self.protocol.data_to_send()
        self._outbox.extend(queued)
        async with self._send_lock:
            while self._outbox:
                if self.transport.closed or self.protocol.closed:
                    self._outbox.clear()
                    break
                try:
                    await self.transport.send(self._outbox[0])
                except ConnectionError as exc:
                    self._outbox.clear()
                    reason = f"sending failed: {exc}"
                    self.protocol.connection_lost(self.transport.close_code, reason)
                    self.dispatch()
                    break
                del self._outbox[0]
        return len(queued)

    def time_out(self, context_id: str) -> None:
        """The server owed ``context_id`` audio and sent none in time: the context fails
        (its sink gets :class:`ContextFailed`) and the socket is not used again."""
        self.protocol.time_out(context_id)
        events = self.protocol.events()
        for event in events:
            if isinstance(event, ContextFailed) and event.context_id == context_id:
                self.failure = event.error
        self._hand_out(events)

    def watch_deadline(self) -> None:
        """Poll the core at its next deadline even if no frame arrives by then.

        The reader learns of deadlines set by frames; a command that sets an earlier one
        (a cancel that holds the next context until the cancelled one is quiet) calls
        this so nothing is stranded on a silent socket.
        """
        if not self._reader.done():
            self._io.wake_by(self.protocol.next_deadline())

    async def aclose(self) -> None:
        """Stop the reader and close the socket; contexts still open fail."""
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader
        with contextlib.suppress(Exception):
            await self.transport.close()
        self.protocol.connection_lost(self.transport.close_code, "the socket was closed")
        self.dispatch()

    # ------------------------------------------------------------------ reader
    def _connection_failed(self, error: SmallestError) -> None:
        self.failure = error
        if is_idle_timeout(error):
            self.logger.debug("the TTS socket reached the server's idle timeout")
        else:
            self.logger.warning("TTS connection error: %s", error.message)

    async def _send_quietly(self) -> None:
        """Send what the core queued by itself (e.g. a held context it released)."""
        self._outbox.extend(self.protocol.data_to_send())
        if self._outbox:
            with contextlib.suppress(Exception):
                await self.send_pending()

    async def _on_frame(self, data: str | bytes, now: float) -> None:
        protocol = self.protocol
        self.last_frame_at = now
        protocol.receive(data, now)
        self._hand_out(protocol.events())
        await self._send_quietly()
        deadline = protocol.next_deadline()
        if deadline is not None:
            self._io.wake_by(deadline)

    async def _on_deadline(self, now: float) -> float | None:
        self.protocol.poll(now)
        self.dispatch()
        await self._send_quietly()
        return self.protocol.next_deadline()

    async def _read_loop(self) -> None:
        reason = "the server closed the connection"
        try:
            self._io.wake_by(self.protocol.next_deadline())
            await self._io.run()
            if self.transport.error is not None:
                reason = f"the connection failed: {self.transport.error}"
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not strand a context waiting on its sink
            self.logger.exception("TTS reader failed")
            reason = f"reader failed: {type(exc).__name__}"
        if self.failure is not None and not is_idle_timeout(self.failure):
            reason = self.failure.message
        self.protocol.connection_lost(self.transport.close_code, reason)
        self.dispatch()
