"""The one request middleware: auth, per-connection overrides, forced faults, validation, log.

Every route goes through :func:`emulator_middleware`, which in order: checks the bearer key
(401), resolves the connection's config from the key's and ``?emulator=`` overrides (400),
applies the connect-time faults (``drop_connection_on_connect``, ``http_status``,
``never_answer``), then runs the route's request checks (:data:`CHECKS_KEY`, from
:mod:`smallest_emulator.checks`) and only then calls the handler, which reads the validated
values from the request. One log line is kept per request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from urllib.parse import unquote

from aiohttp import web

from smallest_emulator.config import EmulatorConfig, parse_overrides
from smallest_emulator.frames import (
    error_text,
    forced_status_body,
    invalid_request,
    unauthorized_body,
)
from smallest_emulator.state import CFG_KEY, CONN_KEY, LOG_KEY, STATE_KEY, EmulatorState

log = logging.getLogger("smallest_emulator")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Check = Callable[[web.Request, EmulatorConfig], Awaitable[web.StreamResponse | None]]
"""A request check: a refusal response, or None (it may store parsed values on the request)."""

#: Application key: route handler -> the checks its requests pass before it runs.
CHECKS_KEY = web.AppKey("smallest_emulator_checks", Mapping[Handler, Sequence[Check]])


def route_family(path: str) -> str:
    """``pulse``, ``stt`` or ``tts``: which family's error bodies a route uses."""
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
    """Auth, overrides, forced faults, request checks and one log line per request."""
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
    family = route_family(request.path)
    auth = request.headers.get("Authorization", "")
    key = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    if not key:
        return web.json_response(unauthorized_body(family, missing=True), status=401)
    try:
        cfg = resolve_config(state, request, key)
    except ValueError as exc:
        return web.json_response(invalid_request(str(exc)), status=400)
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
    checks = request.app.get(CHECKS_KEY, {}).get(request.match_info.handler, ())
    for check in checks:
        refusal = await check(request, cfg)
        if refusal is not None:
            return refusal
    return await handler(request)
