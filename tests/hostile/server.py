"""A hostile Waves server of our own: misbehaviour beyond the emulator's knobs.

One :class:`HostileServer` per test, in one named :data:`MODES` entry. It speaks just
enough of the protocol to serve a normal turn (continuation contexts on
``/waves/v1/tts/live``, ``POST /waves/v1/tts``, ``/waves/v1/stt/live``) with the
emulator's deterministic engine, and records what it received per context, so a test
compares each turn with the caller's text and with the audio made for exactly that text.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from drivers import Received

from smallest_emulator.engines.deterministic import synthesize

MODES = {
    "cancel-inflight": "after a cancel, the cancelled context's frames keep coming; no "
    "context_id is echoed, only a server request_id",
    "silent-after-one": "serves one context on a socket, then never answers on it again",
    "redirect": "the WebSocket upgrade is answered 302 to a second server on another port",
    "html-200": "HTTP synthesis answers 200 with a text/html page",
    "json-200": "HTTP synthesis answers 200 with an application/json error",
    "huge-timestamp": "a word timestamp of 1e308",
    "oversized-frame": "a text frame larger than 4 MiB mid-stream",
    "nested-frame": "a 100,000-deep nested JSON frame mid-stream",
    "nested-error-body": "the upgrade and HTTP synthesis refused with a 100,000-deep JSON body",
    "stt-1008": "STT sockets accepted, then closed at once with 1008",
    "key-echo": "a 401 body and an error frame that quote the caller's API key",
}
CHUNK_BYTES = 1024
INFLIGHT_CHUNKS = 8
"""Chunks of a cancelled context still sent after its cancel (cancel-inflight)."""
CHUNK_PACE_S = 0.01
PACED_CHUNKS = 16
"""cancel-inflight paces a context's first chunks (a barge-in lands mid-stream) and every
chunk after its cancel (they arrive while the next turn starts)."""
HTML_MESSAGE = "Gateway maintenance window in progress"
JSON_MESSAGE = "Monthly character quota exhausted"
NESTED = "[" * 100_000 + "]" * 100_000
HUGE_TIME = 1e308


@dataclass(eq=False)
class Context:
    """One client context as this server saw it."""

    connection: int
    context_id: str | None
    voice_id: str = ""
    sample_rate: int = 24000
    word_timestamps: bool = False
    text: str = ""
    pcm: bytes = b""
    """The audio made for the context's whole text (what a clean turn must play)."""
    sent: int = 0
    cancelled: bool = False
    request_id: str = field(default_factory=lambda: f"task_{uuid.uuid4().hex[:12]}")


def _bearer(request: web.Request) -> str:
    return request.headers.get("Authorization", "").removeprefix("Bearer ").strip()


class HostileServer:
    """``async with HostileServer(mode) as server``: ``server.base_url`` points at it."""

    def __init__(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; known: {', '.join(MODES)}")
        self.mode = mode
        self.contexts: list[Context] = []
        self.connections: dict[str, int] = {}
        self.auth_seen_by_target: list[str] = []
        """Every Authorization header the redirect target received (redirect)."""
        self.target_requests = 0
        self.spoken = 0
        """Contexts spoken so far (frame faults hit the first one only)."""
        self._sockets: set[web.WebSocketResponse] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._runners: list[web.AppRunner] = []
        self._port = 0
        self._target_port = 0

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> HostileServer:
        app = web.Application()
        app.router.add_get("/waves/v1/tts/live", self._tts_ws)
        app.router.add_post("/waves/v1/tts", self._tts_http)
        app.router.add_get("/waves/v1/stt/live", self._stt_ws)
        self._port = await self._serve(app)
        if self.mode == "redirect":
            target = web.Application()
            target.router.add_route("*", "/{tail:.*}", self._target)
            self._target_port = await self._serve(target)
        return self

    async def _serve(self, app: web.Application) -> int:
        runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runners.append(runner)
        server = site._server
        assert server is not None
        return int(server.sockets[0].getsockname()[1])  # type: ignore[union-attr]

    async def __aexit__(self, *exc: object) -> None:
        for ws in list(self._sockets):
            await ws.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for runner in self._runners:
            await runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def received(self) -> list[Received]:
        """What each TTS context received, in arrival order (for the caller-text check)."""
        return [Received(c.text, c.sent) for c in self.contexts]

    def contexts_for(self, text: str) -> list[Context]:
        return [c for c in self.contexts if c.text.strip() == text.strip()]

    def _count(self, route: str) -> int:
        self.connections[route] = self.connections.get(route, 0) + 1
        return self.connections[route]

    # ------------------------------------------------------------------ TTS WebSocket
    async def _tts_ws(self, request: web.Request) -> web.StreamResponse:
        n = self._count("tts")
        if self.mode == "redirect":
            location = f"http://127.0.0.1:{self._target_port}/waves/v1/tts/live"
            raise web.HTTPFound(location)
        if self.mode == "nested-error-body":
            return web.Response(status=500, text=NESTED, content_type="application/json")
        upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
        if self.mode == "key-echo" and (n == 1 or not upgrade):
            body = {"message": f"Invalid API key: {_bearer(request)}"}
            return web.json_response(body, status=401)
        ws = web.WebSocketResponse(max_msg_size=8 * 1024 * 1024)
        await ws.prepare(request)
        self._sockets.add(ws)
        session = _TtsSession(self, ws, n, _bearer(request))
        try:
            await session.run()
        finally:
            self._sockets.discard(ws)
        return ws

    # ------------------------------------------------------------------ TTS HTTP
    async def _tts_http(self, request: web.Request) -> web.StreamResponse:
        self._count("tts-http")
        body = await request.json()
        ctx = Context(0, None, str(body.get("voice_id", "")), int(body.get("sample_rate", 24000)))
        ctx.text = str(body.get("text", ""))
        self.contexts.append(ctx)
        if self.mode == "html-200":
            page = f"<html><body><h1>{HTML_MESSAGE}</h1></body></html>"
            return web.Response(status=200, text=page, content_type="text/html")
        if self.mode == "json-200":
            return web.json_response({"message": JSON_MESSAGE}, status=200)
        if self.mode == "nested-error-body":
            return web.Response(status=500, text=NESTED, content_type="application/json")
        if self.mode == "key-echo":
            body = {"message": f"Invalid API key: {_bearer(request)}"}
            return web.json_response(body, status=401)
        ctx.pcm = synthesize(ctx.text, ctx.sample_rate, voice_id=ctx.voice_id).pcm
        ctx.sent = len(ctx.pcm)
        return web.Response(body=ctx.pcm, content_type="audio/wav")

    # ------------------------------------------------------------------ STT WebSocket
    async def _stt_ws(self, request: web.Request) -> web.StreamResponse:
        self._count("stt")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        if self.mode == "stt-1008":
            await ws.close(code=1008, message=b"Too many open sessions")
            return ws
        self._sockets.add(ws)
        try:
            async for _ in ws:
                pass
        finally:
            self._sockets.discard(ws)
        return ws

    # ------------------------------------------------------------------ redirect target
    async def _target(self, request: web.Request) -> web.StreamResponse:
        self.target_requests += 1
        auth = request.headers.get("Authorization")
        if auth is not None:
            self.auth_seen_by_target.append(auth)
        return web.json_response({"message": "Unauthorized"}, status=401)


class _TtsSession:
    """One TTS socket: contexts served one after another, in arrival order."""

    def __init__(self, server: HostileServer, ws: web.WebSocketResponse, n: int, key: str):
        self.server = server
        self.ws = ws
        self.n = n
        self.key = key
        self.open: dict[str | None, Context] = {}
        self.by_id: dict[str, Context] = {}
        self.queue: asyncio.Queue[Context] = asyncio.Queue()
        self.served = 0
        self.silent = False

    async def run(self) -> None:
        worker = asyncio.create_task(self._worker())
        self.server._tasks.add(worker)
        try:
            async for msg in self.ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_message(json.loads(msg.data))
        finally:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
            self.server._tasks.discard(worker)

    async def _on_message(self, msg: dict[str, Any]) -> None:
        if self.silent:
            return
        cid = msg.get("context_id") if isinstance(msg.get("context_id"), str) else None
        if msg.get("cancel_request"):
            self.open.pop(cid, None)
            cancelled = self.by_id.get(cid or "")
            if cancelled is not None:
                cancelled.cancelled = True
            return
        ctx = self.open.get(cid)
        if ctx is None and cid is not None and cid in self.by_id:
            return  # a context this server already closed or failed
        if ctx is None:
            ctx = Context(
                self.n,
                cid,
                str(msg.get("voice_id", "")),
                int(msg.get("sample_rate", 24000)),
                bool(msg.get("word_timestamps", False)),
            )
            self.open[cid] = ctx
            if cid is not None:
                self.by_id[cid] = ctx
            self.server.contexts.append(ctx)
        ctx.text += str(msg.get("text", ""))
        if self.server.mode == "key-echo":
            self.open.pop(cid, None)
            await self._send({"status": "error", "message": f"key {self.key} may not do this"})
            return
        if not msg.get("continue", False):
            self.open.pop(cid, None)
            self.queue.put_nowait(ctx)

    async def _send(self, frame: dict[str, Any] | str) -> None:
        if not self.ws.closed:
            await self.ws.send_str(frame if isinstance(frame, str) else json.dumps(frame))

    def _ids(self, ctx: Context) -> dict[str, Any]:
        ids: dict[str, Any] = {"session_id": f"ws_{self.n}", "request_id": ctx.request_id}
        if self.server.mode != "cancel-inflight" and ctx.context_id is not None:
            ids["context_id"] = ctx.context_id
        return ids

    async def _worker(self) -> None:
        while True:
            ctx = await self.queue.get()
            if self.silent:
                continue
            await self._speak(ctx)
            self.served += 1
            if self.server.mode == "silent-after-one":
                self.silent = True

    async def _speak(self, ctx: Context) -> None:
        mode = self.server.mode
        syn = synthesize(ctx.text, ctx.sample_rate, voice_id=ctx.voice_id)
        ctx.pcm = syn.pcm
        words = list(syn.words) if ctx.word_timestamps else []
        inflight = INFLIGHT_CHUNKS
        self.server.spoken += 1
        first = self.server.spoken == 1
        for n, start in enumerate(range(0, len(syn.pcm), CHUNK_BYTES)):
            if ctx.cancelled:
                if inflight == 0:
                    return  # no complete, no ack: the rest of it just stops
                inflight -= 1
            chunk = syn.pcm[start : start + CHUNK_BYTES]
            while words and words[0].start_sample * 2 < start + len(chunk):
                w = words.pop(0)
                t0, t1 = w.start, w.end
                if mode == "huge-timestamp" and w.index == 1:
                    t0 = t1 = HUGE_TIME
                data = {"id": w.index, "word": w.word, "start": t0, "end": t1}
                await self._send({"status": "word_timestamp", **self._ids(ctx), "data": data})
            audio = base64.b64encode(chunk).decode()
            await self._send({"status": "chunk", **self._ids(ctx), "data": {"audio": audio}})
            ctx.sent += len(chunk)
            if first and n == 2 and mode == "oversized-frame":
                huge = base64.b64encode(bytes(5 * 1024 * 1024)).decode()
                await self._send({"status": "chunk", **self._ids(ctx), "data": {"audio": huge}})
            if first and n == 2 and mode == "nested-frame":
                await self._send(NESTED)
            paced = mode == "cancel-inflight" and (ctx.cancelled or n < PACED_CHUNKS)
            await asyncio.sleep(CHUNK_PACE_S if paced else 0)
        if not ctx.cancelled:
            await self._send({"status": "complete", **self._ids(ctx)})
