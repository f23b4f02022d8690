"""TTS over HTTP: sync binary (§3.1), SSE (§3.1), legacy per-model routes (§3.2)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from aiohttp import web

from smallest_emulator import frames
from smallest_emulator.config import EmulatorConfig
from smallest_emulator.frames import forced_status_body
from smallest_emulator.records import TtsRecord, WordRecord
from smallest_emulator.state import (
    BODY_KEY,
    CFG_KEY,
    CONN_KEY,
    LOG_KEY,
    STATE_KEY,
    TTS_PARAMS_KEY,
    EmulatorState,
)
from smallest_emulator.tts_common import Pacer, TtsParams, encode_chunks, synthesize


def _headers(params_body: dict[str, Any], request_id: str, session_id: str) -> dict[str, str]:
    h = {"X-Session-Id": session_id, "X-Request-Id": request_id}
    if isinstance(params_body.get("session_id"), str):
        h["X-External-Session-Id"] = params_body["session_id"]
    if isinstance(params_body.get("request_id"), str):
        h["X-External-Request-Id"] = params_body["request_id"]
    return h


async def _prepare(
    request: web.Request, state: EmulatorState, transport: str
) -> tuple[dict[str, Any], TtsParams, TtsRecord] | web.Response:
    """The validated body and params (``checks.tts_body``), or the concurrency refusal."""
    cfg: EmulatorConfig = request[CFG_KEY]
    body: dict[str, Any] = request[BODY_KEY]
    params: TtsParams = request[TTS_PARAMS_KEY]
    if cfg.concurrency_limit is not None and state.inflight_syntheses >= cfg.concurrency_limit:
        return web.json_response(
            forced_status_body(429, "tts"), status=429, headers={"Retry-After": "1"}
        )
    record = TtsRecord(
        transport=transport,
        connection_id=request[CONN_KEY],
        context_id=None,
        sample_rate=params.sample_rate,
        output_format=params.output_format,
        voice_id=params.voice_id,
        text=body["text"],
    )
    if isinstance(body.get("request_id"), str):
        record.external_request_id = body["request_id"]
    return body, params, record


async def tts_sync(request: web.Request) -> web.StreamResponse:
    """``POST /waves/v1/tts`` and ``/waves/v1/{model}/get_speech``: chunked binary audio."""
    state: EmulatorState = request.app[STATE_KEY]
    cfg: EmulatorConfig = request[CFG_KEY]
    prepared = await _prepare(request, state, "http")
    if isinstance(prepared, web.Response):
        return prepared
    body, params, record = prepared
    state.inflight_syntheses += 1
    try:
        syn = await synthesize(state, cfg, body["text"], params)
        chunks = encode_chunks(
            syn.pcm, params.output_format, params.sample_rate, cfg.chunk_bytes, b64=False
        )
        _log_synthesis(state, record, syn, "http")
        request_id = record.request_ids[0]
        resp = web.StreamResponse(
            status=200,
            headers={
                "Content-Type": "audio/wav",
                **_headers(body, request_id, f"sess_{uuid.uuid4().hex[:12]}"),
            },
        )
        resp.enable_chunked_encoding()
        if cfg.ttfb_ms > 0:
            await asyncio.sleep(cfg.ttfb_ms / 1000)
        await resp.prepare(request)
        pacer = Pacer(cfg.speed, params.sample_rate)
        for n, chunk in enumerate(chunks, 1):
            await resp.write(chunk.data)
            record.bytes_sent += len(chunk.data)
            record.chunks_sent += 1
            if cfg.close_after_chunks == n and request.transport is not None:
                request.transport.abort()
                return resp
            await pacer.wait_until(chunk.end_sample)
        await resp.write_eof()
        record.done = True
        request[LOG_KEY] = (
            f"voice={params.voice_id} fmt={params.output_format} bytes={record.bytes_sent}"
        )
        return resp
    finally:
        state.inflight_syntheses -= 1


async def tts_sse(request: web.Request) -> web.StreamResponse:
    """``POST /waves/v1/tts/live`` and ``/waves/v1/{model}/stream``: server-sent events."""
    state: EmulatorState = request.app[STATE_KEY]
    cfg: EmulatorConfig = request[CFG_KEY]
    prepared = await _prepare(request, state, "sse")
    if isinstance(prepared, web.Response):
        return prepared
    body, params, record = prepared
    state.inflight_syntheses += 1
    try:
        syn = await synthesize(state, cfg, body["text"], params)
        chunks = encode_chunks(syn.pcm, params.output_format, params.sample_rate, cfg.chunk_bytes)
        _log_synthesis(state, record, syn, "sse")
        request_id = record.request_ids[0]
        resp = web.StreamResponse(
            status=200,
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                **_headers(body, request_id, f"sess_{uuid.uuid4().hex[:12]}"),
            },
        )
        if cfg.ttfb_ms > 0:
            await asyncio.sleep(cfg.ttfb_ms / 1000)
        await resp.prepare(request)
        pacer = Pacer(cfg.speed, params.sample_rate)
        for n, chunk in enumerate(chunks, 1):
            await resp.write(frames.sse_chunk(cfg.sse_shape, chunk.b64, request_id).encode())
            record.bytes_sent += len(chunk.data)
            record.chunks_sent += 1
            if cfg.error_after_chunks == n:
                await resp.write(frames.sse_error(cfg.error_message).encode())
                await resp.write_eof()
                return resp
            if cfg.close_after_chunks == n and request.transport is not None:
                request.transport.abort()
                return resp
            await pacer.wait_until(chunk.end_sample)
        await resp.write(frames.sse_end(cfg.sse_shape, request_id).encode())
        await resp.write_eof()
        record.done = True
        request[LOG_KEY] = f"voice={params.voice_id} events={len(chunks)}"
        return resp
    finally:
        state.inflight_syntheses -= 1


def _log_synthesis(state: EmulatorState, record: TtsRecord, syn: Any, transport: str) -> None:
    request_id = f"task_{uuid.uuid4().hex[:16]}"
    record.request_ids.append(request_id)
    record.releases.append(record.text)
    record.pcm += syn.pcm
    record.closed = True
    for w in syn.words:
        record.words.append(
            WordRecord(
                w.index,
                w.word,
                w.start_sample,
                w.end_sample,
                w.start,
                w.end,
                request_id,
                w.start_sample,
            )
        )
    state.tts_log.append(record)
