"""One pooled TTS WebSocket: the aiohttp socket, its core :class:`TTSConnection` and a
reader task that feeds every frame to the core and hands each resulting event, in order,
to the callback of the context it belongs to (synchronously: no per-frame hand-off)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import aiohttp

from smallest_core import (
    AudioReceived,
    ConnectionFailed,
    FrameIgnored,
    SmallestError,
    TTSConnection,
    TTSEvent,
    TTSOptions,
    redact,
)
from smallest_core.tts_connection import is_idle_timeout

from .log import logger

_MIN_WAIT_S = 0.001

EventSink = Callable[[TTSEvent], None]
"""Called from the reader for each event of one context; must not block."""


class TTSSocket:
    """A TTS WebSocket shared by consecutive turns (one context at a time)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, protocol: TTSConnection) -> None:
        self.ws = ws
        self.protocol = protocol
        self.failure: SmallestError | None = None
        """Set when the server reported a connection-level error (e.g. its idle timeout)."""
        self.first_audio_at: dict[str, float] = {}
        """``time.perf_counter()`` when the first audio frame of each context arrived."""
        self._sinks: dict[str, EventSink] = {}
        self._outbox: list[str] = []
        """Frames taken from the core, sent in order under the lock by whichever task holds it."""
        self._send_lock = asyncio.Lock()
        self._deadline_timer: asyncio.TimerHandle | None = None
        self._deadline_flush: asyncio.Task[None] | None = None
        self._reader = asyncio.create_task(self._read_loop(), name="smallest.tts.reader")

    @property
    def usable(self) -> bool:
        """Whether a new context may start on this socket."""
        return (
            self.failure is None
            and not self.ws.closed
            and not self.protocol.closed
            and self.protocol.reusable
            and not self._reader.done()
        )

    def open_context(self, options: TTSOptions, sink: EventSink) -> str:
        """Start a context whose events are passed to ``sink``."""
        ctx = self.protocol.start_context(options=options)
        self._sinks[ctx] = sink
        return ctx

    def detach(self, context_id: str) -> None:
        """Stop routing the context's events (late ones are dropped by the core)."""
        self._sinks.pop(context_id, None)
        self.first_audio_at.pop(context_id, None)

    async def send_pending(self) -> int:
        """Send every message the core queued, in order; returns how many this call queued.

        Whichever task holds the lock drains the outbox, so on return every frame queued
        so far has been sent (or the socket failed).
        """
        queued = self.protocol.data_to_send()
        self._outbox.extend(queued)
        async with self._send_lock:
            while self._outbox:
                await self.ws.send_str(self._outbox.pop(0))
        return len(queued)

    def watch_deadline(self) -> None:
        """Poll the core at its next deadline even if no frame arrives by then.

        The reader only re-reads the deadline between frames; a command that sets an
        earlier one (a cancel that holds the next context until the cancelled one is
        quiet) calls this so the held context is not stranded on a silent socket.
        """
        deadline = self.protocol.next_deadline()
        if deadline is None or self._reader.done():
            return
        if self._deadline_timer is not None:
            self._deadline_timer.cancel()
        delay = max(_MIN_WAIT_S, deadline - time.monotonic())
        self._deadline_timer = asyncio.get_running_loop().call_later(delay, self._deadline_due)

    def _deadline_due(self) -> None:
        self._deadline_timer = None
        if self._reader.done():
            return
        self._dispatch(self.protocol.poll(time.monotonic()))
        if self._deadline_flush is None or self._deadline_flush.done():
            self._deadline_flush = asyncio.create_task(self._flush_quietly())
        self.watch_deadline()

    async def aclose(self) -> None:
        """Stop the reader and close the socket."""
        if self._deadline_timer is not None:
            self._deadline_timer.cancel()
        if self._deadline_flush is not None:
            self._deadline_flush.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._deadline_flush
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader
        with contextlib.suppress(Exception):
            await self.ws.close()

    # ------------------------------------------------------------------ reader
    def _dispatch(self, events: list[TTSEvent]) -> None:
        for event in events:
            if type(event) is AudioReceived:  # the hot path: one per audio frame
                context_id = event.context_id
                if context_id not in self.first_audio_at:
                    self.first_audio_at[context_id] = time.perf_counter()
                sink = self._sinks.get(context_id)
                if sink is not None:
                    sink(event)
                continue
            if isinstance(event, ConnectionFailed):
                self.failure = event.error
                if is_idle_timeout(event.error):
                    logger.debug("TTS socket reached the server's idle timeout")
                else:
                    logger.warning("TTS connection error: %s", event.error.message)
                continue
            if isinstance(event, FrameIgnored):
                logger.warning("ignored a TTS frame: %s", redact(event.reason))
                continue
            sink = self._sinks.get(event.context_id)
            if sink is not None:
                sink(event)

    async def _flush_quietly(self) -> None:
        """Send what the core queued (e.g. a held context it released); a no-op when nothing."""
        self._outbox.extend(self.protocol.data_to_send())
        if self._outbox:
            with contextlib.suppress(Exception):
                await self.send_pending()

    async def _read_loop(self) -> None:
        protocol = self.protocol
        try:
            while True:
                deadline = protocol.next_deadline()
                wait = None if deadline is None else max(_MIN_WAIT_S, deadline - time.monotonic())
                try:
                    msg = await self.ws.receive(timeout=wait)
                except TimeoutError:
                    self._dispatch(protocol.poll(time.monotonic()))
                    await self._flush_quietly()
                    continue
                if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    self._dispatch(protocol.receive(msg.data, time.monotonic()))
                    # a flood of frames never times out: apply a deadline that passed meanwhile
                    # (one this frame set is seen at the top of the next iteration)
                    if deadline is not None and deadline <= time.monotonic():
                        self._dispatch(protocol.poll(time.monotonic()))
                    await self._flush_quietly()
                    continue
                reason = "the server closed the connection"
                if msg.type is aiohttp.WSMsgType.ERROR:
                    reason = (
                        f"the connection failed: {redact(str(msg.data)) or type(msg.data).__name__}"
                    )
                if self.failure is not None:
                    reason = self.failure.message
                self._dispatch(protocol.connection_lost(self.ws.close_code, reason))
                return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not strand the turn waiting on its queue
            logger.exception("TTS reader failed")
            self._dispatch(protocol.connection_lost(None, f"reader failed: {type(exc).__name__}"))
