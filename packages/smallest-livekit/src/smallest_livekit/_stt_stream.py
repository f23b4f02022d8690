"""A Pulse streaming session for LiveKit Agents (the ``SpeechStream`` of :class:`~.stt.STT`).

Reconnects keep one timeline: after a refusal or a dropped socket the stream waits the
core's ``backoff`` and tries again; audio not yet written to the failed socket is sent on
the next one. ``update_options`` closes the connection after its transcript and reconnects.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import aiohttp
from livekit import rtc
from livekit.agents import APIConnectOptions, APIError, stt, utils

from smallest_core import (
    MAX_RECONNECT_ATTEMPTS,
    AudioChunker,
    Endpoints,
    SpeechActivity,
    STTOptions,
    STTStreamState,
    backoff,
    connection_error,
    downmix_to_mono,
    redact,
)
from smallest_core.aio import keep_alive

from ._common import Connection
from ._errors import core_error, to_api_error, transport_error
from ._stt_events import TranscriptEvents
from ._ws import open_ws
from .log import logger

FRAME_MS = 50
USAGE_REPORT_S = 5.0
HEARTBEAT_S = 30.0
"""aiohttp's WebSocket ping interval: a dead peer is noticed even while nobody speaks."""


@dataclass(frozen=True, slots=True)
class StreamSetup:
    """What a stream takes from the :class:`~.stt.STT` that opened it."""

    conn: Connection
    endpoints: Callable[[str], Endpoints]
    """The endpoints that serve a language (the STT's region)."""
    keepalive_interval_s: float | None
    finalize_timeout_s: float
    close_timeout_s: float
    finalize_on_flush: bool


class SpeechStream(TranscriptEvents, stt.RecognizeStream):
    """A streaming session; reconnects keep one continuous timeline."""

    def __init__(
        self,
        *,
        stt: stt.STT[Any],
        opts: STTOptions,
        conn_options: APIConnectOptions,
        setup: StreamSetup,
    ) -> None:
        super().__init__(stt=stt, conn_options=conn_options, sample_rate=opts.sample_rate)
        self._setup = setup
        self._opts = opts
        self._state = STTStreamState(
            opts,
            keepalive_interval_s=setup.keepalive_interval_s,
            finalize_timeout_s=setup.finalize_timeout_s,
            close_timeout_s=setup.close_timeout_s,
        )
        self._activity = SpeechActivity(model=opts.model, vad_events=opts.vad_events)
        self._chunker = AudioChunker(opts.sample_rate, frame_ms=FRAME_MS)
        self._reconnect = asyncio.Event()
        self._wake = self._FlushSentinel()
        """Put on the input channel to wake a sender blocked on it (not a flush)."""
        self._request_id = ""
        self._usage_s = 0.0
        self._state.sent(time.monotonic())  # the keepalive counts from here
        self._unsent: deque[bytes] = deque()
        """Audio frames cut but not yet written to a socket (kept across a reconnect)."""
        self._heard = False
        self.connections = 0
        """Connections opened so far (reconnects are visible here)."""

    def push_frame(self, frame: rtc.AudioFrame) -> None:
        """Queue audio; multi-channel frames are downmixed before LiveKit resamples them."""
        if frame.num_channels > 1:
            mono = downmix_to_mono(frame.data.tobytes(), frame.num_channels)
            frame = rtc.AudioFrame(
                data=mono,
                sample_rate=frame.sample_rate,
                num_channels=1,
                samples_per_channel=frame.samples_per_channel,
            )
        super().push_frame(frame)

    @property
    def options(self) -> STTOptions:
        """The options this stream connects with (the next reconnect's, once changed)."""
        return self._opts

    def update_options(self, **changes: Any) -> None:
        """Apply new options at the next reconnect (requested now)."""
        self._opts = self._opts.with_changes(**changes)
        self._reconnect.set()
        if not self._input_ch.closed:
            self._input_ch.send_nowait(self._wake)

    # ------------------------------------------------------------------ lifecycle
    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                ws = await self._connect()
            except APIError as exc:
                failures = await self._after_failure(exc, failures)
                continue
            opened_at = time.monotonic()
            self._heard = False
            failure: APIError | None = None
            try:
                reconnect = await self._run_connection(ws)
            except APIError as exc:
                failure = exc
            finally:
                await ws.close()
                self._report_usage()
                self._end_speech()
            if failure is not None:
                if self._heard or time.monotonic() - opened_at > self._conn_options.timeout:
                    failures = 0  # that connection worked: this failure starts a new series
                failures = await self._after_failure(failure, failures)
                continue
            if not reconnect:
                return
            failures = 0

    async def _after_failure(self, error: APIError, failures: int) -> int:
        """Report a failed attempt and wait before the next, or raise when it is pointless.

        LiveKit's own retry loop is left out of reconnects (the final error is marked not
        retryable): it would wait without ``Retry-After`` and shift the timeline again.
        """
        attempt = failures + 1
        limit = min(MAX_RECONNECT_ATTEMPTS, self._conn_options.max_retry)
        if not error.retryable or attempt > limit:
            error.retryable = False
            raise error
        self._emit_error(error, recoverable=True)
        delay = backoff(attempt, error=core_error(error))
        logger.warning(
            "Smallest STT: %s; reconnecting in %.2f s (%d/%d)", error, delay, attempt, limit
        )
        await asyncio.sleep(delay)
        return attempt

    async def _connect(self) -> aiohttp.ClientWebSocketResponse:
        url = self._setup.endpoints(self._opts.language).stt_ws(self._opts.query())
        started = time.perf_counter()
        ws = await open_ws(
            self._setup.conn,
            url,
            self._conn_options.timeout,
            what="Smallest STT",
            heartbeat=HEARTBEAT_S,
        )
        self.connections += 1
        self._state.connection_started(self._opts)
        self._activity = SpeechActivity(model=self._opts.model, vad_events=self._opts.vad_events)
        self._report_connection_acquired(time.perf_counter() - started, False)
        return ws

    async def _run_connection(self, ws: aiohttp.ClientWebSocketResponse) -> bool:
        """Run one connection; True when it ended for a reconnect."""
        self._reconnect.clear()
        sender = asyncio.create_task(self._send_loop(ws), name="smallest.stt.send")
        receiver = asyncio.create_task(self._recv_loop(ws), name="smallest.stt.recv")
        timers = asyncio.create_task(self._timers(ws), name="smallest.stt.timers")
        try:
            done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if receiver in done:
                receiver.result()  # raises the server's error
                return False  # the server sent its last transcript
            reconnect = sender.result()
            try:
                async with asyncio.timeout(self._until(self._state.close_deadline())):
                    await receiver
            except TimeoutError:
                self._state.poll(time.monotonic())
                self._dispatch()
            except APIError as exc:  # all audio was sent: closing, not failing
                logger.warning("Smallest STT ended before its last transcript: %s", exc)
            return reconnect
        finally:
            await utils.aio.cancel_and_wait(sender, receiver, timers)

    @staticmethod
    def _until(deadline: float | None) -> float | None:
        return None if deadline is None else max(0.0, deadline - time.monotonic())

    async def _send(self, ws: aiohttp.ClientWebSocketResponse, data: bytes | str) -> None:
        try:
            if isinstance(data, bytes):
                await ws.send_bytes(data)
            else:
                await ws.send_str(data)
        except (aiohttp.ClientError, ConnectionError) as exc:
            raise transport_error(exc, "sending to Smallest STT failed") from None
        self._state.sent(time.monotonic())

    async def _send_queued(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Send the control messages the core queued (audio never goes through it)."""
        for message in self._state.data_to_send():
            await self._send(ws, message)

    async def _send_audio(self, ws: aiohttp.ClientWebSocketResponse, pcm: bytes) -> None:
        self._unsent.extend(self._chunker.push(pcm))
        await self._send_unsent(ws)

    async def _send_rest(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        rest = self._chunker.flush()
        if rest:
            self._unsent.append(rest)
        await self._send_unsent(ws)

    async def _send_unsent(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Write the queued audio in order; a frame the socket refused stays queued."""
        while self._unsent:
            chunk = self._unsent.popleft()
            try:
                await self._send(ws, chunk)
            except APIError:
                self._unsent.appendleft(chunk)
                raise
            except asyncio.CancelledError:
                self._account(chunk)  # written: only the wait for the buffer to drain stopped
                raise
            self._account(chunk)

    def _account(self, chunk: bytes) -> None:
        self._state.audio_sent(len(chunk))
        self._usage_s += len(chunk) / 2 / self._opts.sample_rate
        if self._usage_s >= USAGE_REPORT_S:
            self._report_usage()

    async def _send_loop(self, ws: aiohttp.ClientWebSocketResponse) -> bool:
        """Forward audio; returns True when stopped for a reconnect (after close_stream).

        The reconnect flag is checked between items; ``update_options`` also puts a wake-up
        item on the channel so a sender waiting for audio sees it at once.
        """
        await self._send_unsent(ws)
        while True:
            if self._reconnect.is_set():
                await self._send_rest(ws)
                self._state.close_stream(time.monotonic())
                await self._send_queued(ws)
                return True
            try:
                item = await self._input_ch.recv()
            except utils.aio.ChanClosed:
                await self._send_rest(ws)
                self._state.close_stream(time.monotonic())
                await self._send_queued(ws)
                return False
            if item is not self._wake:
                await self._forward(ws, item)

    async def _forward(self, ws: aiohttp.ClientWebSocketResponse, item: Any) -> None:
        if isinstance(item, rtc.AudioFrame):
            await self._send_audio(ws, item.data.tobytes())
            return
        await self._send_rest(ws)  # a flush: the segment's tail goes out now
        self._report_usage()
        if self._setup.finalize_on_flush:
            self._state.finalize(time.monotonic())
            await self._send_queued(ws)

    async def _timers(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """The core's keepalive, finalize and close deadlines for this connection."""
        await keep_alive(self._state, partial(self._send, ws), self._dispatch)

    async def _recv_loop(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while True:
            msg = await ws.receive()
            if msg.type is aiohttp.WSMsgType.TEXT:
                self._heard = True
                self._state.receive(msg.data)
                self._dispatch()
                if self._state.finished:
                    return
                continue
            if msg.type is aiohttp.WSMsgType.BINARY:
                logger.debug("ignored a binary STT frame")
                continue
            if msg.type is aiohttp.WSMsgType.ERROR:
                reason = redact(str(msg.data)) or type(msg.data).__name__
                raise to_api_error(connection_error(f"Smallest STT connection failed: {reason}"))
            raise to_api_error(
                connection_error("Smallest STT closed the connection", close_code=ws.close_code)
            )
