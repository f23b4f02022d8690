"""Tiny aiohttp servers that misbehave in ways the emulator cannot (silence, huge frames,
trickled bodies, quoted keys, refusals), for the hostile-server tests."""

from __future__ import annotations

import asyncio
import base64
import json
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

SECRET = "sk_live_hostile_0123456789abcdef"
"""A key long enough for the core's redaction (short placeholders are not searched for)."""
PCM = b"\x01\x02" * 2400  # 100 ms at 24 kHz
TTS_WS = "/waves/v1/tts/live"
TTS_HTTP = "/waves/v1/tts"
STT_WS = "/waves/v1/stt/live"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serve(routes: dict[tuple[str, str], Handler]) -> AsyncIterator[str]:
    """Run ``{(method, path): handler}`` on a free loopback port; yields the base URL."""
    app = web.Application()
    for (method, path), handler in routes.items():
        app.router.add_route(method, path, handler)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def is_upgrade(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


def chunk_frame(context_id: str, pcm: bytes = PCM) -> str:
    audio = base64.b64encode(pcm).decode()
    return json.dumps({"status": "chunk", "context_id": context_id, "data": {"audio": audio}})


def complete_frame(context_id: str) -> str:
    return json.dumps({"status": "complete", "context_id": context_id, "done": True})


def oversized_header(size: int) -> bytes:
    """The header of an unmasked text frame announcing ``size`` payload bytes."""
    return bytes([0x81, 127]) + struct.pack(">Q", size)


@dataclass
class TTSServer:
    """A TTS WebSocket that answers the first ``answer_per_socket`` contexts of each socket
    with one chunk and a complete, then ignores the rest (silent, socket left open)."""

    answer_per_socket: int = 1
    on_close_message: (
        Callable[[web.Request, web.WebSocketResponse, str], Awaitable[bool]] | None
    ) = None
    """Called for a context's closing message; True means it was answered."""
    connections: int = 0
    close_codes: list[int | None] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections += 1
        answered = 0
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            data: dict[str, Any] = json.loads(msg.data)
            cid = str(data.get("context_id"))
            if data.get("continue") is not False or answered >= self.answer_per_socket:
                continue
            if self.on_close_message is not None and await self.on_close_message(request, ws, cid):
                answered += 1
                continue
            answered += 1
            await ws.send_str(chunk_frame(cid))
            await ws.send_str(complete_frame(cid))
        self.close_codes.append(ws.close_code)
        return ws


@dataclass
class STTServer:
    """A Pulse WebSocket whose n-th connection follows ``plans[n]`` (the last one repeats).

    Plans: ``"serve"`` answers ``close_stream`` with a last transcript; ``"refuse:<status>"``
    refuses the upgrade; ``"close:<code>"`` accepts then closes with ``code``;
    ``"drop_after:<bytes>"`` closes (1011) once that much audio arrived.
    """

    plans: list[str]
    transcript: str = "hello there"
    retry_after: str | None = None
    attempts: list[float] = field(default_factory=list)
    """Loop time of every upgrade attempt."""
    audio: list[int] = field(default_factory=list)
    """Audio bytes received on each accepted connection."""
    frames: list[str] = field(default_factory=list)
    """Text frames sent to the client, besides transcripts (set by a test)."""
    dropped: asyncio.Event = field(default_factory=asyncio.Event)

    def _plan(self) -> str:
        return self.plans[min(len(self.attempts) - 1, len(self.plans) - 1)]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if not is_upgrade(request):  # the client re-reading a refusal's body
            return self._refusal(self._plan())
        self.attempts.append(asyncio.get_running_loop().time())
        plan = self._plan()
        if plan.startswith("refuse:"):
            return self._refusal(plan)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.audio.append(0)
        if plan.startswith("close:"):
            await ws.close(code=int(plan.partition(":")[2]), message=b"too many sessions")
            return ws
        for frame in self.frames:
            await ws.send_str(frame)
        limit = int(plan.partition(":")[2]) if plan.startswith("drop_after:") else None
        async for msg in ws:
            if msg.type is WSMsgType.BINARY:
                self.audio[-1] += len(msg.data)
                if limit is not None and self.audio[-1] >= limit:
                    self.dropped.set()
                    await ws.close(code=1011, message=b"internal error")
                    break
            elif msg.type is WSMsgType.TEXT and json.loads(msg.data).get("type") == "close_stream":
                word = {"word": self.transcript.split()[0], "start": 0.1, "end": 0.3}
                final = {
                    "transcript": self.transcript,
                    "is_final": True,
                    "is_last": True,
                    "words": [word],
                }
                await ws.send_str(json.dumps(final))
                await ws.close()
                break
        return ws

    def _refusal(self, plan: str) -> web.Response:
        status = int(plan.partition(":")[2]) if plan.startswith("refuse:") else 503
        headers = {"Retry-After": self.retry_after} if self.retry_after else None
        return web.json_response({"error": "slow down"}, status=status, headers=headers)
