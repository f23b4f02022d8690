"""Pre-recorded STT over HTTP (§5.1 unified, §5.2 legacy Pulse)."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from smallest_emulator import audio
from smallest_emulator.config import EmulatorConfig
from smallest_emulator.records import SttRecord
from smallest_emulator.state import CFG_KEY, CONN_KEY, LOG_KEY, STATE_KEY, EmulatorState
from smallest_emulator.stt_params import ParamError, as_dict, parse_http
from smallest_emulator.transcripts import Segment, Transcriber, to_pcm16, word_objects


def _err(unified: bool, status: int, text: str) -> web.Response:
    if unified:
        return web.json_response({"error": text}, status=status)
    return web.json_response(
        {"errors": text, "status": "error", "message": "Error handling audio data"}, status=status
    )


async def stt_http(request: web.Request) -> web.Response:
    """``POST /waves/v1/stt/`` (unified) and ``POST /waves/v1/pulse/get_text`` (legacy)."""
    state: EmulatorState = request.app[STATE_KEY]
    cfg: EmulatorConfig = request[CFG_KEY]
    unified = request.path.rstrip("/").endswith("/stt")
    try:
        p = parse_http(request.query, unified=unified)
    except ParamError as exc:
        return _err(unified, 400, str(exc))
    if request.content_length is not None and request.content_length > cfg.stt_max_bytes:
        if unified:
            return _err(True, 413, "File size exceeds maximum limit of 250MB.")
        return _err(False, 400, "Audio data too large")
    data = await request.read()
    if len(data) > cfg.stt_max_bytes:
        if unified:
            return _err(True, 413, "File size exceeds maximum limit of 250MB.")
        return _err(False, 400, "Audio data too large")
    if not data:
        return _err(unified, 400, "Invalid file format. Supported formats: audio/*")
    wav = audio.parse_wav(data)
    if wav is not None:
        payload, rate, fmt = wav
        encoding = {6: "alaw", 7: "mulaw"}.get(fmt, "linear16")
    else:
        payload, rate, encoding = data, p.sample_rate, p.encoding
    pcm = to_pcm16(payload, encoding) or b""
    record = SttRecord("http", request[CONN_KEY], as_dict(request.query), audio_bytes=len(data))
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
    body: dict[str, Any] = {
        "status": "success",
        "transcription": text,
        "metadata": {"duration": round(duration, 3), "fileSize": len(data)},
    }
    if not unified:
        body["audio_length"] = round(duration, 3)
    if p.word_timestamps:
        words = word_objects(text.split(), 0.0, cfg, p.diarize)
        body["words"] = words
        utt: dict[str, Any] = {
            "text": text,
            "start": words[0]["start"] if words else 0.0,
            "end": words[-1]["end"] if words else 0.0,
        }
        if p.diarize:
            utt["speaker"] = 0
        body["utterances"] = [utt] if text else []
    if request.query.get("model") == "pulse-pro":
        body["language"] = p.final_language
        body["request_id"] = uuid.uuid4().hex
        body["totalBytes"] = len(data)
    record.transcripts.append(body)
    request[LOG_KEY] = f"bytes={len(data)} words={len(text.split())}"
    return web.json_response(body)
