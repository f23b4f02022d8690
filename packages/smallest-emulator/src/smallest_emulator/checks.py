"""Request checks: each route's validation, run once by the middleware before the handler.

A check returns a refusal response (or raises ``HTTPNotFound``) or stores what it validated
on the request (``BODY_KEY``, ``TTS_PARAMS_KEY``, ``STT_PARAMS_KEY``, ``TIMEOUT_KEY``,
``V4_REFUSAL_KEY``) for the handler. ``app.build_app`` lists the checks of every route.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from smallest_emulator.config import EmulatorConfig
from smallest_emulator.frames import (
    invalid_request,
    plain_error,
    retired_model_body,
    stt_http_error,
    tts_http_400,
    v4_refusal,
    zod_issue,
)
from smallest_emulator.lightning_v4 import query_problem
from smallest_emulator.lightning_v32 import body_issues
from smallest_emulator.state import (
    BODY_KEY,
    STT_PARAMS_KEY,
    TIMEOUT_KEY,
    TTS_PARAMS_KEY,
    V4_REFUSAL_KEY,
)
from smallest_emulator.stt_params import ParamError, parse_http, parse_stream
from smallest_emulator.tts_common import validate
from smallest_emulator.voices import PER_MODEL_PATHS, RETIRED_MODELS


async def read_json_object(request: web.Request) -> dict[str, Any] | None:
    """The request's JSON object body, or None when it is not a JSON object."""
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _tts_400(cfg: EmulatorConfig, issues: list[dict[str, Any]]) -> web.Response:
    return web.json_response(tts_http_400(cfg.http_error_shape == "spec", issues), status=400)


async def known_model(request: web.Request, cfg: EmulatorConfig) -> web.StreamResponse | None:
    """A ``{model}`` path segment: 410 for a retired model (§3.2), 404 for an unknown one."""
    model = request.match_info.get("model")
    if model is None:
        return None
    if model in RETIRED_MODELS:
        return web.json_response(retired_model_body(model), status=410)
    if model not in PER_MODEL_PATHS:
        raise web.HTTPNotFound()
    return None


async def ws_timeout(request: web.Request, cfg: EmulatorConfig) -> web.StreamResponse | None:
    """``?timeout=`` (seconds, a positive integer) or the server's idle timeout."""
    timeout = cfg.idle_timeout_s
    if "timeout" in request.query:
        try:
            timeout = float(int(request.query["timeout"]))
            if timeout <= 0:
                raise ValueError
        except ValueError:
            return web.json_response(
                invalid_request("timeout must be a positive integer"), status=400
            )
    request[TIMEOUT_KEY] = timeout
    return None


async def json_body(request: web.Request, cfg: EmulatorConfig) -> web.StreamResponse | None:
    """A JSON object body (TTS routes' 400 shape)."""
    body = await read_json_object(request)
    if body is None:
        return _tts_400(cfg, [zod_issue("body", "Expected object", code="invalid_type")])
    request[BODY_KEY] = body
    return None


async def tts_body(request: web.Request, cfg: EmulatorConfig) -> web.StreamResponse | None:
    """The TTS request body (after :func:`json_body`): voice, rate, format, ids (§3, §8)."""
    params, issues = validate(
        request[BODY_KEY],
        path_model=request.match_info.get("model"),
        accept_any_voice=cfg.accept_any_voice,
    )
    if params is None:
        return _tts_400(cfg, issues)
    request[TTS_PARAMS_KEY] = params
    return None


async def v32_body(request: web.Request, cfg: EmulatorConfig) -> web.StreamResponse | None:
    """The Lightning v3.2 body (after :func:`json_body`): affect fields and v3.2 voices."""
    issues = body_issues(request[BODY_KEY], cfg)
    return _tts_400(cfg, issues) if issues else None


async def stt_query(request: web.Request, cfg: EmulatorConfig) -> web.StreamResponse | None:
    """STT query options: streaming (WS upgrade, §6.1) or pre-recorded (§5)."""
    if request.method == "GET":
        unified = request.path.startswith("/waves/v1/stt")
        try:
            request[STT_PARAMS_KEY] = parse_stream(request.query, unified=unified)
        except ParamError as exc:
            return web.json_response(plain_error(str(exc)), status=400)
        return None
    unified = request.path.rstrip("/").endswith("/stt")
    try:
        request[STT_PARAMS_KEY] = parse_http(request.query, unified=unified)
    except ParamError as exc:
        return web.json_response(stt_http_error(unified, str(exc)), status=400)
    return None


async def v4_query(request: web.Request, cfg: EmulatorConfig) -> web.StreamResponse | None:
    """Lightning v4 query: 400 for malformed numbers; other problems refused in the socket."""
    problem = query_problem(request.query)
    if problem is not None and problem[0]:
        return web.json_response(v4_refusal(problem[1], problem[2]), status=problem[0])
    request[V4_REFUSAL_KEY] = problem[1:] if problem is not None else None
    return None
