"""Pulse events as LiveKit ``SpeechEvent``s: transcripts, the core's speech boundaries,
Pulse 2's speaker outputs and usage (the event half of :class:`~._stt_stream.SpeechStream`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from livekit.agents import LanguageCode, stt
from livekit.agents.types import NOT_GIVEN, TimedString

from smallest_core import (
    DeadlineMissed,
    Pong,
    SpeechActivity,
    STTError,
    STTIgnored,
    STTOptions,
    STTStreamState,
    Transcript,
    redact,
)

from ._errors import to_api_error
from ._pulse2 import SpeakerProfile
from .log import logger

if TYPE_CHECKING:
    _Base = stt.RecognizeStream
else:
    _Base = object


def speaker_id(value: int | str | None) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else f"S{value}"


class TranscriptEvents(_Base):
    """Maps the core's STT events onto LiveKit's event channel."""

    _opts: STTOptions
    _state: STTStreamState
    _activity: SpeechActivity
    _request_id: str
    _usage_s: float

    def _dispatch(self) -> None:
        """Drain the core's events and handle each, in order: the one handler of both
        the reader (after ``receive``) and the timers (after ``poll``)."""
        for event in self._state.events():
            if isinstance(event, DeadlineMissed):
                self._on_missed(event)
            else:
                self._on_event(event)

    def _on_event(self, event: Any) -> None:
        """Emit LiveKit events (a server error raises)."""
        if self._activity.starts(event):
            self._event_ch.send_nowait(stt.SpeechEvent(type=stt.SpeechEventType.START_OF_SPEECH))
        if isinstance(event, Transcript):
            self._on_transcript(event)
        elif isinstance(event, STTError):
            raise to_api_error(event.error, request_id=self._request_id or None)
        elif isinstance(event, STTIgnored):
            logger.debug("ignored an STT frame: %s", redact(event.reason))
        elif not isinstance(event, Pong):
            logger.debug("STT event %r", event)
        if self._activity.ends(event):
            self._speech_ended()

    def _on_transcript(self, event: Transcript) -> None:
        if event.session_id:
            self._request_id = event.session_id
        if not event.text.strip():
            return
        kind = (
            stt.SpeechEventType.FINAL_TRANSCRIPT
            if event.is_final
            else stt.SpeechEventType.INTERIM_TRANSCRIPT
        )
        self._event_ch.send_nowait(
            stt.SpeechEvent(
                type=kind, request_id=self._request_id, alternatives=[self._speech_data(event)]
            )
        )

    def _on_missed(self, missed: DeadlineMissed) -> None:
        """A deadline the server missed: one recoverable error; the stream goes on."""
        logger.warning("Smallest STT: %s", missed.error)
        self._emit_error(to_api_error(missed.error), recoverable=True)

    def _speech_data(self, event: Transcript) -> stt.SpeechData:
        metadata = event.metadata()
        if metadata:
            self.context = SpeakerProfile(**metadata)
        offset = self.start_time_offset
        words = [
            TimedString(
                w.text,
                start_time=w.start + offset,
                end_time=w.end + offset,
                confidence=w.confidence if w.confidence is not None else NOT_GIVEN,
                start_time_offset=offset,
                speaker_id=speaker_id(w.speaker),
            )
            for w in event.words
        ]
        return stt.SpeechData(
            language=LanguageCode(event.language or self._opts.language),
            text=event.text.strip(),
            start_time=(event.start or 0.0) + offset,
            end_time=(event.end or 0.0) + offset,
            confidence=event.confidence or 0.0,
            speaker_id=speaker_id(event.speaker) if self._opts.diarize else None,
            words=words or None,
            metadata=metadata or None,
        )

    def _end_speech(self) -> None:
        """The connection ended: speech going on ends with it."""
        if self._activity.stop():
            self._speech_ended()

    def _speech_ended(self) -> None:
        self._event_ch.send_nowait(stt.SpeechEvent(type=stt.SpeechEventType.END_OF_SPEECH))

    def _report_usage(self) -> None:
        if self._usage_s <= 0:
            return
        usage, self._usage_s = self._usage_s, 0.0
        self._event_ch.send_nowait(
            stt.SpeechEvent(
                type=stt.SpeechEventType.RECOGNITION_USAGE,
                request_id=self._request_id,
                recognition_usage=stt.RecognitionUsage(audio_duration=usage),
            )
        )
