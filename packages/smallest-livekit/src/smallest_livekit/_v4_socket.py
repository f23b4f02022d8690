"""One Lightning v4 live session: its socket and the core's protocol state for it."""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
from livekit.agents import APIError, APITimeoutError

from smallest_core import (
    MAX_FRAME_BYTES,
    ErrorKind,
    LightningV4Event,
    LightningV4Options,
    LightningV4Session,
    SessionFailed,
    SessionReady,
    SmallestError,
    connection_error,
)

from ._common import Connection
from ._errors import refused_upgrade, to_api_error, transport_error

_CLOSE_TIMEOUT_S = 1.0
_ACCESS_HINT = (
    " (Lightning v4 is in beta and enabled per account: ask Smallest AI for access, "
    "or use smallest_livekit.TTS for Lightning v3.1)"
)


def v4_api_error(error: SmallestError) -> APIError:
    """The LiveKit error for a v4 error; a refused account says how to get access."""
    if error.code == "model_access_denied":
        error = SmallestError(
            error.message + _ACCESS_HINT, kind=error.kind, code=error.code, body=error.body
        )
    return to_api_error(error)


class V4Socket:
    """A ready v4 session. One stream uses it at a time (the pool hands it out)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, session: LightningV4Session) -> None:
        self.ws = ws
        self.session = session
        self.failure: SmallestError | None = None

    @property
    def alive(self) -> bool:
        """Open, and nothing has failed on it."""
        return self.failure is None and not self.ws.closed and not self.session.closed

    @property
    def usable(self) -> bool:
        """Alive, and no turn of an earlier stream still owes audio."""
        return self.alive and not self.session.busy

    async def flush(self) -> None:
        """Send what the session queued (speak, interrupt, user_audio, end)."""
        for message in self.session.data_to_send():
            try:
                await self.ws.send_str(message)
            except (aiohttp.ClientError, ConnectionError) as exc:
                self.failure = connection_error("sending to Lightning v4 failed")
                raise transport_error(exc, "sending to Lightning v4 failed") from None

    async def receive(self, timeout_s: float) -> list[LightningV4Event]:
        """Take one frame (``APITimeoutError`` after ``timeout`` s of silence)."""
        try:
            msg = await self.ws.receive(timeout=timeout_s)
        except TimeoutError:
            self.failure = SmallestError("no answer from Lightning v4", kind=ErrorKind.TIMEOUT)
            raise APITimeoutError(f"no answer from Lightning v4 within {timeout_s:.1f} s") from None
        if msg.type is aiohttp.WSMsgType.BINARY or msg.type is aiohttp.WSMsgType.TEXT:
            self.session.receive(msg.data)
        else:
            self.session.connection_lost(self.ws.close_code)
        events = self.session.events()
        for event in events:
            if isinstance(event, SessionFailed):
                self.failure = event.error
        return events

    async def aclose(self) -> None:
        """End the session politely, then close the socket (each step bounded)."""
        self.session.end()
        with contextlib.suppress(APIError, TimeoutError):
            async with asyncio.timeout(_CLOSE_TIMEOUT_S):
                await self.flush()
        with contextlib.suppress(TimeoutError, aiohttp.ClientError, ConnectionError):
            async with asyncio.timeout(_CLOSE_TIMEOUT_S):
                await self.ws.close()


async def open_v4_socket(
    conn: Connection,
    session: aiohttp.ClientSession,
    opts: LightningV4Options,
    connect_timeout: float,
) -> V4Socket:
    """Connect and wait for the session to be ready (both ``ready`` messages)."""
    timeout = connect_timeout
    url = opts.url(conn.endpoints)
    try:
        ws = await asyncio.wait_for(
            session.ws_connect(url, headers=conn.headers(), max_msg_size=MAX_FRAME_BYTES),
            timeout,
        )
    except aiohttp.WSServerHandshakeError as exc:
        raise await refused_upgrade(conn, url, exc.status) from None
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise transport_error(exc, "could not connect to Lightning v4", url=url) from None
    sock = V4Socket(ws, LightningV4Session(opts))
    try:
        async with asyncio.timeout(timeout):
            while True:
                for event in await sock.receive(timeout):
                    if isinstance(event, SessionFailed):
                        raise v4_api_error(event.error)
                    if isinstance(event, SessionReady):
                        return sock
    except TimeoutError:
        await sock.aclose()
        raise APITimeoutError(f"Lightning v4 was not ready within {timeout:.1f} s") from None
    except BaseException:
        await sock.aclose()
        raise
