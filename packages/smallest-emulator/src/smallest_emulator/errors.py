"""Error bodies and frames in every documented shape (§3.2, §4.5, §5, §6.4, §8)."""

from __future__ import annotations

from typing import Any

from smallest_emulator.config import EmulatorConfig

TTS_OUTPUT_FORMATS = ["wav", "ulaw", "alaw", "pcm", "mp3"]


def tts_ws_error(
    cfg: EmulatorConfig, message: str, *, code: str = "error", **ids: Any
) -> dict[str, Any]:
    """A TTS WS error frame in the profile's shape (§4.5 shapes 1-4)."""
    shape = cfg.error_shape
    frame: dict[str, Any] = {"status": "error"}
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


def zod_issue(path: str, message: str, **extra: Any) -> dict[str, Any]:
    """One zod-like issue."""
    issue: dict[str, Any] = {"code": "custom", "path": [path], "message": message}
    issue.update(extra)
    return issue


def enum_issue(path: str, received: Any, options: list[Any]) -> dict[str, Any]:
    """A zod ``invalid_enum_value`` issue."""
    expected = " | ".join(f"'{o}'" for o in options)
    return {
        "received": received,
        "code": "invalid_enum_value",
        "options": options,
        "path": [path],
        "message": f"Invalid enum value. Expected {expected}, received '{received}'",
    }


def tts_http_400(cfg: EmulatorConfig, issues: list[dict[str, Any]]) -> dict[str, Any]:
    """400 body: live zod array (§8 PROBE) or spec ``{error, message}``."""
    if cfg.http_error_shape == "spec":
        return {"error": "InvalidRequest", "message": issues[0]["message"]}
    return {"error": issues}


def retired_model_body(model: str) -> dict[str, Any]:
    """410 body for retired models (§3.2)."""
    return {
        "status": "error",
        "error_code": "MODEL_DEPRECATED",
        "message": f"{model} has been retired; migrate to lightning-v3.1",
        "recommended_endpoint": "/waves/v1/lightning-v3.1/get_speech",
    }


def unauthorized_body(route_family: str, *, missing: bool) -> dict[str, Any]:
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


def forced_status_body(status: int, route_family: str) -> dict[str, Any]:
    """Bodies for the ``http_status`` fault."""
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


def stt_ws_error(cfg: EmulatorConfig, message: str, session_id: str) -> dict[str, Any]:
    """An STT WS error frame (§6.4 / §12.2) in the profile's shape."""
    if cfg.stt_error_shape == "plain":
        return {"error": message}
    if cfg.stt_error_shape == "object":
        return {"status": "error", "error": {"message": message, "code": "error"}}
    return {"type": "error", "status": "error", "session_id": session_id, "message": message}


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
