"""aiohttp application: routes, auth, per-connection overrides, faults, request log."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import unquote

from aiohttp import web

from smallest_emulator.catalog_routes import add_routes as add_catalog_routes
from smallest_emulator.config import EmulatorConfig, parse_overrides
from smallest_emulator.errors import (
    error_text,
    forced_status_body,
    retired_model_body,
    unauthorized_body,
)
from smallest_emulator.lightning_v4 import lightning_v4_live
from smallest_emulator.lightning_v32 import lightning_v32_speech
from smallest_emulator.records import SttRecord
from smallest_emulator.state import CFG_KEY, CONN_KEY, LOG_KEY, STATE_KEY, EmulatorState
from smallest_emulator.stt_http import stt_http
from smallest_emulator.stt_params import ParamError, as_dict, parse_stream
from smallest_emulator.stt_ws import SttWsSession, reject_concurrency
from smallest_emulator.tts_http import tts_sse, tts_sync
from smallest_emulator.tts_ws import TtsWsSession
from smallest_emulator.voices import PER_MODEL_PATHS, RETIRED_MODELS

log = logging.getLogger("smallest_emulator")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _family(path: str) -> str:
    if path.startswith("/waves/v1/pulse"):
        return "pulse"
    if path.startswith("/waves/v1/stt"):
        return "stt"
    return "tts"


def resolve_config(state: EmulatorState, request: web.Request, key: str) -> EmulatorConfig:
    """Server config with the key's and the ``emulator=`` query's overrides applied."""
    cfg = state.config
    overrides = parse_overrides(key, has_key=True) if ";" in key else {}
    query = request.query.get("emulator")
    if query:
        overrides.update(parse_overrides(unquote(query), has_key=False))
    return cfg.with_overrides(overrides) if overrides else cfg


@web.middleware
async def emulator_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Auth, overrides, forced faults and one log line per request."""
    state: EmulatorState = request.app[STATE_KEY]
    started = time.monotonic()
    request[CONN_KEY] = state.next_id("conn")
    status: int | str = "-"
    try:
        resp = await _guarded(state, request, handler)
        status = resp.status
        if status >= 400 and isinstance(resp, web.Response) and not request.get(LOG_KEY):
            request[LOG_KEY] = _reason(resp)
        return resp
    except web.HTTPException as exc:
        status = exc.status
        raise
    except (asyncio.CancelledError, ConnectionError):
        status = "aborted"
        raise
    finally:
        extra = request.get(LOG_KEY, "")
        line = (
            f"{request.method} {request.path} {status} "
            f"{(time.monotonic() - started) * 1000:.0f}ms {extra}".rstrip()
        )
        state.requests.append(line)
        log.info(line)


def _reason(resp: web.Response) -> str:
    """``reason=...`` for a refusal's log line (server text only, never the request's key)."""
    try:
        body = json.loads(resp.body) if isinstance(resp.body, bytes) else None
    except ValueError:
        body = None
    text = error_text(body) if body is not None else (resp.reason or "")
    return f"reason={text[:200]!r}" if text else ""


async def _guarded(
    state: EmulatorState, request: web.Request, handler: Handler
) -> web.StreamResponse:
    family = _family(request.path)
    auth = request.headers.get("Authorization", "")
    key = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    if not key:
        return web.json_response(unauthorized_body(family, missing=True), status=401)
    try:
        cfg = resolve_config(state, request, key)
    except ValueError as exc:
        return web.json_response({"error": "InvalidRequest", "message": str(exc)}, status=400)
    bare = key.split(";", 1)[0]
    if "invalid" in bare or bare in cfg.reject_keys:
        return web.json_response(unauthorized_body(family, missing=False), status=401)
    request[CFG_KEY] = cfg
    if cfg.drop_connection_on_connect:
        if request.transport is not None:
            request.transport.abort()
        raise ConnectionResetError("drop_connection_on_connect")
    if cfg.http_status is not None:
        headers = {"Retry-After": "1"} if cfg.http_status == 429 else {}
        return web.json_response(
            forced_status_body(cfg.http_status, family), status=cfg.http_status, headers=headers
        )
    if cfg.never_answer and request.headers.get("Upgrade", "").lower() != "websocket":
        await state.shutdown.wait()
        raise ConnectionResetError("never_answer")
    return await handler(request)


async def retired_stream(request: web.Request) -> web.Response:
    """``GET /waves/v1/{model}/stream``: old SDK socket routes, retired (§2, §4.7)."""
    model = request.match_info["model"]
    if model in (*RETIRED_MODELS, "streaming-tts"):
        body = retired_model_body(model)
        body["recommended_endpoint"] = "/waves/v1/tts/live"
        return web.json_response(body, status=410)
    raise web.HTTPNotFound()


async def per_model(request: web.Request) -> web.StreamResponse:
    """Per-model HTTP routes: 410 for retired models (§3.2), else sync/stream."""
    model = request.match_info["model"]
    if model in RETIRED_MODELS:
        return web.json_response(retired_model_body(model), status=410)
    if model not in PER_MODEL_PATHS:
        raise web.HTTPNotFound()
    if request.path.endswith("/stream"):
        return await tts_sse(request)
    return await tts_sync(request)


async def _open_ws(request: web.Request, route: str) -> web.WebSocketResponse:
    state: EmulatorState = request.app[STATE_KEY]
    ws = web.WebSocketResponse(autoping=True, max_msg_size=16 * 1024 * 1024)
    await ws.prepare(request)
    state.open_sockets.add(ws)
    state.ws_connections.opened(route)
    return ws


def _close_ws(state: EmulatorState, ws: web.WebSocketResponse, route: str) -> None:
    state.open_sockets.discard(ws)
    state.ws_connections.closed(route)


async def tts_ws(request: web.Request) -> web.StreamResponse:
    """``WS /waves/v1/tts/live`` and ``WS /waves/v1/{model}/get_speech/stream``."""
    state: EmulatorState = request.app[STATE_KEY]
    cfg: EmulatorConfig = request[CFG_KEY]
    path_model = request.match_info.get("model")
    if path_model is not None:
        if path_model in RETIRED_MODELS:
            return web.json_response(retired_model_body(path_model), status=410)
        if path_model not in PER_MODEL_PATHS:
            raise web.HTTPNotFound()
    timeout = cfg.idle_timeout_s
    if "timeout" in request.query:
        try:
            timeout = float(int(request.query["timeout"]))
            if timeout <= 0:
                raise ValueError
        except ValueError:
            return web.json_response(
                {"error": "InvalidRequest", "message": "timeout must be a positive integer"},
                status=400,
            )
    route = "tts" if path_model is None else "tts-per-model"
    ws = await _open_ws(request, route)
    conn_id = request[CONN_KEY]
    try:
        if cfg.never_answer:
            async for _msg in ws:
                pass
            return ws
        session = TtsWsSession(state, ws, request, cfg, conn_id, timeout, path_model)
        await session.run()
        line = f"ws contexts={len(session.contexts)} chunks={session.chunks_sent}"
        if session.errors:
            line += f" errors={len(session.errors)} reason={session.errors[-1][:200]!r}"
        request[LOG_KEY] = line
        return ws
    finally:
        _close_ws(state, ws, route)


async def stt_ws(request: web.Request) -> web.StreamResponse:
    """``WS /waves/v1/stt/live`` and legacy ``WS /waves/v1/pulse/get_text``."""
    state: EmulatorState = request.app[STATE_KEY]
    cfg: EmulatorConfig = request[CFG_KEY]
    unified = request.path.startswith("/waves/v1/stt")
    try:
        params = parse_stream(request.query, unified=unified)
    except ParamError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    route = "stt" if unified else "pulse"
    ws = await _open_ws(request, route)
    record = SttRecord("ws", request[CONN_KEY], as_dict(request.query), trace=cfg.trace)
    state.stt_log.append(record)
    session = SttWsSession(state, ws, request, cfg, params, record)
    over = cfg.concurrency_limit is not None and state.open_stt_sessions >= cfg.concurrency_limit
    state.open_stt_sessions += 1
    try:
        if over:
            await reject_concurrency(session)
            return ws
        await session.run()
        line = f"ws audio={record.audio_bytes}B transcripts={len(record.transcripts)}"
        if session.errors:
            line += f" errors={len(session.errors)} reason={session.errors[-1][:200]!r}"
        request[LOG_KEY] = line
        return ws
    finally:
        state.open_stt_sessions -= 1
        _close_ws(state, ws, route)


async def pulse_get_text(request: web.Request) -> web.StreamResponse:
    """``/waves/v1/pulse/get_text``: WS upgrade (streaming) or POST (pre-recorded)."""
    if request.method == "GET":
        return await stt_ws(request)
    return await stt_http(request)


async def _on_shutdown(app: web.Application) -> None:
    state: EmulatorState = app[STATE_KEY]
    state.shutdown.set()
    for ws in list(state.open_sockets):
        await ws.close(code=1001, message=b"server shutdown")


def build_app(state: EmulatorState) -> web.Application:
    """Build the aiohttp application serving every emulated route."""
    app = web.Application(middlewares=[emulator_middleware], client_max_size=1024**3)
    app[STATE_KEY] = state
    r = app.router
    r.add_get("/waves/v1/tts/live", tts_ws)
    r.add_post("/waves/v1/tts/live", tts_sse)
    r.add_post("/waves/v1/tts", tts_sync)
    r.add_get("/waves/v1/{model}/get_speech/stream", tts_ws)
    r.add_post("/waves/v1/lightning-v3.2/get_speech", lightning_v32_speech)
    r.add_get("/waves/v1/lightning-v4/live", lightning_v4_live)
    r.add_post("/waves/v1/{model}/get_speech", per_model)
    r.add_post("/waves/v1/{model}/stream", per_model)
    r.add_get("/waves/v1/{model}/stream", retired_stream)
    add_catalog_routes(r)
    r.add_get("/waves/v1/stt/live", stt_ws)
    r.add_post("/waves/v1/stt/", stt_http)
    r.add_post("/waves/v1/stt", stt_http)
    r.add_route("*", "/waves/v1/pulse/get_text", pulse_get_text)
    r.add_get("/waves/v1/health", _health)
    r.add_get("/_emulator/traces", traces)
    app.on_shutdown.append(_on_shutdown)
    return app


async def traces(request: web.Request) -> web.Response:
    """Send times kept for connections with a ``trace`` label starting with ``?prefix=``.

    ``{"tts": {label: [[[pcm_bytes_sent, t], ...] per context]}, "stt": {label: [t, ...]}}``
    with ``t`` from ``time.monotonic()``, comparable with a client's on the same machine.
    """
    state: EmulatorState = request.app[STATE_KEY]
    prefix = request.query.get("prefix", "")
    tts: dict[str, list[list[tuple[int, float]]]] = {}
    for rec in state.tts_log:
        if rec.trace and rec.trace.startswith(prefix):
            tts.setdefault(rec.trace, []).append(rec.sends)
    stt: dict[str, list[float]] = {}
    for srec in state.stt_log:
        if srec.trace and srec.trace.startswith(prefix):
            stt.setdefault(srec.trace, []).extend(srec.finals_sent_at)
    return web.json_response({"tts": tts, "stt": stt})


async def _health(request: web.Request) -> web.Response:
    ok = {"status": "ok"}
    return web.json_response({"status": "ok", "mongo": ok, "redis": ok, "rabbitmq": ok})
