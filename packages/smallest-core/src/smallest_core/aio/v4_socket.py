"""One Lightning v4 live session: a socket, the core's :class:`LightningV4Session` and the
task that reads it.

The same loop as :class:`~smallest_core.aio.TTSSocket` (:class:`~smallest_core.aio.
SocketReader`): read a frame → feed the session → hand each turn's events, in order, to
the sink registered for the turn → send what the session queued. Which turn a binary
frame belongs to, dropping an interrupted turn's audio and which errors end the session
are the core's decisions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import aiohttp

from smallest_core.aio.reader import SocketReader
from smallest_core.aio.transport import AiohttpTransport, Transport
from smallest_core.errors import SmallestError, connection_error
from smallest_core.lightning_v4 import (
    LightningV4Event,
    LightningV4Session,
    SessionFailed,
    SessionNotice,
    SessionReady,
    TurnAudio,
    TurnEnded,
    TurnFailed,
    TurnStarted,
)
from smallest_core.redaction import redact

TurnEvent = TurnStarted | TurnAudio | TurnEnded | TurnFailed
TurnSink = Callable[[TurnEvent], None]
"""Called from the reader for each event of one turn; must not block."""

_CLOSE_TIMEOUT_S = 1.0


class V4Socket:
    """A Lightning v4 session: turns spoken one after another, barge-in without reconnecting."""

    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse | Transport,
        session: LightningV4Session,
        logger: logging.Logger,
    ) -> None:
        self.ws = ws
        """The socket as given (an aiohttp WebSocket, or any :class:`Transport`)."""
        self.transport: Transport = (
            AiohttpTransport(ws) if isinstance(ws, aiohttp.ClientWebSocketResponse) else ws
        )
        self.session = session
        self.logger = logger
        self.failure: SmallestError | None = None
        """Why the session ended, when it failed (the first reason)."""
        self.ready = asyncio.Event()
        """Set once the server attached a voice (both ``ready`` messages arrived)."""
        self._settled = asyncio.Event()
        """Set once the session is ready, failed or closed."""
        self._sinks: dict[str, TurnSink] = {}
        self._send_lock = asyncio.Lock()
        self._io = SocketReader(self.transport, self._on_frame, self._on_deadline)
        self._reader = asyncio.create_task(self._read_loop(), name="smallest.v4.reader")

    @property
    def usable(self) -> bool:
        """Whether another turn may be spoken on this session."""
        return not (
            self.failure is not None
            or self.transport.closed
            or self.session.closed
            or self._reader.done()
        )

    async def wait_ready(self) -> None:
        """Until the session is ready (bound it with ``asyncio.timeout``); a session that
        failed or closed first raises its :class:`SmallestError`."""
        await self._settled.wait()
        if not self.ready.is_set():
            raise self.failure or connection_error("the Lightning v4 session closed")

    def speak(self, text: str, sink: TurnSink) -> str:
        """Queue one utterance whose events go to ``sink``; returns its turn id."""
        turn_id = self.session.speak(text)
        self._sinks[turn_id] = sink
        self.dispatch(self.session.events())
        return turn_id

    def interrupt(self) -> None:
        """Barge-in: every unfinished turn ends now; the server is told (send to flush)."""
        self.session.interrupt()
        self.dispatch(self.session.events())

    def add_user_turn(self, text: str, pcm: bytes, sample_rate: int) -> None:
        """Condition later turns on the caller's words and audio (send to flush)."""
        self.session.add_user_turn(text, pcm, sample_rate)

    def dispatch(self, events: list[LightningV4Event]) -> None:
        """Hand each turn's events to its sink; note what concerns the whole session."""
        for event in events:
            if isinstance(event, SessionReady):
                self.ready.set()
                self._settled.set()
                self.logger.debug("Lightning v4 session ready at %d Hz", event.sample_rate)
            elif isinstance(event, SessionFailed):
                self.failure = self.failure or event.error
                self._settled.set()
                self.logger.debug("Lightning v4 session ended: %s", event.error.message)
            elif isinstance(event, SessionNotice):
                self.logger.warning("Lightning v4: %s", redact(event.message))
            else:
                sink = self._sinks.get(event.turn_id)
                if sink is not None:
                    sink(event)
                if isinstance(event, TurnEnded | TurnFailed):
                    self._sinks.pop(event.turn_id, None)

    async def send_pending(self) -> None:
        """Send what the session queued, in order. A socket that cannot send ends the
        session (the turns' sinks get :class:`TurnFailed`) instead of raising here."""
        async with self._send_lock:
            for message in self.session.data_to_send():
                if self.transport.closed:
                    return
                try:
                    await self.transport.send(message)
                except ConnectionError as exc:
                    reason = f"sending failed: {exc}"
                    self.session.connection_lost(self.transport.close_code, reason)
                    self.dispatch(self.session.events())
                    return

    async def aclose(self) -> None:
        """End the session politely, close the socket and stop reading (each step bounded)."""
        if not self.session.closed:
            self.session.end()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(_CLOSE_TIMEOUT_S):
                    await self.send_pending()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(_CLOSE_TIMEOUT_S):
                await self.transport.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader
        self.session.connection_lost(self.transport.close_code, "the session was closed")
        self.dispatch(self.session.events())

    async def _on_frame(self, data: str | bytes, now: float) -> None:
        self.session.receive(data)
        self.dispatch(self.session.events())
        if isinstance(data, str):  # e.g. ``ready`` releases held turns
            await self.send_pending()

    async def _on_deadline(self, now: float) -> float | None:
        return None  # the session keeps no timers

    async def _read_loop(self) -> None:
        reason = "Lightning v4 closed the session"
        try:
            await self._io.run()
            if self.transport.error is not None:
                reason = f"the Lightning v4 connection failed: {self.transport.error}"
            elif self.transport.close_reason:
                reason = f"Lightning v4 closed the session: {self.transport.close_reason}"
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a transport failure ends the session like a close
            self.logger.debug("Lightning v4 reader stopped: %r", exc)
        self.session.connection_lost(self.transport.close_code, reason)
        self.dispatch(self.session.events())
        self._settled.set()
