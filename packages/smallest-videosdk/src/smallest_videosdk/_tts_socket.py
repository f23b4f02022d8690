"""One Lightning TTS WebSocket: the core's ``TTSConnection`` plus the task that reads it.

All protocol decisions (routing frames to contexts, the end of a context, dropping the
frames of a cancelled one) are the core's. This module moves frames between the socket
and the core and hands each context's events to the queue registered for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import aiohttp

from smallest_core import (
    MAX_FRAME_BYTES,
    AudioReceived,
    ConnectionFailed,
    ContextEnded,
    ContextFailed,
    FrameIgnored,
    SmallestError,
    TTSConnection,
    TTSEvent,
    TTSOptions,
    WordReceived,
    redact,
)
from smallest_core.errors import connection_error
from smallest_core.tts_connection import is_idle_timeout
from smallest_videosdk._common import refused_upgrade

logger = logging.getLogger("smallest_videosdk.tts")

ContextEvent = AudioReceived | WordReceived | ContextEnded | ContextFailed


async def open_socket(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    options: TTSOptions,
    connect_timeout: float,
) -> TTSSocket:
    """Connect; a refused upgrade raises :class:`SmallestError` with the server's message."""
    try:
        ws = await asyncio.wait_for(
            session.ws_connect(url, headers=headers, heartbeat=30.0, max_msg_size=MAX_FRAME_BYTES),
            connect_timeout,
        )
    except aiohttp.WSServerHandshakeError as exc:
        raise await refused_upgrade(session, url, headers, exc, "TTS") from None
    except TimeoutError:
        message = f"connecting to the TTS WebSocket timed out after {connect_timeout:g}s"
        raise connection_error(message) from None
    except aiohttp.ClientError as exc:
        raise connection_error(f"cannot connect to the TTS WebSocket: {exc}") from None
    return TTSSocket(ws, TTSConnection(options))


class TTSSocket:
    """A connected socket: send with :meth:`flush`, receive through per-context queues."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, conn: TTSConnection) -> None:
        self.ws = ws
        self.conn = conn
        self.opened_at = time.monotonic()
        self.idle_closed = False
        """The server closed this socket for inactivity (reconnect quietly)."""
        self.last_frame_at = self.opened_at
        """When the latest frame of any kind arrived (``time.monotonic()``)."""
        self._queues: dict[str, asyncio.Queue[Any]] = {}
        self._send_lock = asyncio.Lock()
        self._deadline_timer: asyncio.TimerHandle | None = None
        self._deadline_flush: asyncio.Task[None] | None = None
        self._reader = asyncio.create_task(self._read(), name="smallest-tts-reader")

    @property
    def alive(self) -> bool:
        """Whether a new context can be started on this socket."""
        return not (self.ws.closed or self.conn.closed or not self.conn.reusable)

    def activity(self) -> float:
        """The latest sign that the server is at work on this socket: its last frame, or
        a decision the core takes by itself later (the end of a context a quiet period
        after its ``complete``, on a server that sends no terminal marker)."""
        pending = self.conn.next_deadline()
        return self.last_frame_at if pending is None else max(self.last_frame_at, pending)

    def subscribe(self, context_id: str, queue: asyncio.Queue[Any]) -> None:
        """Deliver the events of ``context_id`` to ``queue``."""
        self._queues[context_id] = queue

    def dispatch(self, events: list[TTSEvent]) -> None:
        """Hand events to their context's queue; log the rest."""
        for event in events:
            if isinstance(event, ConnectionFailed):
                self._connection_failed(event.error)
            elif isinstance(event, FrameIgnored):
                logger.warning("ignored a TTS frame: %s", redact(event.reason))
            else:
                queue = self._queues.get(event.context_id)
                if queue is not None:
                    queue.put_nowait(event)
                if isinstance(event, ContextEnded | ContextFailed):
                    self._queues.pop(event.context_id, None)

    async def flush(self) -> None:
        """Send every message the core has queued (in order)."""
        async with self._send_lock:
            for message in self.conn.data_to_send():
                if self.ws.closed:
                    return
                try:
                    await self.ws.send_str(message)
                except (ConnectionError, aiohttp.ClientError) as exc:
                    logger.debug("TTS send failed: %s", exc)
                    return

    def time_out(self, context_id: str) -> None:
        """The server owed ``context_id`` audio and sent none in time: the context fails
        and this socket is not used again (:attr:`alive` becomes False)."""
        self.dispatch(self.conn.time_out(context_id))

    def watch_deadline(self) -> None:
        """Poll the core at its next deadline even if no frame arrives by then (a cancel
        holds the next context until the cancelled one is quiet on a no-echo server)."""
        deadline = self.conn.next_deadline()
        if deadline is None or self._reader.done():
            return
        if self._deadline_timer is not None:
            self._deadline_timer.cancel()
        delay = max(0.0, deadline - time.monotonic())
        self._deadline_timer = asyncio.get_running_loop().call_later(delay, self._deadline_due)

    def _deadline_due(self) -> None:
        self._deadline_timer = None
        if self._reader.done():
            return
        self.dispatch(self.conn.poll(time.monotonic()))
        if self._deadline_flush is None or self._deadline_flush.done():
            self._deadline_flush = asyncio.create_task(self.flush())
        self.watch_deadline()

    async def close(self) -> None:
        """Close the socket and stop reading (contexts still open fail)."""
        if self._deadline_timer is not None:
            self._deadline_timer.cancel()
        if self._deadline_flush is not None and not self._deadline_flush.done():
            self._deadline_flush.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._deadline_flush
        if not self.ws.closed:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if not self._reader.done():
            self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        self.dispatch(self.conn.connection_lost(self.ws.close_code, "the socket was closed"))

    def _connection_failed(self, error: SmallestError) -> None:
        if is_idle_timeout(error):
            self.idle_closed = True
            logger.debug("the TTS socket was closed for inactivity; reconnecting on next use")
        else:
            logger.warning("TTS connection error: %s", error.message)

    async def _read(self) -> None:
        ws, conn = self.ws, self.conn
        reason = "the server closed the connection"
        try:
            while True:
                deadline = conn.next_deadline()
                wait = None if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    msg = await ws.receive(timeout=wait)
                except TimeoutError:
                    self.dispatch(conn.poll(time.monotonic()))
                    await self.flush()
                    continue
                if msg.type is aiohttp.WSMsgType.TEXT or msg.type is aiohttp.WSMsgType.BINARY:
                    self.last_frame_at = time.monotonic()
                    self.dispatch(conn.receive(msg.data, self.last_frame_at))
                else:
                    if msg.type is aiohttp.WSMsgType.ERROR:
                        reason = f"the TTS WebSocket failed: {redact(str(msg.data))}"
                    break
                await self.flush()
        except Exception as exc:  # a transport failure ends the socket like a close
            logger.debug("TTS socket reader stopped: %r", exc)
        finally:
            self.dispatch(conn.connection_lost(ws.close_code, reason))
