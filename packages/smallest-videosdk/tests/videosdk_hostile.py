"""A tiny local Waves-like server whose misbehaviour each test scripts (the emulator
cannot go silent mid-session, send absurd frames, quote the key or answer 200 with HTML)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer
from catch_all import base_url, serve_catch_all

Handler = Callable[["Tiny", web.Request], Awaitable[web.StreamResponse]]

PCM_CHUNK = b"\x01\x02" * 512


@dataclass
class Tiny:
    """``async with Tiny(handler) as server``: one catch-all route on 127.0.0.1."""

    handler: Handler
    connections: int = 0
    """WebSocket upgrades accepted."""
    attempts: int = 0
    """Requests of any kind (upgrade attempts included)."""
    texts: list[list[str]] = field(default_factory=list)
    """Per accepted socket: the ``text`` of every fragment received."""
    audio: list[int] = field(default_factory=list)
    """Per accepted socket: binary bytes received."""
    close_codes: list[int | None] = field(default_factory=list)
    """Per accepted socket: the close code the client sent (or None)."""
    body_bytes_written: int = 0
    state: dict[str, Any] = field(default_factory=dict)
    _server: TestServer | None = None

    async def __aenter__(self) -> Tiny:
        async def route(request: web.Request) -> web.StreamResponse:
            self.attempts += 1
            return await self.handler(self, request)

        self._server = await serve_catch_all(route)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            await self._server.close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return base_url(self._server)

    async def accept(self, request: web.Request) -> tuple[web.WebSocketResponse, int]:
        """Upgrade; returns the socket and its index in the per-socket records."""
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self.connections += 1
        self.texts.append([])
        self.audio.append(0)
        self.close_codes.append(None)
        return ws, self.connections - 1

    async def receive(self, ws: web.WebSocketResponse, index: int) -> dict[str, Any] | None:
        """The next JSON message from the client (binary counted), or None once closed."""
        while True:
            msg = await ws.receive()
            if msg.type is WSMsgType.BINARY:
                self.audio[index] += len(msg.data)
                continue
            if msg.type is not WSMsgType.TEXT:
                self.close_codes[index] = ws.close_code
                return None
            data: dict[str, Any] = json.loads(msg.data)
            if not isinstance(data, dict):
                continue
            if isinstance(data.get("text"), str):
                self.texts[index].append(data["text"])
            return data

    async def take_audio(self, ws: web.WebSocketResponse, index: int, nbytes: int) -> None:
        """Read until ``nbytes`` of audio arrived on socket ``index`` (or it closed)."""
        while self.audio[index] < nbytes:
            msg = await ws.receive()
            if msg.type is WSMsgType.BINARY:
                self.audio[index] += len(msg.data)
            elif msg.type is not WSMsgType.TEXT:
                return


async def serve_context(ws: web.WebSocketResponse, msg: dict[str, Any], chunks: int = 4) -> None:
    """Answer a closing fragment like the service: audio chunks, then ``complete``."""
    ids = {"context_id": msg.get("context_id"), "request_id": "task_1"}
    audio = base64.b64encode(PCM_CHUNK).decode()
    for _ in range(chunks):
        await ws.send_json({"status": "chunk", "data": {"audio": audio}, **ids})
    await ws.send_json({"status": "complete", **ids})


async def huge_body(tiny: Tiny, request: web.Request, status: int, size: int) -> web.StreamResponse:
    """A response of ``status`` streaming ``size`` bytes (stops when the client goes away)."""
    resp = web.StreamResponse(status=status, headers={"Content-Type": "text/plain"})
    await resp.prepare(request)
    block = b"x" * 65536
    try:
        while tiny.body_bytes_written < size:
            await resp.write(block)
            tiny.body_bytes_written += len(block)
            await asyncio.sleep(0)
    except (ConnectionError, RuntimeError):
        pass
    return resp
