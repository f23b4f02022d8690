"""The transport seam of the I/O loop: what the loop needs from a WebSocket, whichever
library the framework hands us (aiohttp for LiveKit and VideoSDK, ``websockets`` for
Pipecat, in :mod:`smallest_core.aio.websockets_transport`)."""

from __future__ import annotations

from typing import Protocol

import aiohttp

from smallest_core.redaction import redact

_DATA = (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY)


class Transport(Protocol):
    """One open WebSocket, reduced to what :class:`~smallest_core.aio.SocketReader` uses."""

    @property
    def closed(self) -> bool:
        """The socket can neither send nor receive any more."""
        ...

    @property
    def close_code(self) -> int | None:
        """The close code the server sent, once :meth:`receive` returned ``None``."""
        ...

    @property
    def close_reason(self) -> str:
        """The reason in the server's close frame (``""`` if none)."""
        ...

    @property
    def error(self) -> str | None:
        """Why the connection failed, when it broke instead of closing (redacted)."""
        ...

    async def receive(self) -> str | bytes | None:
        """The next data frame; ``None`` once the socket is closed. Cancelling it loses
        nothing: the next call returns the same frame."""
        ...

    async def send(self, message: str) -> None:
        """Send one text frame; :class:`ConnectionError` if the socket cannot."""
        ...

    async def close(self) -> None:
        """Close the socket (the closing handshake is bounded by the library)."""
        ...


class AiohttpTransport:
    """:class:`Transport` over an aiohttp client WebSocket."""

    __slots__ = ("_close_reason", "_error", "ws")

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._close_reason = ""
        self._error: str | None = None

    @property
    def closed(self) -> bool:
        return self.ws.closed

    @property
    def close_code(self) -> int | None:
        return self.ws.close_code

    @property
    def close_reason(self) -> str:
        return self._close_reason

    @property
    def error(self) -> str | None:
        return self._error

    async def receive(self) -> str | bytes | None:
        msg = await self.ws.receive()
        if msg.type in _DATA:
            data: str | bytes = msg.data
            return data
        if msg.type is aiohttp.WSMsgType.ERROR:
            self._error = describe(msg.data)
        elif msg.type is aiohttp.WSMsgType.CLOSE and msg.extra:
            self._close_reason = redact(str(msg.extra))
        return None

    async def send(self, message: str) -> None:
        try:
            await self.ws.send_str(message)
        except (ConnectionError, aiohttp.ClientError) as exc:
            raise ConnectionError(describe(exc)) from exc

    async def close(self) -> None:
        await self.ws.close()


def describe(error: object) -> str:
    """A failure as text safe to log: redacted, or its type's name when it says nothing."""
    return redact(str(error)) or type(error).__name__
