"""Error taxonomy: every failure the Waves API can report, as one typed exception.

Adapters map :class:`SmallestError` onto their framework's native errors using
:attr:`SmallestError.kind` and :attr:`SmallestError.retryable`; they never inspect
server bodies themselves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from smallest_core._codec import loads as _loads
from smallest_core.limits import MAX_ERROR_BODY_BYTES, MAX_FRAME_BYTES, shorten
from smallest_core.redaction import redact, redact_value


class ErrorKind(StrEnum):
    """What went wrong, in terms a caller can act on."""

    AUTH = "auth"
    """Missing, invalid or not-entitled API key (401/403). Not retryable."""
    INVALID_INPUT = "invalid_input"
    """The request itself is wrong: bad voice, enum, retired model (400/404/410/413/422)."""
    RATE_LIMIT = "rate_limit"
    """Concurrency or request-rate limit (429, WS limit frames, close 1008). Retryable."""
    TIMEOUT = "timeout"
    """The server or the client gave up waiting (408, idle-timeout frames). Retryable."""
    SERVER = "server"
    """The service failed (5xx, unexplained error frames). Retryable."""
    CONNECTION = "connection"
    """The transport failed: refused, reset, closed mid-stream. Retryable."""
    PROTOCOL = "protocol"
    """The server sent something this client cannot interpret. Retryable."""


_RETRYABLE = {
    ErrorKind.RATE_LIMIT,
    ErrorKind.TIMEOUT,
    ErrorKind.SERVER,
    ErrorKind.CONNECTION,
    ErrorKind.PROTOCOL,
}


class SmallestError(Exception):
    """A failure reported by (or while talking to) the Waves API.

    The text of the exception is the server's own message when there is one, cut to a
    readable length. It never contains the API key: message and body are redacted here,
    whatever built the error.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: ErrorKind,
        status_code: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        message = shorten(redact(message))
        if isinstance(body, str | bytes) and len(body) > MAX_ERROR_BODY_BYTES:
            body = body[:MAX_ERROR_BODY_BYTES]
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.status_code = status_code
        self.code = code
        self.retry_after = retry_after
        self.request_id = request_id
        self.body = redact_value(body)

    @property
    def retryable(self) -> bool:
        """Whether the same request may succeed if tried again."""
        return self.kind in _RETRYABLE

    def __repr__(self) -> str:
        parts = [repr(self.message), f"kind={self.kind.value}"]
        if self.status_code is not None:
            parts.append(f"status_code={self.status_code}")
        if self.code:
            parts.append(f"code={self.code!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


class ProtocolError(SmallestError):
    """Bytes or a frame that do not follow the protocol (malformed JSON, bad base64...)."""

    def __init__(self, message: str, *, body: Any = None) -> None:
        super().__init__(message, kind=ErrorKind.PROTOCOL, body=body)


class ProtocolMisuse(RuntimeError):
    """A command the protocol object cannot take in its state: a bug in the caller, not a
    server error (text after the context's input ended, an unknown or duplicate id, a
    new context on a closed connection...). The message names what was wrong and what
    is allowed."""


def decode_json(data: str | bytes, *, max_bytes: int = MAX_FRAME_BYTES) -> Any:
    """``json.loads`` for server data: malformed, oversized (over ``max_bytes``) or too
    deeply nested input raises :class:`ProtocolError`, never ``RecursionError``."""
    if len(data) > max_bytes:
        raise ProtocolError(f"server data of {len(data)} bytes is over the {max_bytes} limit")
    try:
        return _loads(data) if isinstance(data, str) else json.loads(data)
    except RecursionError:
        raise ProtocolError("server data is nested too deeply to decode") from None
    except (ValueError, TypeError) as exc:
        snippet = data[:120] if isinstance(data, str) else data[:120].decode("utf-8", "replace")
        raise ProtocolError(f"server data is not valid JSON: {snippet!r}") from exc


_IDLE_WORDS = ("inactivity", "idle", "timed out", "timeout")
_LIMIT_WORDS = ("concurren", "rate limit", "too many", "limit exceeded", "quota")
_AUTH_WORDS = ("unauthori", "api key", "invalid credentials", "forbidden", "not entitled")
_INPUT_WORDS = (
    "invalid",
    "unsupported",
    "not supported",
    "required",
    "missing",
    "must be",
    "deprecated",
    "too large",
    "too long",
    "expected",
)


def classify_message(message: str) -> ErrorKind:
    """Guess the kind of a server error that arrived without an HTTP status."""
    text = message.lower()
    if any(w in text for w in _AUTH_WORDS):
        return ErrorKind.AUTH
    if any(w in text for w in _LIMIT_WORDS):
        return ErrorKind.RATE_LIMIT
    if any(w in text for w in _IDLE_WORDS):
        return ErrorKind.TIMEOUT
    if any(w in text for w in _INPUT_WORDS):
        return ErrorKind.INVALID_INPUT
    return ErrorKind.SERVER


def kind_for_status(status: int) -> ErrorKind:
    """Map an HTTP status code onto an :class:`ErrorKind`."""
    if status in (401, 403):
        return ErrorKind.AUTH
    if status == 429:
        return ErrorKind.RATE_LIMIT
    if status in (408, 504):
        return ErrorKind.TIMEOUT
    if 400 <= status < 500:
        return ErrorKind.INVALID_INPUT
    if status >= 500:
        return ErrorKind.SERVER
    return ErrorKind.PROTOCOL


def _issue_text(issue: Any) -> str:
    if isinstance(issue, Mapping):
        msg = issue.get("message")
        path = issue.get("path")
        if isinstance(msg, str):
            if isinstance(path, list) and path:
                return f"{'.'.join(str(p) for p in path)}: {msg}"
            return msg
    if isinstance(issue, str):
        return issue
    return json.dumps(issue, separators=(",", ":"), default=str)


def error_message(body: Any) -> str | None:
    """Extract the human-readable text from any documented error body shape.

    Handles ``{"message": ...}``, ``{"error": "..."}``, ``{"error": {"message": ...}}``,
    zod issue lists ``{"error": [{"message": ..., "path": [...]}]}``, and
    ``{"errors": ..., "message": ...}``. Returns ``None`` when nothing readable is found.
    """
    if isinstance(body, str):
        return body or None
    if not isinstance(body, Mapping):
        return None
    parts: list[str] = []
    err = body.get("error")
    if isinstance(err, str) and err:
        parts.append(err)
    elif isinstance(err, Mapping):
        inner = err.get("message")
        if isinstance(inner, str) and inner:
            parts.append(inner)
    elif isinstance(err, list) and err:
        parts.append("; ".join(_issue_text(i) for i in err))
    msg = body.get("message")
    if isinstance(msg, str) and msg and msg not in parts:
        parts.append(msg)
    errors = body.get("errors")
    if isinstance(errors, str) and errors and errors not in parts:
        parts.append(errors)
    elif isinstance(errors, list) and errors:
        details = [t for t in (_issue_text(i) for i in errors) if t not in parts]
        if details:
            parts.append("; ".join(details))
    return ": ".join(parts) if parts else None


def _error_code(body: Any) -> str | None:
    if not isinstance(body, Mapping):
        return None
    for key in ("error_code", "code"):
        val = body.get(key)
        if isinstance(val, str):
            return val
    err = body.get("error")
    if isinstance(err, Mapping) and isinstance(err.get("code"), str):
        return str(err["code"])
    if isinstance(err, list) and err and isinstance(err[0], Mapping):
        code = err[0].get("code")
        if isinstance(code, str):
            return code
    return None


def parse_retry_after(value: str | None) -> float | None:
    """Parse a ``Retry-After`` header given in seconds (HTTP dates are ignored)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def error_from_http(
    status: int,
    body: bytes | bytearray | memoryview | str | None,
    headers: Mapping[str, str] | None = None,
) -> SmallestError:
    """Build the error for a non-2xx HTTP response (also a refused WebSocket upgrade)."""
    if isinstance(body, bytes | bytearray | memoryview):
        text = bytes(body[:MAX_ERROR_BODY_BYTES]).decode("utf-8", "replace")
    else:
        text = (body or "")[:MAX_ERROR_BODY_BYTES]
    parsed: Any = None
    if text:
        try:
            parsed = decode_json(text)
        except ProtocolError:
            parsed = None
    message = error_message(parsed) if parsed is not None else None
    if message is None:
        snippet = " ".join(re.sub(r"<[^>]*>", " ", text).split())[:300]
        message = f"HTTP {status}: {snippet}" if snippet else f"HTTP {status}"
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    request_id = lowered.get("x-request-id")
    if request_id is None and isinstance(parsed, Mapping):
        rid = parsed.get("request_id")
        request_id = rid if isinstance(rid, str) else None
    return SmallestError(
        message,
        kind=kind_for_status(status),
        status_code=status,
        code=_error_code(parsed),
        retry_after=parse_retry_after(lowered.get("retry-after")),
        request_id=request_id,
        body=parsed if parsed is not None else (text or None),
    )


_NOT_AUDIO_TYPES = ("text/", "application/json", "application/problem+json")


def error_from_audio_response(content_type: str | None, head: bytes) -> SmallestError | None:
    """The error for an HTTP 200 whose body should be audio but is a page or a JSON error.

    ``head`` is the start of the body (up to ``MAX_ERROR_BODY_BYTES``). The sync route
    labels every format ``audio/wav``, so only a declared text or JSON type counts; the
    body's own message becomes the error's text. ``None`` means: treat it as audio.
    """
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if not mime.startswith(_NOT_AUDIO_TYPES):
        return None
    error = error_from_http(200, head)
    detail = error.message.removeprefix("HTTP 200: ").removeprefix("HTTP 200")
    message = f"the server answered 200 with {mime} instead of audio"
    if detail:
        message += f": {detail}"
    kind = classify_message(detail) if detail else ErrorKind.PROTOCOL
    return SmallestError(message, kind=kind, status_code=200, code=error.code, body=error.body)


def error_from_frame(frame: Mapping[str, Any]) -> SmallestError:
    """Build the error for a WebSocket error frame of any documented shape."""
    message = error_message(frame) or "The server reported an error without a message"
    code = _error_code(frame)
    kind = classify_message(message)
    if code:
        lowered = code.lower()
        if "deprecated" in lowered or "invalid" in lowered:
            kind = ErrorKind.INVALID_INPUT
        elif "limit" in lowered or "concurren" in lowered:
            kind = ErrorKind.RATE_LIMIT
        elif "auth" in lowered:
            kind = ErrorKind.AUTH
    rid = frame.get("request_id")
    return SmallestError(
        message,
        kind=kind,
        code=code,
        request_id=rid if isinstance(rid, str) else None,
        body=dict(frame),
    )


def connection_error(message: str, *, close_code: int | None = None) -> SmallestError:
    """The error for a transport failure (refused, reset, closed mid-stream)."""
    if close_code == 1008:
        return SmallestError(
            f"{message} (close code 1008: concurrency limit)",
            kind=ErrorKind.RATE_LIMIT,
            code="1008",
        )
    suffix = f" (close code {close_code})" if close_code is not None else ""
    return SmallestError(message + suffix, kind=ErrorKind.CONNECTION)


def is_idle_timeout(error: SmallestError) -> bool:
    """True for the server's idle-timeout notice: reconnect quietly, it is not a failure."""
    return error.kind is ErrorKind.TIMEOUT and "inactivity" in error.message.lower()
