"""Opening a Lightning v4 live session; the session's loop is the core's ``V4Socket``."""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from smallest_core import MAX_FRAME_BYTES, LightningV4Options, LightningV4Session, connection_error
from smallest_core.aio import V4Socket
from smallest_videosdk._common import refused_upgrade

logger = logging.getLogger("smallest_videosdk.tts")

__all__ = ["V4Socket", "open_v4"]


async def open_v4(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    options: LightningV4Options,
    connect_timeout: float,
) -> V4Socket:
    """Connect; a refused upgrade raises :class:`SmallestError` with the server's message."""
    try:
        ws = await asyncio.wait_for(
            session.ws_connect(url, headers=headers, heartbeat=30.0, max_msg_size=MAX_FRAME_BYTES),
            connect_timeout,
        )
    except aiohttp.WSServerHandshakeError as exc:
        raise await refused_upgrade(session, url, headers, exc, "Lightning v4") from None
    except TimeoutError:
        message = f"connecting to Lightning v4 timed out after {connect_timeout:g}s"
        raise connection_error(message) from None
    except aiohttp.ClientError as exc:
        raise connection_error(f"cannot connect to Lightning v4: {exc}") from None
    return V4Socket(ws, LightningV4Session(options), logger)
