"""Pre-recorded STT over HTTP (§5.1 unified, §5.2 legacy Pulse)."""

from __future__ import annotations

import asyncio
import json
import math
import uuid
from typing import Any

from aiohttp import web

from smallest_emulator import audio, stt_extras
from smallest_emulator.config import EmulatorConfig
from smallest_emulator.frames import stt_http_error, stt_result
from smallest_emulator.records import SttRecord
from smallest_emulator.state import (
    CFG_KEY,
    CONN_KEY,
    LOG_KEY,
    STATE_KEY,
    STT_PARAMS_KEY,
    EmulatorState,
)
from smallest_emulator.stt_params import SttParams, as_dict
from smallest_emulator.stt_sources import MISSING_URL, SourceError, decode, fetch_url
from smallest_emulator.transcripts import Segment, Transcriber, word_objects

_PRO_CHUNK_S = 30.0
"""Pulse Pro splits audio into chunks of about this length (reported as num_chunks)."""
_PRO_MS_PER_AUDIO_S = 25.0
"""Processing time the emulator reports per second of audio (an rtfx of 40)."""


def _json(data: bytes) -> dict[str, Any]:
    try:
        body = json.loads(data)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise SourceError(MISSING_URL)
    return body


def _err(unified: bool, status: int, text: str) -> web.Response:
    return web.json_response(stt_http_error(unified, text), status=status)


async def stt_http(request: web.Request) -> web.Response:
    """``POST /waves/v1/stt/`` (unified) and ``POST /waves/v1/pulse/get_text`` (legacy)."""
    state: EmulatorState = request.app[STATE_KEY]
    cfg: EmulatorConfig = request[CFG_KEY]
    unified = request.path.rstrip("/").endswith("/stt")
    p: SttParams = request[STT_PARAMS_KEY]  # validated by checks.stt_query
    if request.content_length is not None and request.content_length > cfg.stt_max_bytes:
        if unified:
            return _err(True, 413, "File size exceeds maximum limit of 250MB.")
        return _err(False, 400, "Audio data too large")
    data = await request.read()
    if len(data) > cfg.stt_max_bytes:
        if unified:
            return _err(True, 413, "File size exceeds maximum limit of 250MB.")
        return _err(False, 400, "Audio data too large")
    try:
        if request.content_type == "application/json":
            payload = _json(data)
            data = await fetch_url(payload.get("url"), cfg.stt_max_bytes)
        raw = "encoding" in request.query
        decoded = await asyncio.to_thread(decode, data, p, raw_encoding=raw)
    except SourceError as exc:
        if exc.too_large and unified:
            return _err(True, 413, str(exc))
        return _err(unified, 400, str(exc))
    pcm, rate = decoded.pcm, decoded.rate
    record = SttRecord("http", request[CONN_KEY], as_dict(request.query), audio_bytes=decoded.size)
    state.stt_log.append(record)
    tr = Transcriber(state, cfg, rate)
    seg = Segment()
    if audio.peak(pcm) >= cfg.vad_threshold:
        seg.start_s = 0.0
        seg.speech_s = len(pcm) / 2 / rate
        tr.observe(seg, pcm[: 1 << 16], True)
        if cfg.stt_engine == "pocketsphinx":
            seg.pcm = bytearray(pcm)
    text = await tr.final_text(seg)
    duration = len(pcm) / 2 / rate if rate else 0.0
    body = stt_result(text, duration, len(data), unified=unified)
    if p.redact_pii or p.redact_pci:
        text, entities = stt_extras.redact(text, pii=p.redact_pii, pci=p.redact_pci)
        body["transcription"] = text
        body["redacted_entities"] = entities
    words = word_objects(text.split(), 0.0, cfg, p.diarize)
    if p.word_timestamps:
        body["words"] = words
    if p.word_timestamps or p.sentence_timestamps:
        body["utterances"] = stt_extras.utterances(text, words, 0.0, duration, p.diarize)
    if p.emotion_detection and text:
        body["emotions"] = stt_extras.emotions(text)
    if p.gender_detection and text:
        body["gender"] = stt_extras.gender(text)
    if request.query.get("model") == "pulse-pro":
        # Pro answers: language and request id, Pro-only metadata, no utterances.
        body["language"] = p.final_language
        body["request_id"] = uuid.uuid4().hex
        body["totalBytes"] = len(data)
        body.pop("utterances", None)
        chunks = max(1, math.ceil(duration / _PRO_CHUNK_S))
        processing_ms = round(_PRO_MS_PER_AUDIO_S * max(duration, 0.001), 1)
        body["metadata"].update(
            processing_time_ms=processing_ms,
            rtfx=round(duration * 1000 / processing_ms, 1) if duration else 0.0,
            num_chunks=chunks,
        )
    record.transcripts.append(body)
    request[LOG_KEY] = f"bytes={len(data)} words={len(text.split())}"
    return web.json_response(body)
