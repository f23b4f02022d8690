"""Parse TTS WebSocket server frames (``waves-protocol.md`` §4.1, §4.5) into typed frames.

:func:`parse_tts_frame` never raises anything but :class:`~smallest_core.errors.ProtocolError`.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from smallest_core._codec import b64decode as _b64
from smallest_core._codec import loads as _loads
from smallest_core.errors import ProtocolError, SmallestError, error_from_frame
from smallest_core.limits import MAX_WORD_TIME_S


@dataclass(frozen=True, slots=True)
class FrameIds:
    """The correlation fields a server frame may carry."""

    request_id: str | None = None
    """The server's id for one synthesis (changes per request / release)."""
    context_id: str | None = None
    """The client's continuation context, when the server echoes it."""
    external_request_id: str | None = None
    """The client's ``request_id``, when echoed."""


@dataclass(frozen=True, slots=True)
class ChunkFrame:
    """``status: chunk``: one piece of audio in the requested output format."""

    ids: FrameIds
    audio: bytes


@dataclass(frozen=True, slots=True)
class WordFrame:
    """``status: word_timestamp``: one word as the server timed it."""

    ids: FrameIds
    word: str
    start: float
    end: float
    index: int | None


@dataclass(frozen=True, slots=True)
class CompleteFrame:
    """``status: complete``: the server finished a request (or a release of one)."""

    ids: FrameIds
    done: bool | None


@dataclass(frozen=True, slots=True)
class ErrorFrame:
    """``status: error`` (any of the §4.5 shapes)."""

    ids: FrameIds
    error: SmallestError


@dataclass(frozen=True, slots=True)
class UnknownFrame:
    """A well-formed JSON frame this client cannot use: an unknown ``status``, or a known
    one whose values are out of bounds (``reason`` says which)."""

    ids: FrameIds
    status: str | None
    raw: Mapping[str, Any]
    reason: str = ""


TtsFrame = ChunkFrame | WordFrame | CompleteFrame | ErrorFrame | UnknownFrame


def _str_or_none(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _ids(msg: Mapping[str, Any]) -> FrameIds:
    data = msg.get("data")
    context_id = _str_or_none(msg.get("context_id"))
    if context_id is None and isinstance(data, Mapping):
        context_id = _str_or_none(data.get("context_id"))
    return FrameIds(
        request_id=_str_or_none(msg.get("request_id")),
        context_id=context_id,
        external_request_id=_str_or_none(msg.get("external_request_id")),
    )


def _word_time(value: Any) -> float | None:
    """A word time in seconds, or ``None`` when it is not a plausible one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    # Also rejects NaN and infinities (every comparison with NaN is false).
    if not 0.0 <= result <= MAX_WORD_TIME_S:
        return None
    return result


def decode_json_frame(data: str | bytes) -> dict[str, Any]:
    """Decode one text frame into a JSON object, or raise :class:`ProtocolError`."""
    if not isinstance(data, str):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("frame is not valid UTF-8") from exc
    try:
        msg = _loads(data)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"frame is not valid JSON: {data[:120]!r}") from exc
    if type(msg) is not dict:
        raise ProtocolError(f"frame is not a JSON object: {data[:120]!r}")
    return msg


def parse_tts_frame(data: str) -> TtsFrame:
    """Parse one TTS WebSocket text frame.

    Binary frames are not part of the protocol; callers treat them as unknown frames.
    """
    return frame_from_message(decode_json_frame(data))


def frame_from_message(msg: dict[str, Any]) -> TtsFrame:
    """Type one decoded server frame (:func:`parse_tts_frame` after the JSON)."""
    status = msg.get("status")
    ids = _ids(msg)
    if status == "chunk":
        payload = msg.get("data")
        audio = payload.get("audio") if isinstance(payload, Mapping) else None
        if audio is None:
            audio = msg.get("audio")
        if not isinstance(audio, str):
            raise ProtocolError("chunk frame without base64 audio")
        try:
            return ChunkFrame(ids, _b64(audio))
        except (binascii.Error, ValueError) as exc:
            raise ProtocolError("chunk frame audio is not valid base64") from exc
    if status == "word_timestamp":
        payload = msg.get("data")
        if not isinstance(payload, Mapping):
            raise ProtocolError("word_timestamp frame without data")
        word = payload.get("word")
        if not isinstance(word, str):
            raise ProtocolError("word_timestamp frame without a word")
        start, end = _word_time(payload.get("start")), _word_time(payload.get("end"))
        if start is None or end is None:
            times = (payload.get("start"), payload.get("end"))
            reason = f"word {word[:40]!r} with implausible times {times!r}"
            return UnknownFrame(ids, status, msg, reason[:200])
        index = payload.get("id")
        return WordFrame(
            ids,
            word,
            start,
            max(start, end),
            index if isinstance(index, int) and not isinstance(index, bool) else None,
        )
    if status == "complete":
        done = msg.get("done")
        return CompleteFrame(ids, done if isinstance(done, bool) else None)
    if status == "error" or (status is None and ("error" in msg or "errors" in msg)):
        return ErrorFrame(ids, error_from_frame(msg))
    return UnknownFrame(ids, status if isinstance(status, str) else None, msg)
