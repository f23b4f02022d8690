""":class:`~smallest_core.aio.Transport` over a ``websockets`` client connection (the
socket Pipecat's ``WebsocketService`` opens). Imported only by whoever uses it, so the
rest of :mod:`smallest_core.aio` needs no ``websockets``."""

from __future__ import annotations

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.protocol import State

from smallest_core.aio.transport import describe
from smallest_core.redaction import redact


class WebsocketsTransport:
    """:class:`~smallest_core.aio.Transport` over a ``websockets`` client connection."""

    __slots__ = ("_close_code", "_close_reason", "ws")

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._close_code: int | None = None
        self._close_reason = ""

    @property
    def closed(self) -> bool:
        return self.ws.state is not State.OPEN

    @property
    def close_code(self) -> int | None:
        return self._close_code

    @property
    def close_reason(self) -> str:
        return self._close_reason

    @property
    def error(self) -> str | None:
        return None  # a broken connection surfaces as a close without a close frame

    async def receive(self) -> str | bytes | None:
        try:
            message: str | bytes = await self.ws.recv()
        except ConnectionClosed as exc:
            if exc.rcvd is not None:
                self._close_code, self._close_reason = exc.rcvd.code, redact(exc.rcvd.reason)
            return None
        return message

    async def send(self, message: str) -> None:
        try:
            await self.ws.send(message)
        except (OSError, WebSocketException) as exc:
            raise ConnectionError(describe(exc)) from exc

    async def close(self) -> None:
        await self.ws.close()
