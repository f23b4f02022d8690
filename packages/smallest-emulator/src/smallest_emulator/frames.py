"""Every JSON frame and body the emulator sends, one builder each (§3-§8, §12).

Handlers never build a frame dict themselves: they call a builder here, so a wire shape is
defined once. Key order is part of the shape (clients and fixtures compare bytes).
"""

from __future__ import annotations

import json
from typing import Any

Frame = dict[str, Any]


def dumps(frame: Any) -> str:
    """Compact JSON, as the WebSocket routes send it."""
    return json.dumps(frame, separators=(",", ":"))


# --------------------------------------------------------------------------- TTS WebSocket
def tts_chunk(ids: Frame, audio_b64: str) -> Frame:
    """An audio chunk (§4.2)."""
    return {"status": "chunk", **ids, "data": {"audio": audio_b64}}


def tts_word(ids: Frame, index: int, word: str, start: float, end: float) -> Frame:
    """A ``word_timestamp`` frame (§10.2); times in seconds, rounded to the microsecond."""
    data = {"id": index, "word": word, "start": round(start, 6), "end": round(end, 6)}
    return {"status": "word_timestamp", **ids, "data": data}


def tts_complete(ids: Frame, *, legacy: bool) -> Frame:
    """``complete`` (§4.2); ``legacy``: the older docs' shape with ``message``/``done``."""
    if not legacy:
        return {"status": "complete", **ids}
    echoed = {k: v for k, v in ids.items() if k not in ("session_id", "request_id")}
    return {
        "request_id": ids.get("request_id"),
        "status": "complete",
        **echoed,
        "message": "All chunks sent",
        "done": True,
    }


def tts_unknown_status(ids: Frame) -> Frame:
    """A frame with a status clients do not know (the ``unknown_status`` fault)."""
    return {"status": "queued", **ids}


def tts_malformed(session_id: str) -> str:
    """A truncated chunk frame (the ``malformed_json`` fault)."""
    return '{"status":"chunk","session_id":"' + session_id + '","da'


def tts_ws_error(shape: int, message: str, *, code: str = "error", **ids: Any) -> Frame:
    """A TTS WS error frame in one of the documented shapes (§4.5 shapes 1-4)."""
    frame: Frame = {"status": "error"}
    if shape == 2:
        frame["error"] = {"message": message, "code": code}
    elif shape == 3:
        frame["error"] = message
    elif shape == 4:
        frame["message"] = message
        frame["errors"] = [{"code": code, "path": [], "message": message}]
    else:
        frame["message"] = message
    frame.update({k: v for k, v in ids.items() if v is not None})
    return frame


# --------------------------------------------------------------------------- TTS SSE
def sse_chunk(shape: str, audio_b64: str, request_id: str) -> str:
    """One SSE audio event (§3.1) in the ``current``, ``docstring`` or ``legacy`` shape."""
    if shape == "docstring":
        return "data: " + dumps({"audio": audio_b64}) + "\n\n"
    if shape == "legacy":
        payload: Frame = {"request_id": request_id, "status": "chunk", "data": {"audio": audio_b64}}
        return "data: " + dumps(payload) + "\n\n"
    payload = {"audio": audio_b64, "done": False, "status": "206"}
    return "event: audio\ndata: " + dumps(payload) + "\n\n"


def sse_end(shape: str, request_id: str) -> str:
    """The SSE end-of-stream event."""
    if shape == "docstring":
        payload: Frame = {"done": True}
    elif shape == "legacy":
        payload = {
            "request_id": request_id,
            "status": "complete",
            "message": "All chunks sent",
            "done": True,
        }
    else:
        payload = {"status": "200", "done": True}
    return "data: " + dumps(payload) + "\n\n"


def sse_error(message: str) -> str:
    """An SSE error event (the ``error_after_chunks`` fault)."""
    return "data: " + json.dumps({"status": "error", "message": message, "errors": []}) + "\n\n"


# --------------------------------------------------------------------------- HTTP bodies
def zod_issue(path: str, message: str, **extra: Any) -> Frame:
    """One zod-like validation issue."""
    issue: Frame = {"code": "custom", "path": [path], "message": message}
    issue.update(extra)
    return issue


def enum_issue(path: str, received: Any, options: list[Any]) -> Frame:
    """A zod ``invalid_enum_value`` issue."""
    expected = " | ".join(f"'{o}'" for o in options)
    return {
        "received": received,
        "code": "invalid_enum_value",
        "options": options,
        "path": [path],
        "message": f"Invalid enum value. Expected {expected}, received '{received}'",
    }


def tts_http_400(spec_shape: bool, issues: list[Frame]) -> Frame:
    """400 body: the live zod array (§8 PROBE) or the spec's ``{error, message}``."""
    if spec_shape:
        return {"error": "InvalidRequest", "message": issues[0]["message"]}
    return {"error": issues}


def invalid_request(message: str) -> Frame:
    """400 body for a bad override or query parameter."""
    return {"error": "InvalidRequest", "message": message}


def bad_request(message: str) -> Frame:
    """400 body of the catalogue routes (``BadRequest``)."""
    return {"error": "BadRequest", "message": message}


def plain_error(message: str, **extra: Any) -> Frame:
    """``{"error": message}`` (STT, cloning and dictionary routes)."""
    return {"error": message, **extra}


def retired_model_body(model: str, recommended: str | None = None) -> Frame:
    """410 body for retired models (§3.2, §4.7)."""
    return {
        "status": "error",
        "error_code": "MODEL_DEPRECATED",
        "message": f"{model} has been retired; migrate to lightning-v3.1",
        "recommended_endpoint": recommended or "/waves/v1/lightning-v3.1/get_speech",
    }


def unauthorized_body(route_family: str, *, missing: bool) -> Frame:
    """401 bodies: pulse legacy (§5.2), unified STT (§5.1), TTS/voices spec (§8)."""
    if route_family == "pulse":
        return (
            {"message": "Unauthorized: No tokens provided"}
            if missing
            else {"error": "unauthorized"}
        )
    if route_family == "stt":
        return {"error": "unauthorized"}
    return {"error": "Unauthorized", "message": "Invalid API key"}


def forced_status_body(status: int, route_family: str) -> Frame:
    """Bodies for the ``http_status`` fault (and the HTTP concurrency refusal)."""
    text = {
        429: "Concurrency limit exceeded",
        500: "Internal server error",
        502: "Bad gateway",
        503: "Service temporarily unavailable",
    }.get(status, f"HTTP {status}")
    if route_family in ("stt", "pulse"):
        return {"error": text}
    name = {429: "Too Many Requests", 500: "InternalServerError", 503: "ServiceUnavailable"}
    return {"error": name.get(status, "Error"), "message": text}


def clone_created(data: Frame) -> Frame:
    """A voice clone created (§7.2)."""
    return {"message": "Voice cloned successfully", "data": data}


def clone_list(clones: list[Frame]) -> Frame:
    """The account's voice clones."""
    return {"data": clones}


def clone_deleted(voice_id: str) -> Frame:
    """A voice clone deleted."""
    return {"success": True, "voiceId": voice_id}


def pronunciation_dict(dict_id: str, items: Any, created_at: str | None = None) -> Frame:
    """A pronunciation dictionary (§7.3); ``createdAt`` when just created."""
    entry: Frame = {"id": dict_id, "items": items}
    if created_at is not None:
        entry["createdAt"] = created_at
    return entry


def pronunciation_dict_deleted(dict_id: str) -> Frame:
    """A pronunciation dictionary deleted."""
    return {"id": dict_id, "deleted": True}


def items_invalid() -> Frame:
    """400 body for a dictionary without a non-empty ``items`` list."""
    return plain_error("Validation failed", details=["items must be a non-empty list"])


def health_body() -> Frame:
    """``GET /waves/v1/health``."""
    ok = {"status": "ok"}
    return {"status": "ok", "mongo": ok, "redis": ok, "rabbitmq": ok}


# --------------------------------------------------------------------------- STT
def stt_ws_error(shape: str, message: str, session_id: str) -> Frame:
    """An STT WS error frame (§6.4 / §12.2): ``type``, ``plain`` or ``object`` shape."""
    if shape == "plain":
        return {"error": message}
    if shape == "object":
        return {"status": "error", "error": {"message": message, "code": "error"}}
    return {"type": "error", "status": "error", "session_id": session_id, "message": message}


def stt_http_error(unified: bool, message: str) -> Frame:
    """Pre-recorded STT error body: unified (§5.1) or legacy Pulse (§5.2)."""
    if unified:
        return {"error": message}
    return {"errors": message, "status": "error", "message": "Error handling audio data"}


def stt_pong() -> Frame:
    """Answer to ``keepalive``."""
    return {"type": "pong"}


def stt_vad(kind: str, session_id: str, timestamp: float) -> Frame:
    """``speech_started`` / ``speech_ended`` (§6.3)."""
    return {"type": kind, "session_id": session_id, "timestamp": round(timestamp, 3)}


def stt_unknown_type(session_id: str) -> Frame:
    """A frame with a type clients do not know (the ``unknown_status`` fault)."""
    return {"type": "metadata", "session_id": session_id}


def stt_malformed() -> str:
    """A truncated transcript frame (the ``malformed_json`` fault)."""
    return '{"type":"transcription","transcript":"hel'


def stt_transcript(
    session_id: str, text: str, *, is_final: bool, is_last: bool, from_finalize: bool
) -> Frame:
    """The head of an interim or final transcript (§6.2); optional fields are appended."""
    frame: Frame = {
        "type": "transcription",
        "status": "success",
        "session_id": session_id,
        "transcript": text,
        "transcription": text,
        "is_final": is_final,
        "is_last": is_last,
    }
    if from_finalize:
        frame["from_finalize"] = True
    return frame


def stt_result(text: str, duration: float, file_size: int, *, unified: bool) -> Frame:
    """The head of a pre-recorded result (§5.1, §5.2); optional fields are appended."""
    body: Frame = {
        "status": "success",
        "transcription": text,
        "metadata": {"duration": round(duration, 3), "fileSize": file_size},
    }
    if not unified:
        body["audio_length"] = round(duration, 3)
    return body


# --------------------------------------------------------------------------- Lightning v4
def v4_refusal(code: str, message: str) -> Frame:
    """A connect-time refusal, as an HTTP body or the socket's only frame (§4.6)."""
    return {"status": "error", "error": {"code": code, "message": message}}


def v4_ready(**fields: Any) -> Frame:
    """``ready`` (``session_id`` when admitted, ``sample_rate`` when attached)."""
    return {"event": "ready", **fields}


def v4_turn(event: str, turn_id: str) -> Frame:
    """``turn_start``, ``turn_end`` or ``interrupted``."""
    return {"event": event, "turn_id": turn_id}


def v4_error(code: str, message: str) -> Frame:
    """A session error that leaves the socket open (``bad_frame``, ``bad_user_audio``)."""
    return {"event": "error", "code": code, "message": message}


# --------------------------------------------------------------------------- reading
def error_text(body: Any) -> str:
    """The human reason in any error body or frame shape above (for log lines)."""
    if isinstance(body, str):
        return body
    if isinstance(body, list):
        return "; ".join(error_text(item) for item in body[:3])
    if not isinstance(body, dict):
        return ""
    message = body.get("message")
    if isinstance(message, str) and message and message != "Error handling audio data":
        return message
    for key in ("errors", "error"):
        value = body.get(key)
        if isinstance(value, str | dict | list) and value:
            return error_text(value)
    return message if isinstance(message, str) else ""
