"""Tiny local servers that misbehave in ways the emulator cannot, for the hostile tests."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer
from catch_all import base_url, serve_catch_all
from pipecat.frames.frames import ErrorFrame
from pipecat.transcriptions.language import Language

from smallest_pipecat import SmallestHttpTTSService, SmallestSTTService, SmallestTTSService

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Seen:
    """One request a server received."""

    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Tiny:
    """``async with Tiny(handler) as server``: one catch-all handler on 127.0.0.1."""

    handler: Handler
    requests: list[Seen] = field(default_factory=list)
    port: int = 0
    _server: TestServer | None = None

    async def __aenter__(self) -> Tiny:
        async def record(request: web.Request) -> web.StreamResponse:
            self.requests.append(Seen(request.method, request.path, dict(request.headers)))
            return await self.handler(request)

        self._server = await serve_catch_all(record)
        self.port = self._server.port or 0
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            await self._server.close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return base_url(self._server)

    def saw(self, text: str) -> bool:
        """Whether ``text`` was in any header this server received."""
        return any(text in f"{k}: {v}" for r in self.requests for k, v in r.headers.items())


async def not_found(request: web.Request) -> web.StreamResponse:
    return web.Response(status=404, text="nothing here")


def redirect_to(target: Tiny, *, websocket: bool) -> Handler:
    """Answer everything with ``302`` to the same path on ``target``."""

    async def handler(request: web.Request) -> web.StreamResponse:
        scheme = "ws" if websocket else "http"
        location = f"{scheme}://127.0.0.1:{target.port}{request.path_qs}"
        return web.Response(status=302, headers={"Location": location})

    return handler


def pcm_chunk(samples: int = 2400) -> dict[str, Any]:
    """A TTS ``chunk`` frame body: ``samples`` of a quiet square wave."""
    audio = (b"\x10\x00\xf0\xff" * (samples // 2))[: samples * 2]
    return {"audio": base64.b64encode(audio).decode()}


TtsScript = Callable[[str, int], list[dict[str, Any] | str]]
"""``(context_id, turn)`` → the frames to send when a context is closed (str: sent raw)."""


def tts_server(script: TtsScript) -> Handler:
    """A Lightning socket answering each closed context with the frames ``script`` gives."""

    async def handler(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        turn = 0
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if data.get("continue") is False and "context_id" in data:
                turn += 1
                for frame in script(data["context_id"], turn):
                    await ws.send_str(frame if isinstance(frame, str) else json.dumps(frame))
        return ws

    return handler


def tts_turn(context_id: str, *extra: dict[str, Any], chunk: dict[str, Any] | None = None) -> list:
    """``extra`` frames, one audio chunk and ``complete`` for ``context_id``."""
    ids = {"context_id": context_id}
    audio = {"status": "chunk", **ids, "data": chunk or pcm_chunk()}
    return [*({**f, **ids} for f in extra), audio, {"status": "complete", **ids}]


@dataclass
class SttServer:
    """A Pulse socket whose first connection fails by ``fault`` after ``after_bytes``.

    Later connections behave: ``finalize`` and ``close_stream`` get a final transcript
    (``close_stream`` then closes). ``audio`` holds the bytes received per connection.
    """

    fault: Callable[[web.WebSocketResponse], Awaitable[None]] | None
    after_bytes: int = 16000
    transcript: str = "hello there"
    audio: list[int] = field(default_factory=list)

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        index = len(self.audio)
        self.audio.append(0)
        async for msg in ws:
            if msg.type is WSMsgType.BINARY:
                self.audio[index] += len(msg.data)
                if index == 0 and self.fault and self.audio[index] >= self.after_bytes:
                    await self.fault(ws)
                    return ws
            elif msg.type is WSMsgType.TEXT:
                kind = json.loads(msg.data).get("type")
                if kind in ("finalize", "close_stream"):
                    await ws.send_str(
                        json.dumps(
                            {
                                "type": "transcription",
                                "transcript": self.transcript,
                                "is_final": True,
                                "is_last": kind == "close_stream",
                                "from_finalize": kind == "finalize",
                            }
                        )
                    )
                if kind == "close_stream":
                    await ws.close()
        return ws


KEY = "sk_hostile_canary_5e1d"


def tts(url: str, key: str = KEY, **kwargs: Any) -> SmallestTTSService:
    return SmallestTTSService(
        api_key=key,
        base_url=url,
        settings=SmallestTTSService.Settings(voice="liam", language=Language.EN),
        **kwargs,
    )


def http_tts(url: str, key: str = KEY, **kwargs: Any) -> SmallestHttpTTSService:
    return SmallestHttpTTSService(api_key=key, base_url=url, **kwargs)


def stt(url: str, key: str = KEY, **kwargs: Any) -> SmallestSTTService:
    return SmallestSTTService(api_key=key, base_url=url, **kwargs)


def leaks(frames: list[ErrorFrame], secret: str = KEY) -> list[str]:
    texts = [f.error for f in frames]
    texts += [f"{f.exception!r} {f.exception} {f.exception.args}" for f in frames if f.exception]
    return [t for t in texts if secret in t]
