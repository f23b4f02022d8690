"""Pulse speech-to-text, sans-I/O: server frames as typed events, audio framing, batch
results.

The stream's state and deadlines are :mod:`smallest_core.stt_stream`'s; when speech and
turns end, :mod:`smallest_core.stt_turns`'.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from smallest_core.errors import (
    ProtocolError,
    SmallestError,
    decode_json,
    error_from_frame,
    error_from_http,
)
from smallest_core.tts_frames import decode_json_frame

_MAX_BATCH_RESPONSE_BYTES = 64 * 1024 * 1024
"""A transcript of hours of audio with word timings stays far below this."""


# ---------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class STTWord:
    """A recognised word; times in seconds on the stream's timeline."""

    text: str
    start: float
    end: float
    confidence: float | None = None
    speaker: int | str | None = None
    speaker_confidence: float | None = None


class SpeakerOutputs:
    """Emotion and gender of a result, in one vocabulary for every adapter."""

    __slots__ = ()
    emotions: Mapping[str, float] | None
    gender: str | None

    @property
    def emotion(self) -> str | None:
        """The highest-scoring emotion label, if the server scored any."""
        return _top(self.emotions)

    def metadata(self) -> dict[str, Any]:
        """``emotion`` (the top label), ``emotions`` (every label's score) and ``gender``,
        each only when the server sent it; empty when it sent none. Adapters put this in
        their transcript's metadata as is."""
        out: dict[str, Any] = {}
        if self.emotions:
            out["emotion"] = _top(self.emotions)
            out["emotions"] = dict(self.emotions)
        if self.gender is not None:
            out["gender"] = self.gender
        return out


@dataclass(frozen=True, slots=True)
class Transcript(SpeakerOutputs):
    """An interim (``is_final=False``) or final transcript of the current segment."""

    text: str
    is_final: bool
    is_last: bool = False
    from_finalize: bool = False
    language: str | None = None
    words: tuple[STTWord, ...] = ()
    confidence: float | None = None
    speaker: int | str | None = None
    start: float | None = None
    end: float | None = None
    session_id: str | None = None
    speech_final: bool | None = None
    """On finals, when the server says so (Pulse 2 always): the speaker finished the turn."""
    emotions: Mapping[str, float] | None = None
    """Pulse 2 finals: a score per emotion label."""
    gender: str | None = None
    """Pulse 2 finals: the speaker's gender as the server labels it."""


def _top(scores: Mapping[str, float] | None) -> str | None:
    return max(scores, key=scores.__getitem__) if scores else None


def _emotions(value: object) -> dict[str, float] | None:
    """Emotion scores as sent (``{label: score}``); anything malformed is dropped."""
    if not isinstance(value, Mapping):
        return None
    scores = {
        k: v for k, s in value.items() if isinstance(k, str) and k and (v := _float(s)) is not None
    }
    return scores or None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """The server's VAD heard speech begin (``timestamp`` on the stream's timeline)."""

    timestamp: float | None


@dataclass(frozen=True, slots=True)
class SpeechEnded:
    """The server's VAD heard speech end."""

    timestamp: float | None


@dataclass(frozen=True, slots=True)
class Pong:
    """Answer to a keepalive."""


@dataclass(frozen=True, slots=True)
class STTError:
    """The server reported an error."""

    error: SmallestError


@dataclass(frozen=True, slots=True)
class STTIgnored:
    """A frame with nothing usable in it (unknown type); worth a debug line."""

    reason: str


STTEvent = Transcript | SpeechStarted | SpeechEnded | Pong | STTError | STTIgnored


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    return result if result == result and abs(result) != float("inf") else None


def _speaker(value: Any) -> int | str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | str):
        return value
    return None


def _words(raw: Any, offset: float) -> tuple[STTWord, ...]:
    if not isinstance(raw, list):
        return ()
    words = []
    for item in raw:
        if not isinstance(item, Mapping):
            continue
        text = item.get("word")
        start = _float(item.get("start"))
        end = _float(item.get("end"))
        if not isinstance(text, str) or start is None or end is None:
            continue
        words.append(
            STTWord(
                text=text,
                start=start + offset,
                end=max(start, end) + offset,
                confidence=_float(item.get("confidence")),
                speaker=_speaker(item.get("speaker")),
                speaker_confidence=_float(item.get("speaker_confidence")),
            )
        )
    return tuple(words)


def parse_stt_message(msg: Mapping[str, Any], time_offset: float = 0.0) -> STTEvent:
    """Turn one decoded server message into an event; times shifted by ``time_offset``."""
    kind = msg.get("type")
    if kind == "error" or msg.get("status") == "error" or "error" in msg:
        return STTError(error_from_frame(msg))
    if kind in ("speech_started", "speech_ended"):
        ts = _float(msg.get("timestamp"))
        stamp = None if ts is None else ts + time_offset
        return SpeechStarted(stamp) if kind == "speech_started" else SpeechEnded(stamp)
    if kind == "pong":
        return Pong()
    text = msg.get("transcript")
    if not isinstance(text, str):
        text = msg.get("transcription")
    if kind in (None, "transcription") and isinstance(text, str):
        words = _words(msg.get("words"), time_offset)
        confidences = [w.confidence for w in words if w.confidence is not None]
        speakers = [w.speaker for w in words if w.speaker is not None]
        language = msg.get("language")
        if not isinstance(language, str):
            langs = msg.get("languages")
            language = langs[0] if isinstance(langs, list) and langs else None
        session_id = msg.get("session_id")
        speech_final = msg.get("speech_final")
        return Transcript(
            text=text,
            is_final=msg.get("is_final") is True,
            is_last=msg.get("is_last") is True,
            from_finalize=msg.get("from_finalize") is True,
            language=language if isinstance(language, str) else None,
            words=words,
            confidence=sum(confidences) / len(confidences) if confidences else None,
            speaker=max(set(speakers), key=speakers.count) if speakers else None,
            start=words[0].start if words else None,
            end=words[-1].end if words else None,
            session_id=session_id if isinstance(session_id, str) else None,
            speech_final=speech_final if isinstance(speech_final, bool) else None,
            emotions=_emotions(msg.get("emotions")),
            gender=_str(msg.get("gender")),
        )
    return STTIgnored(f"message of unknown type {kind!r}")


def parse_stt_frame(data: str | bytes, time_offset: float = 0.0) -> STTEvent:
    """Parse one STT WebSocket text frame; only :class:`ProtocolError` is raised."""
    return parse_stt_message(decode_json_frame(data), time_offset)


# ---------------------------------------------------------------------------- audio


class AudioChunker:
    """Cuts a byte stream into frames of exactly ``frame_ms`` of audio (default 50 ms)."""

    __slots__ = ("_buffer", "frame_bytes")

    def __init__(
        self, sample_rate: int, *, channels: int = 1, sample_width: int = 2, frame_ms: int = 50
    ) -> None:
        if frame_ms <= 0:
            raise ValueError("frame_ms must be positive")
        samples = sample_rate * frame_ms // 1000
        if samples <= 0:
            raise ValueError("frame_ms is too short for this sample rate")
        self.frame_bytes = samples * channels * sample_width
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes waiting for a full frame."""
        return len(self._buffer)

    def push(self, data: bytes) -> list[bytes]:
        """Add audio; return every complete frame."""
        self._buffer += data
        size = self.frame_bytes
        count = len(self._buffer) // size
        if not count:
            return []
        frames = [bytes(self._buffer[i * size : (i + 1) * size]) for i in range(count)]
        del self._buffer[: count * size]
        return frames

    def flush(self) -> bytes:
        """The partial frame left over (possibly empty)."""
        rest = bytes(self._buffer)
        self._buffer.clear()
        return rest


# ---------------------------------------------------------------------------- batch


@dataclass(frozen=True, slots=True)
class BatchTranscript(SpeakerOutputs):
    """Result of ``POST /waves/v1/stt/``."""

    text: str
    words: tuple[STTWord, ...]
    language: str | None
    duration: float | None
    request_id: str | None
    emotions: Mapping[str, float] | None = None
    """With ``emotion_detection``: a score per emotion label."""
    gender: str | None = None
    """With ``gender_detection``: the speaker's gender as the server labels it."""


def parse_batch_response(
    status: int, body: bytes, headers: Mapping[str, str] | None = None
) -> BatchTranscript:
    """Parse a batch transcription response; non-2xx raises :class:`SmallestError`."""
    if not 200 <= status < 300:
        raise error_from_http(status, body, headers)
    try:
        msg = decode_json(body, max_bytes=_MAX_BATCH_RESPONSE_BYTES)
    except ProtocolError as exc:
        raise ProtocolError(f"transcription response is not usable JSON: {exc.message}") from exc
    if not isinstance(msg, dict):
        raise ProtocolError("transcription response is not a JSON object")
    text = msg.get("transcription")
    if not isinstance(text, str):
        text = msg.get("transcript") if isinstance(msg.get("transcript"), str) else ""
    metadata = msg.get("metadata")
    duration = _float(metadata.get("duration")) if isinstance(metadata, Mapping) else None
    if duration is None:
        duration = _float(msg.get("audio_length"))
    language = msg.get("language")
    request_id = msg.get("request_id")
    return BatchTranscript(
        text=str(text),
        words=_words(msg.get("words"), 0.0),
        language=language if isinstance(language, str) else None,
        duration=duration,
        request_id=request_id if isinstance(request_id, str) else None,
        emotions=_emotions(msg.get("emotions")),
        gender=_str(msg.get("gender")),
    )
