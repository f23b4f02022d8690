"""Incremental Server-Sent Events parsing for ``POST /waves/v1/tts/live``.

:class:`SseParser` implements the WHATWG event-stream interpretation over bytes split
anywhere (inside a UTF-8 sequence or a ``\\r\\n`` pair). :class:`TtsSseDecoder` turns the
events of a TTS stream into :class:`SseAudio`, :class:`SseDone` and :class:`SseError` items,
accepting the three JSON shapes the service has used (protocol reference §3.1)::

    {"audio": "<b64>", "done": false, "status": "206"} ... {"status": "200", "done": true}
    {"audio": "<b64>"} ... {"done": true}
    {"request_id": ..., "status": "chunk", "data": {"audio": "<b64>"}} ...
        {"status": "complete", "message": "All chunks sent", "done": true}
    {"status": "error", "message": "...", "errors": [...]}
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from dataclasses import dataclass, field
from typing import Any

from smallest_core.errors import ProtocolError, decode_json
from smallest_core.limits import shorten
from smallest_core.redaction import redact

__all__ = [
    "SseAudio",
    "SseDone",
    "SseError",
    "SseEvent",
    "SseParser",
    "TtsSseDecoder",
    "TtsSseItem",
]

_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched event: type (``"message"`` by default), data, and last event id."""

    event: str
    data: str
    id: str | None = None


class SseParser:
    """WHATWG ``text/event-stream`` parser fed with bytes in arbitrary pieces.

    Invalid UTF-8 is replaced with U+FFFD, as the spec requires. A line longer than
    ``max_line_chars``, or an event whose data lines add up to more than that before its
    closing blank line, raises :class:`ProtocolError` (bounds memory on garbage input).
    :attr:`retry` holds the last valid ``retry:`` value in milliseconds.
    """

    def __init__(self, *, max_line_chars: int = 8 * 1024 * 1024) -> None:
        self.max_line_chars = max_line_chars
        self.retry: int | None = None
        self.last_event_id: str | None = None
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        self._partial: list[str] = []
        self._partial_len = 0
        self._skip_lf = False
        self._event_type = ""
        self._data: list[str] = []
        self._data_len = 0

    def feed(self, data: bytes) -> list[SseEvent]:
        """Consume bytes; return the events whose terminating blank line they complete."""
        return self._consume(self._decoder.decode(bytes(data)))

    def flush(self, *, dispatch_partial: bool = False) -> list[SseEvent]:
        """End of stream. Per WHATWG an event without its final blank line is discarded;
        ``dispatch_partial=True`` dispatches it instead (a lenient client's choice)."""
        events = self._consume(self._decoder.decode(b"", final=True))
        line = "".join(self._partial)
        self._partial, self._partial_len = [], 0
        if dispatch_partial:
            if line:
                self._process_line(line, events)
            self._dispatch(events)
        self._data, self._event_type, self._data_len = [], "", 0
        self._skip_lf = False
        return events

    def _consume(self, text: str) -> list[SseEvent]:
        events: list[SseEvent] = []
        if not text:
            return events
        if self._skip_lf:
            self._skip_lf = False
            if text[0] == "\n":
                text = text[1:]
                if not text:
                    return events
        pos = 0
        for match in _LINE_END.finditer(text):
            piece = text[pos : match.start()]
            if self._partial:
                self._partial.append(piece)
                line = "".join(self._partial)
                self._partial, self._partial_len = [], 0
            else:
                line = piece
            if len(line) > self.max_line_chars:
                raise ProtocolError(f"SSE line longer than {self.max_line_chars} characters")
            self._process_line(line, events)
            pos = match.end()
        if pos < len(text):
            rest = text[pos:]
            self._partial.append(rest)
            self._partial_len += len(rest)
            if self._partial_len > self.max_line_chars:
                raise ProtocolError(f"SSE line longer than {self.max_line_chars} characters")
        elif text[-1] == "\r":
            self._skip_lf = True
        return events

    def _process_line(self, line: str, events: list[SseEvent]) -> None:
        if not line:
            self._dispatch(events)
            return
        if line[0] == ":":
            return
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data_len += len(value) + 1
            if self._data_len > self.max_line_chars:
                raise ProtocolError(
                    f"SSE event longer than {self.max_line_chars} characters without an end"
                )
            self._data.append(value)
        elif name == "event":
            self._event_type = value
        elif name == "id":
            if "\0" not in value:
                self.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry = int(value)

    def _dispatch(self, events: list[SseEvent]) -> None:
        data, event_type = self._data, self._event_type
        self._data, self._event_type, self._data_len = [], "", 0
        if data:
            events.append(SseEvent(event_type or "message", "\n".join(data), self.last_event_id))


@dataclass(frozen=True, slots=True)
class SseAudio:
    """A chunk of synthesized audio (base64-decoded bytes in the requested format)."""

    audio: bytes


@dataclass(frozen=True, slots=True)
class SseDone:
    """The server's end-of-stream marker (``done: true`` or ``status: "complete"``)."""


@dataclass(frozen=True, slots=True)
class SseError:
    """An error frame; ``raw`` is the decoded JSON object. The caller decides what to do."""

    message: str
    raw: dict[str, Any] = field(default_factory=dict)


TtsSseItem = SseAudio | SseDone | SseError


def _b64decode(text: str) -> bytes:
    text = text.strip()
    if len(text) % 4:
        text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProtocolError(f"bad base64 audio in SSE frame: {exc}") from exc


def _is_error_status(status: object) -> bool:
    if isinstance(status, str):
        if status.strip().lower() in ("error", "failed", "failure"):
            return True
        return status.isascii() and status.isdigit() and int(status) >= 400
    return isinstance(status, int) and not isinstance(status, bool) and status >= 400


def _error_message(obj: dict[str, Any]) -> str:
    for key in ("message", "error", "detail", "errors"):
        value = obj.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            return str(value["message"])
        if isinstance(value, list) and value:
            return "; ".join(
                str(v.get("message", v)) if isinstance(v, dict) else str(v) for v in value
            )
    return "unknown error"


class TtsSseDecoder:
    """Turns a TTS SSE body into :class:`SseAudio` / :class:`SseDone` / :class:`SseError`.

    Raises :class:`ProtocolError` for data that is not a JSON object or audio that is not
    base64. Frames with neither audio, error nor end marker (keep-alives, unknown shapes)
    yield nothing. :attr:`done` becomes True once the end marker has been seen.
    """

    def __init__(self) -> None:
        self._parser = SseParser()
        self.done = False

    def feed(self, data: bytes) -> list[TtsSseItem]:
        """Consume body bytes; return the items they complete."""
        items: list[TtsSseItem] = []
        for event in self._parser.feed(data):
            self._decode_event(event, items)
        return items

    def flush(self) -> list[TtsSseItem]:
        """End of body. An unterminated final event is decoded too (lenient: losing the
        end marker would make a complete stream look truncated)."""
        items: list[TtsSseItem] = []
        for event in self._parser.flush(dispatch_partial=True):
            self._decode_event(event, items)
        return items

    def _decode_event(self, event: SseEvent, items: list[TtsSseItem]) -> None:
        text = event.data.strip()
        if not text:
            return
        try:
            obj = decode_json(text)
        except ProtocolError as exc:
            if event.event == "error":
                items.append(SseError(redact(shorten(text)), {}))
                return
            raise ProtocolError(f"malformed JSON in SSE frame: {text[:200]!r}") from exc
        if not isinstance(obj, dict):
            raise ProtocolError(f"SSE frame is not a JSON object: {text[:200]!r}")
        status = obj.get("status")
        if (
            event.event == "error"
            or _is_error_status(status)
            or (obj.get("error") and "audio" not in obj)
        ):
            items.append(SseError(_error_message(obj), obj))
            return
        audio = obj.get("audio")
        nested = obj.get("data")
        if audio is None and isinstance(nested, dict):
            audio = nested.get("audio")
        if audio is not None:
            if not isinstance(audio, str):
                raise ProtocolError(f"SSE audio is not a base64 string: {type(audio).__name__}")
            if audio:
                items.append(SseAudio(_b64decode(audio)))
        if obj.get("done") is True or status == "complete":
            self.done = True
            items.append(SseDone())
