"""The Pulse socket of :class:`~smallest_pipecat.SmallestSTTService`: opening it (and
again, with back-off, after a drop), the core's timers, and ``close_stream`` at the end."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from loguru import logger
from websockets.exceptions import WebSocketException
from websockets.protocol import State

from smallest_core import (
    MAX_RECONNECT_ATTEMPTS,
    ApiKey,
    Endpoints,
    ErrorKind,
    SmallestError,
    STTOptions,
    STTStreamState,
    backoff,
    redact,
)
from smallest_core.aio import keep_alive
from smallest_pipecat._common import connect_error, ws_options
from smallest_pipecat._replay import ReplayBuffer
from smallest_pipecat._stt_receive import TranscriptReceiver
from smallest_pipecat._stt_send import AudioSender
from smallest_pipecat._stt_wire import routed
from smallest_pipecat.errors import error_frame

_CONNECT_TIMEOUT_S = 10.0


class PulseSocket(TranscriptReceiver, AudioSender):
    """Opens, supervises and closes the socket; runs the core's timers on it."""

    _endpoints: Endpoints
    _region: str
    _api_key: ApiKey
    _expire_content: bool
    _state: STTStreamState | None
    _replay: ReplayBuffer | None
    _supervisor: asyncio.Task[None] | None
    _timers: asyncio.Task[None] | None
    _finalize_owed: bool
    _finalize_marks: list[int]
    _last_transcript: asyncio.Event
    connections_opened: int

    if TYPE_CHECKING:

        def _options(self) -> STTOptions: ...

    async def _open(self) -> SmallestError | None:
        """One attempt to open the socket; the error if it failed."""
        if self._websocket is not None and self._websocket.state is State.OPEN:
            return None
        assert self._state is not None and self._replay is not None
        options = self._options()
        endpoints = routed(self._endpoints, options.language, self._region)
        url = endpoints.stt_ws(options.query())
        connect = ws_options(self._api_key, expire_content=self._expire_content)
        try:
            ws = await asyncio.wait_for(self._websocket_connect(url, **connect), _CONNECT_TIMEOUT_S)
        except TimeoutError:
            return SmallestError("timed out opening the STT socket", kind=ErrorKind.TIMEOUT)
        except Exception as exc:
            return connect_error(exc, url, "STT")
        self._websocket = ws
        self.connections_opened += 1
        self._last_transcript.clear()
        self._state.connection_started(options)
        self._state.sent(time.monotonic())  # the keepalive counts from here
        if self._finalize_marks:
            self._finalize_marks.clear()  # the old socket never answered: ask again
            self._finalize_owed = True
        async with self._send_lock:
            self._replay.resend_all()
        await self._call_event_handler("on_connected")
        await self._drain()
        await self._send_finalize()
        if self._timers is None:
            self._timers = self.create_task(
                keep_alive(self._state, self._send_control, self._dispatch),
                name="smallest-stt-timers",
            )
        return None

    async def _disconnect_websocket(self) -> None:
        ws, self._websocket = self._websocket, None
        if ws is not None:
            try:
                await ws.close()
            except (OSError, WebSocketException) as exc:
                logger.debug(f"{self} closing the socket failed: {redact(str(exc))}")
            await self._call_event_handler("on_disconnected")

    async def _supervise(self, error: SmallestError | None) -> None:
        """Read each socket until it closes; reopen it with back-off while that helps.

        ``error`` is the (already reported) failure of the first attempt, if it failed.
        One drop is reported once; the attempts after it only log, unless they end.
        """
        reported = True
        while True:
            if error is None:
                error = await self._receive_until_closed()
                if error is None:
                    return  # closed on purpose
                reported = True
            self._failures += 1
            if not error.retryable or self._failures > MAX_RECONNECT_ATTEMPTS:
                await self._give_up(error, reported=reported)
                return
            await asyncio.sleep(backoff(self._failures, error=error))
            error = await self._open()
            if error is not None:
                reported = False
                logger.warning(f"{self} reconnect attempt {self._failures} failed: {error}")

    async def _give_up(self, error: SmallestError, *, reported: bool) -> None:
        if not error.retryable:
            if not reported:
                await self._report(error, "Smallest STT connection failed")
            return
        gave_up = SmallestError(
            f"no working socket after {MAX_RECONNECT_ATTEMPTS} attempts: {error.message}",
            kind=error.kind,
            status_code=error.status_code,
        )
        frame = error_frame(gave_up, "Smallest STT connection failed")
        await self._call_event_handler("on_connection_error", frame.error)
        await self.push_error_frame(frame, force_treat_as_permanent=True)

    async def _close_stream(self) -> None:
        """Send what is buffered, then ``close_stream``; wait for ``is_last`` until the
        core's close deadline (a miss is one ``ErrorFrame``)."""
        ws, state = self._websocket, self._state
        if ws is None or state is None or ws.state is not State.OPEN:
            return
        # The server closes the socket after is_last: that close is not a failure.
        self._disconnecting = True
        try:
            await self._send_rest()
            state.close_stream(time.monotonic())
            for message in state.data_to_send():
                await ws.send(message)
                state.sent(time.monotonic())
            deadline = state.close_deadline()
            wait = 0.0 if deadline is None else max(0.0, deadline - time.monotonic())
            await asyncio.wait_for(self._last_transcript.wait(), wait)
        except TimeoutError:
            state.poll(time.monotonic())
            await self._dispatch()
        except (OSError, WebSocketException) as exc:
            logger.warning(f"{self} closing the stream failed: {redact(str(exc))}")
