"""The Pulse socket of :class:`~.stt.SmallestAISTT`: open, read, send, reconnect with
back-off, and the core's timers (keepalive, finalize and close deadlines)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from functools import partial

import aiohttp

from smallest_core import (
    MAX_BACKOFF_S,
    MAX_RECONNECT_ATTEMPTS,
    DeadlineMissed,
    SmallestError,
    STTError,
    backoff,
    connection_error,
    redact,
)
from smallest_core.aio import keep_alive
from smallest_videosdk._common import Account, connect_ws, describe
from smallest_videosdk._stt_events import TranscriptEvents

logger = logging.getLogger("smallest_videosdk.stt")

_HEALTHY_AFTER_S = MAX_BACKOFF_S
"""A socket that lived this long (or sent any frame) ends an outage."""
STALE_AFTER_S = 1.0
"""Room audio arrives every 20 ms, silence included: audio kept through an outage is sent
with the next input only if that follows within this gap. A longer gap means nobody fed this
instance meanwhile (e.g. a fallback switched away): its old audio is dropped, never sent
after newer audio reached another provider."""


class PulseConnection(TranscriptEvents):
    """One socket at a time, reopened after a drop; audio kept meanwhile."""

    _account: Account
    _session: aiohttp.ClientSession | None
    _owns_session: bool
    _ws: aiohttp.ClientWebSocketResponse | None
    _reader: asyncio.Task[None] | None
    _timers: asyncio.Task[None] | None
    _reconnect: asyncio.Task[None] | None
    _connect_lock: asyncio.Lock
    _finished: asyncio.Event
    _closing: bool
    _retry_at: float
    _pending: deque[bytes]
    _last_input: float
    _failures: int
    _last_error: SmallestError | None
    _outage_reported: bool
    _opened_at: float
    _heard: bool
    timeout: float

    async def _connected(self) -> aiohttp.ClientWebSocketResponse | None:
        """The live socket; connects at once only when no failure is being backed off."""
        if self._ws is not None and not self._ws.closed:
            return self._ws
        if self._reconnect is not None and not self._reconnect.done():
            return None
        if self._blocked is not None or self._closing or time.monotonic() < self._retry_at:
            return None
        if self._failures:
            self._start_reconnect()
            return None
        async with self._connect_lock:
            if self._ws is not None and not self._ws.closed:
                return self._ws
            await self._disconnect()
            try:
                ws = await self._open()
            except SmallestError as exc:
                self._failed(exc)
                return None
            self._attach(ws)
            return ws

    def _attach(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._state.connection_started()
        self._finished.clear()
        self._opened_at = time.monotonic()
        self._state.sent(self._opened_at)  # the keepalive counts from here
        self._heard = False
        self._reader = asyncio.create_task(self._read(ws), name="smallest-stt-reader")
        self._timers = asyncio.create_task(
            keep_alive(self._state, partial(self._send_text, ws), self._dispatch),
            name="smallest-stt-timers",
        )

    def _failed(self, error: SmallestError) -> None:
        """A connection attempt failed or the stream dropped: report once per outage,
        then reconnect with back-off (or stop, when retrying cannot help)."""
        if not error.retryable:
            self._blocked = error
            self._pending.clear()
            self._report(error)
            return
        if not self._outage_reported:
            self._outage_reported = True
            self._report(error)
        else:
            logger.debug("Pulse still unavailable: %s", error.message)
        self._last_error = error
        self._failures += 1
        self._start_reconnect()

    def _start_reconnect(self) -> None:
        if self._closing or (self._reconnect is not None and not self._reconnect.done()):
            return
        self._reconnect = asyncio.create_task(self._reconnect_loop(), name="smallest-stt-reconnect")

    async def _reconnect_loop(self) -> None:
        while self._failures <= MAX_RECONNECT_ATTEMPTS:
            await asyncio.sleep(backoff(self._failures, error=self._last_error))
            async with self._connect_lock:
                if self._closing:
                    return
                await self._disconnect()
                try:
                    ws = await self._open()
                except SmallestError as exc:
                    if not exc.retryable:
                        self._failed(exc)
                        return
                    logger.debug("reconnecting to Pulse failed: %s", exc.message)
                    self._last_error = exc
                    self._failures += 1
                    continue
                self._attach(ws)
            return  # the kept audio goes with the next input, if that follows on from it
        error = self._last_error
        cause = f": {describe(error)}" if error is not None else ""
        self._report(connection_error(f"Pulse unreachable after {self._failures} attempts{cause}"))
        self._pending.clear()
        self._failures = 0
        self._outage_reported = False
        self._retry_at = time.monotonic() + MAX_BACKOFF_S

    def _drop_stale_audio(self) -> None:
        if self._pending and time.monotonic() - self._last_input > STALE_AFTER_S:
            logger.debug("dropping %d kept audio frames: the input stopped", len(self._pending))
            self._pending.clear()

    def _recovered(self) -> None:
        """The current socket works: the next failure starts a new outage."""
        self._heard = True
        self._failures = 0
        self._outage_reported = False

    async def _open(self) -> aiohttp.ClientWebSocketResponse:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        url = self._account.endpoints.stt_ws(self._options.query())
        headers = self._account.headers()
        return await connect_ws(self._session, url, headers, self.timeout, "STT", "Pulse")

    async def _disconnect(self) -> None:
        for task in (self._timers, self._reader):
            await _cancel(task)
        self._timers = self._reader = None
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        self._ws = None

    async def _send_frames(self, ws: aiohttp.ClientWebSocketResponse, frames: list[bytes]) -> bool:
        """Send what is pending, then ``frames``; what cannot be sent stays pending."""
        self._pending.extend(frames)
        while self._pending:
            frame = self._pending[0]
            if ws.closed:
                return False
            try:
                await ws.send_bytes(frame)
            except (ConnectionError, aiohttp.ClientError) as exc:
                logger.debug("sending audio to Pulse failed: %s", exc)
                return False
            self._pending.popleft()
            self._state.audio_sent(len(frame))
            self._user_turns.audio(frame)
            self._state.sent(time.monotonic())
        return True

    async def _send_text(self, ws: aiohttp.ClientWebSocketResponse, message: str) -> bool:
        try:
            await ws.send_str(message)
        except (ConnectionError, aiohttp.ClientError) as exc:
            logger.debug("sending a control message to Pulse failed: %s", exc)
            return False
        self._state.sent(time.monotonic())
        return True

    async def _send_queued(self, ws: aiohttp.ClientWebSocketResponse) -> bool:
        """Send the control messages the core queued (audio never goes through it);
        False when the socket refused one."""
        for message in self._state.data_to_send():
            if not await self._send_text(ws, message):
                return False
        return True

    async def _dispatch(self) -> None:
        """Drain the core's events and handle each, in order: the one handler of both
        the reader (after ``receive``) and the timers (after ``poll``)."""
        for event in self._state.events():
            if isinstance(event, DeadlineMissed):
                self._on_missed(event)
                continue
            if not self._heard and not isinstance(event, STTError):
                self._recovered()
            await self._on_event(event)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        reason = ""
        try:
            while True:
                msg = await ws.receive()
                if msg.type is aiohttp.WSMsgType.TEXT:
                    self._state.receive(msg.data)
                    await self._dispatch()
                    if self._state.finished:
                        self._finished.set()
                elif msg.type is not aiohttp.WSMsgType.BINARY:
                    if msg.type is aiohttp.WSMsgType.CLOSE and msg.extra:
                        reason = str(msg.extra)
                    elif msg.type is aiohttp.WSMsgType.ERROR:
                        reason = str(msg.data)
                    break
        except asyncio.CancelledError:
            self._finished.set()
            raise
        except Exception as exc:
            logger.debug("Pulse reader stopped: %r", exc)
        self._finished.set()
        self._ended(ws, reason)

    def _ended(self, ws: aiohttp.ClientWebSocketResponse, reason: str) -> None:
        """The socket closed: a drop (or a socket that never worked) is a failure."""
        if self._closing or self._state.finished or ws is not self._ws:
            return
        if time.monotonic() - self._opened_at >= _HEALTHY_AFTER_S:
            self._recovered()
        code = ws.close_code
        if code in (None, 1000) and not reason and self._heard:
            return  # a clean close of a working stream: reconnect on the next audio
        what = f"Pulse closed the stream: {redact(reason)}" if reason else "Pulse closed the stream"
        self._failed(connection_error(what, close_code=code))


async def _cancel(task: asyncio.Task[None] | None) -> None:
    if task is not None and not task.done():
        task.cancel()
    if task is not None:
        with contextlib.suppress(asyncio.CancelledError):
            await task
