"""Opening a Lightning v4 session for LiveKit; the session's loop is the core's."""

from __future__ import annotations

import asyncio

import aiohttp
from livekit.agents import APIError, APITimeoutError

from smallest_core import MAX_FRAME_BYTES, LightningV4Options, LightningV4Session, SmallestError
from smallest_core.aio import V4Socket

from ._common import Connection
from ._errors import refused_upgrade, to_api_error, transport_error
from .log import logger

__all__ = ["V4Socket", "open_v4_socket", "v4_api_error"]

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


async def open_v4_socket(
    conn: Connection,
    session: aiohttp.ClientSession,
    opts: LightningV4Options,
    connect_timeout: float,
) -> V4Socket:
    """Connect and wait for the session to be ready (both ``ready`` messages)."""
    url = opts.url(conn.endpoints)
    try:
        ws = await asyncio.wait_for(
            session.ws_connect(url, headers=conn.headers(), max_msg_size=MAX_FRAME_BYTES),
            connect_timeout,
        )
    except aiohttp.WSServerHandshakeError as exc:
        raise await refused_upgrade(conn, url, exc.status) from None
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise transport_error(exc, "could not connect to Lightning v4", url=url) from None
    sock = V4Socket(ws, LightningV4Session(opts), logger)
    try:
        async with asyncio.timeout(connect_timeout):
            await sock.wait_ready()
    except TimeoutError:
        await sock.aclose()
        raise APITimeoutError(
            f"Lightning v4 was not ready within {connect_timeout:.1f} s"
        ) from None
    except SmallestError as exc:
        await sock.aclose()
        raise v4_api_error(exc) from None
    except BaseException:
        await sock.aclose()
        raise
    return sock
