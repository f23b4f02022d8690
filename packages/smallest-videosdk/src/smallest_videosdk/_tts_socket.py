"""Opening a Lightning TTS WebSocket; the socket itself is the core's I/O loop."""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from smallest_core import MAX_FRAME_BYTES, TTSConnection, TTSOptions, connection_error
from smallest_core.aio import TTSSocket
from smallest_videosdk._common import refused_upgrade

logger = logging.getLogger("smallest_videosdk.tts")

__all__ = ["TTSSocket", "open_socket"]


async def open_socket(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    options: TTSOptions,
    connect_timeout: float,
) -> TTSSocket:
    """Connect; a refused upgrade raises :class:`SmallestError` with the server's message."""
    try:
        ws = await asyncio.wait_for(
            session.ws_connect(url, headers=headers, heartbeat=30.0, max_msg_size=MAX_FRAME_BYTES),
            connect_timeout,
        )
    except aiohttp.WSServerHandshakeError as exc:
        raise await refused_upgrade(session, url, headers, exc, "TTS") from None
    except TimeoutError:
        message = f"connecting to the TTS WebSocket timed out after {connect_timeout:g}s"
        raise connection_error(message) from None
    except aiohttp.ClientError as exc:
        raise connection_error(f"cannot connect to the TTS WebSocket: {exc}") from None
    return TTSSocket(ws, TTSConnection(options), logger)
