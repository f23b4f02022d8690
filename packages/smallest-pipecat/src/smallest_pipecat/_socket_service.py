"""The socket side shared by the two Lightning WebSocket services: a socket opened when the
pipeline starts and again on demand, read by the core's I/O loop
(:class:`~smallest_core.aio.SocketReader`) from Pipecat's receive task, closed when the
pipeline stops.

Pipecat's ``_receive_task_handler`` reconnects as soon as ``_receive_messages`` returns
(with backoff, writing the service off after a few short-lived sockets). These services
reconnect on demand instead: the server closes an idle socket (quietly, not an error)
and the next turn opens a new one. So ``_receive_messages`` serves each socket in turn
and returns only when cancelled; a failure while reading fails that socket's contexts
like a close does, so the handler's eager reconnect never takes over.
"""

from __future__ import annotations

import asyncio
import contextlib
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from loguru import logger
from websockets.exceptions import WebSocketException

from smallest_core import (
    ApiKey,
    ErrorKind,
    LightningV4Session,
    SmallestError,
    TTSConnection,
    redact,
)
from smallest_core.aio import SocketReader, WebsocketsTransport
from smallest_pipecat._common import connect_error, ws_options

if TYPE_CHECKING:
    from pipecat.services.tts_service import WebsocketTTSService as _Base
else:
    _Base = object

P = TypeVar("P", TTSConnection, LightningV4Session)
CONNECT_TIMEOUT_S = 10.0


class SocketService(Generic[P], _Base):
    """Mixin (before ``WebsocketTTSService``) of a service whose core protocol object is
    ``P``; subclasses give :meth:`_connect_websocket` (open or reuse) and the hooks."""

    _api_key: ApiKey
    _expire_content: bool

    def _init_socket(self) -> None:
        """Set up the socket state (from ``__init__``, after the base classes')."""
        self._protocol: P | None = None
        self._transport: WebsocketsTransport | None = None
        self._reader: SocketReader | None = None
        self._stop_reason = ""
        self._socket_lock = asyncio.Lock()
        self._socket_ready = asyncio.Event()
        self._receive_task: asyncio.Task[None] | None = None
        self.connections_opened = 0
        """Sockets opened so far (reuse is visible here and in the server's logs)."""

    # ------------------------------------------------------------------ hooks
    async def _connect_refused(self, error: SmallestError) -> None:
        """The socket could not be opened when the pipeline started."""
        raise NotImplementedError

    async def _on_frame(self, protocol: P, data: str | bytes, now: float) -> None:
        raise NotImplementedError

    async def _on_deadline(self, protocol: P, now: float) -> float | None:
        raise NotImplementedError

    async def _socket_lost(self, protocol: P, code: int | None, reason: str) -> None:
        """The socket of ``protocol`` closed (its reader has stopped)."""
        raise NotImplementedError

    async def _drop_contexts(self) -> None:
        """The pipeline stopped: forget every context."""
        raise NotImplementedError

    # ------------------------------------------------------------------ lifecycle
    async def start(self, frame: Any) -> None:
        """Open the socket when the pipeline starts."""
        await super().start(frame)
        await self._connect()

    async def _connect(self) -> None:
        await super()._connect()  # type: ignore[no-untyped-call]
        if self._receive_task is None:
            self._receive_task = self.create_task(
                self._receive_task_handler(self._report_error), name=f"{self}-receive"
            )
        try:
            await self._connect_websocket()  # type: ignore[no-untyped-call]
        except SmallestError as exc:
            await self._connect_refused(exc)

    async def _disconnect(self) -> None:
        await super()._disconnect()  # type: ignore[no-untyped-call]
        if self._receive_task is not None:
            await self.cancel_task(self._receive_task)
            self._receive_task = None
        await self._disconnect_websocket()
        await self._drop_contexts()

    async def _disconnect_websocket(self) -> None:
        ws, self._websocket = self._websocket, None
        self._protocol = self._transport = self._reader = None
        self._socket_ready.clear()
        if ws is None:
            return
        try:
            await ws.close()
        except (OSError, WebSocketException) as exc:
            logger.debug(f"{self} closing the socket failed: {redact(str(exc))}")
        await self._call_event_handler("on_disconnected")

    async def _open_websocket(self, url: str, what: str, protocol: P) -> P:
        """Open a socket for ``protocol`` (``SmallestError`` if refused or too slow)."""
        # No permessage-deflate: the documented handshake has no extension, base64 audio
        # in JSON deflates only to ~3/4 for several µs of inflate per frame, v4's binary
        # PCM barely at all; the other adapters' aiohttp sockets do not offer it either.
        connect = {**ws_options(self._api_key, expire_content=self._expire_content)}
        connect["compression"] = None
        try:
            ws = await asyncio.wait_for(self._websocket_connect(url, **connect), CONNECT_TIMEOUT_S)
        except TimeoutError as exc:
            message = f"timed out opening the {what} socket"
            raise SmallestError(message, kind=ErrorKind.CONNECTION) from exc
        except Exception as exc:
            raise connect_error(exc, url, what) from None
        self._websocket = ws
        self._transport = transport = WebsocketsTransport(ws)
        self._protocol = protocol
        # Ready before the receive task runs: a send right after opening may set a deadline.
        self._reader = SocketReader(
            transport, partial(self._on_frame, protocol), partial(self._on_deadline, protocol)
        )
        self.connections_opened += 1
        self._socket_ready.set()
        await self._call_event_handler("on_connected")
        return protocol

    # ------------------------------------------------------------------ I/O
    async def _receive_messages(self) -> None:
        """Serve each socket in turn (see the module docstring); never returns."""
        while True:
            await self._socket_ready.wait()
            await self._read_socket()

    async def _read_socket(self) -> None:
        """Read the current socket with the core's loop until it closes."""
        ws, reader, protocol = self._websocket, self._reader, self._protocol
        if ws is None or reader is None or protocol is None:
            self._socket_ready.clear()
            return
        transport = reader.transport
        self._stop_reason = ""
        try:
            await reader.run()
        except Exception as exc:  # a bug must not strand the socket's contexts
            logger.exception(f"{self} reading the socket failed")
            self._stop_reason = f"reader failed: {type(exc).__name__}"
            with contextlib.suppress(Exception):
                await transport.close()
        if self._websocket is ws:
            self._websocket = self._protocol = self._transport = self._reader = None
            self._socket_ready.clear()
            await self._call_event_handler("on_disconnected")
        reason = self._stop_reason or transport.close_reason
        await self._socket_lost(protocol, transport.close_code, reason)

    async def _stop_reading(self, reason: str) -> None:
        """The server stopped answering: close the socket, it is not trusted again."""
        self._stop_reason = reason
        reader = self._reader
        if reader is not None:
            reader.stop()
            with contextlib.suppress(Exception):
                await reader.transport.close()

    def _wake_by(self, when: float) -> None:
        """Have the reader call ``_on_deadline`` by ``when`` (no-op if armed as early)."""
        if self._reader is not None:
            self._reader.wake_by(when)

    async def _send_queued(self, protocol: P) -> bool:
        """Send what ``protocol`` queued; True if anything went out. A failed send is left
        to the reader, which sees the close and fails or replays the contexts."""
        transport = self._transport
        messages = protocol.data_to_send()
        if not messages or transport is None or protocol is not self._protocol:
            return False
        try:
            for message in messages:
                await transport.send(message)
        except ConnectionError as exc:
            logger.debug(f"{self} send failed: {exc}")
            return False
        return True
