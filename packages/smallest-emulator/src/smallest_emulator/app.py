"""aiohttp application: the routes and the checks each route's requests pass.

Auth, overrides, faults and validation run in :mod:`smallest_emulator.middleware`; the
handlers here read the validated values from the request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aiohttp import web

from smallest_emulator import checks
from smallest_emulator.catalog_routes import add_routes as add_catalog_routes
from smallest_emulator.config import EmulatorConfig
from smallest_emulator.frames import health_body, retired_model_body
from smallest_emulator.lightning_v4 import lightning_v4_live
from smallest_emulator.lightning_v32 import lightning_v32_speech
from smallest_emulator.middleware import CHECKS_KEY, Check, Handler, emulator_middleware
from smallest_emulator.records import SttRecord
from smallest_emulator.state import (
    CFG_KEY,
    CONN_KEY,
    LOG_KEY,
    STATE_KEY,
    STT_PARAMS_KEY,
    TIMEOUT_KEY,
    EmulatorState,
)
from smallest_emulator.stt_http import stt_http
from smallest_emulator.stt_params import as_dict
from smallest_emulator.stt_ws import SttWsSession, reject_concurrency
from smallest_emulator.tts_http import tts_sse, tts_sync
from smallest_emulator.tts_ws import TtsWsSession
from smallest_emulator.voices import RETIRED_MODELS


async def retired_stream(request: web.Request) -> web.Response:
    """``GET /waves/v1/{model}/stream``: old SDK socket routes, retired (§2, §4.7)."""
    model = request.match_info["model"]
    if model in (*RETIRED_MODELS, "streaming-tts"):
        body = retired_model_body(model, recommended="/waves/v1/tts/live")
        return web.json_response(body, status=410)
    raise web.HTTPNotFound()


async def per_model(request: web.Request) -> web.StreamResponse:
    """Per-model HTTP routes (model checked by :func:`checks.known_model`): sync or stream."""
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
    timeout: float = request[TIMEOUT_KEY]
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
    params = request[STT_PARAMS_KEY]
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
    app[CHECKS_KEY] = ROUTE_CHECKS
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
    return web.json_response(health_body())


_TTS_BODY: Sequence[Check] = (checks.json_body, checks.tts_body)
#: The checks each route's requests pass (in order) before its handler runs.
ROUTE_CHECKS: Mapping[Handler, Sequence[Check]] = {
    tts_ws: (checks.known_model, checks.ws_timeout),
    tts_sse: _TTS_BODY,
    tts_sync: _TTS_BODY,
    per_model: (checks.known_model, *_TTS_BODY),
    lightning_v32_speech: (checks.json_body, checks.v32_body),
    lightning_v4_live: (checks.v4_query,),
    stt_ws: (checks.stt_query,),
    stt_http: (checks.stt_query,),
    pulse_get_text: (checks.stt_query,),
}
