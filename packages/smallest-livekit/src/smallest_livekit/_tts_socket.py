"""The pooled TTS WebSocket: the core's I/O loop, logging to this plugin's logger."""

from __future__ import annotations

import aiohttp

from smallest_core import TTSConnection
from smallest_core.aio import EventSink
from smallest_core.aio import TTSSocket as _CoreSocket

from .log import logger

__all__ = ["EventSink", "TTSSocket"]


class TTSSocket(_CoreSocket):
    """A TTS WebSocket shared by consecutive turns (one context at a time)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, protocol: TTSConnection) -> None:
        super().__init__(ws, protocol, logger)
