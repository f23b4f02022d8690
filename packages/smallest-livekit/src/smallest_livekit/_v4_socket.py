"""Opening a Lightning v4 session for LiveKit; the session's loop is the core's."""

from __future__ import annotations

import asyncio

from livekit.agents import APITimeoutError

from smallest_core import LightningV4Options, LightningV4Session, SmallestError
from smallest_core.aio import V4Socket

from ._common import Connection
from ._errors import to_api_error
from ._ws import open_ws
from .log import logger

__all__ = ["V4Socket", "open_v4_socket"]


async def open_v4_socket(
    conn: Connection, opts: LightningV4Options, connect_timeout: float
) -> V4Socket:
    """Connect and wait for the session to be ready (both ``ready`` messages)."""
    ws = await open_ws(conn, opts.url(conn.endpoints), connect_timeout, what="Lightning v4")
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
        raise to_api_error(exc) from None
    except BaseException:
        await sock.aclose()
        raise
    return sock
