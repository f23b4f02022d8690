"""Opening the TTS sockets (Lightning v3.1 and v4); their loops are the core's."""

from __future__ import annotations

import logging

import aiohttp

from smallest_core import LightningV4Options, LightningV4Session, TTSConnection, TTSOptions
from smallest_core.aio import TTSSocket, V4Socket
from smallest_videosdk._common import connect_ws

logger = logging.getLogger("smallest_videosdk.tts")

__all__ = ["TTSSocket", "V4Socket", "open_socket", "open_v4"]


async def open_socket(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    options: TTSOptions,
    connect_timeout: float,
) -> TTSSocket:
    """A Lightning v3.1 socket; a refused upgrade raises with the server's message."""
    ws = await connect_ws(session, url, headers, connect_timeout, "TTS", "the TTS WebSocket")
    return TTSSocket(ws, TTSConnection(options), logger)


async def open_v4(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    options: LightningV4Options,
    connect_timeout: float,
) -> V4Socket:
    """A Lightning v4 session; a refused upgrade raises with the server's message."""
    ws = await connect_ws(session, url, headers, connect_timeout, "Lightning v4", "Lightning v4")
    return V4Socket(ws, LightningV4Session(options), logger)
