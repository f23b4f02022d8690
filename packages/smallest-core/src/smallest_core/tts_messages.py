"""Build every client message of Lightning TTS (WebSocket and HTTP) from one options object.

Adapters never assemble JSON themselves: they call these builders (directly, or through
:class:`~smallest_core.tts_connection.TTSConnection`).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from smallest_core.options import TTSOptions


def new_context_id() -> str:
    """A fresh client context id (short, alphanumeric, valid as a ``request_id`` too)."""
    return "ctx" + secrets.token_hex(8)


def _dump(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def _continuation_fields(options: TTSOptions, context_id: str) -> dict[str, Any]:
    fields = options.request_fields()
    fields["context_id"] = context_id
    fields["request_id"] = context_id
    if options.max_buffer_delay_ms is not None:
        fields["max_buffer_delay_ms"] = options.max_buffer_delay_ms
    if options.complete_backoff_ms is not None:
        fields["complete_backoff_ms"] = options.complete_backoff_ms
    return fields


def fragment_message(options: TTSOptions, context_id: str, text: str) -> str:
    """A text fragment of a continuation context; more text will follow."""
    fields = _continuation_fields(options, context_id)
    fields["text"] = text
    fields["continue"] = True
    return _dump(fields)


def close_message(options: TTSOptions, context_id: str) -> str:
    """The closing message of a continuation context: speak what is left, then finish."""
    fields = _continuation_fields(options, context_id)
    fields["text"] = ""
    fields["continue"] = False
    return _dump(fields)


def cancel_message(options: TTSOptions, context_id: str) -> str:
    """Drop everything the context still has buffered or in flight (barge-in)."""
    fields = _continuation_fields(options, context_id)
    fields["text"] = ""
    fields["cancel_request"] = True
    return _dump(fields)


def context_close_message(context_id: str) -> str:
    """End the context on the server at once (after a cancel, which only drops its buffer).

    The continuations docs let it travel without text or voice; it leaves no context
    open on the server, and the server answers it with no frame when nothing is buffered.
    """
    return _dump({"context_id": context_id, "context_close": True})


def one_shot_message(options: TTSOptions, text: str, *, request_id: str | None = None) -> str:
    """A complete request in one message (no continuation)."""
    fields = options.request_fields()
    if request_id is not None:
        fields["request_id"] = request_id
    if options.complete_backoff_ms is not None:
        fields["complete_backoff_ms"] = options.complete_backoff_ms
    fields["text"] = text
    return _dump(fields)


def legacy_fragment_message(options: TTSOptions, text: str) -> str:
    """Legacy ``continue``/``flush`` mode: buffer this text, more will follow."""
    fields = options.request_fields()
    if options.complete_backoff_ms is not None:
        fields["complete_backoff_ms"] = options.complete_backoff_ms
    fields.update(text=text, **{"continue": True, "flush": False})
    return _dump(fields)


def legacy_close_message(options: TTSOptions) -> str:
    """Legacy ``continue``/``flush`` mode: synthesize the buffer and finish."""
    fields = options.request_fields()
    if options.complete_backoff_ms is not None:
        fields["complete_backoff_ms"] = options.complete_backoff_ms
    fields.update(text="", **{"continue": False, "flush": True})
    return _dump(fields)


def http_request_body(options: TTSOptions, text: str) -> dict[str, Any]:
    """JSON body for ``POST /waves/v1/tts`` and ``POST /waves/v1/tts/live``.

    ``word_timestamps`` is dropped: the HTTP routes ignore it.
    """
    body = options.request_fields()
    body.pop("word_timestamps", None)
    body["text"] = text
    return body


def http_request_headers(*, sse: bool = False) -> dict[str, str]:
    """Content negotiation for the HTTP synthesis routes (auth headers come separately)."""
    return {
        "Content-Type": "application/json",
        "Accept": "text/event-stream" if sse else "audio/wav",
    }
