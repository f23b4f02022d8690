"""Pulse events as VideoSDK ``STTResponse``s: transcripts, the core's speech boundaries,
Pulse 2's turn outputs and errors (the event half of :class:`~.stt.SmallestAISTT`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from videosdk.agents import SpeechData, SpeechEventType, STTResponse

from smallest_core import (
    DeadlineMissed,
    SmallestError,
    SpeechActivity,
    STTError,
    STTIgnored,
    STTOptions,
    STTStreamState,
    Transcript,
    ends_turn,
    redact,
)
from smallest_videosdk._common import describe
from smallest_videosdk._pulse2 import PULSE_2
from smallest_videosdk._user_turn import UserTurns

if TYPE_CHECKING:
    from videosdk.agents import STT as _Base
else:
    _Base = object

logger = logging.getLogger("smallest_videosdk.stt")


class TranscriptEvents(_Base):  # type: ignore[misc]
    """Maps the core's STT events onto the transcript callback and ``error`` events."""

    _options: STTOptions
    _state: STTStreamState
    _activity: SpeechActivity
    _blocked: SmallestError | None
    _user_turns: UserTurns

    async def _on_event(self, event: Any) -> None:
        if self._activity.starts(event):
            await self._deliver(SpeechEventType.START, SpeechData(text=""))
        if isinstance(event, Transcript):
            await self._on_transcript(event)
        elif isinstance(event, STTError):
            self._report(event.error)
            if not event.error.retryable:
                self._blocked = event.error  # the same request would fail again
        elif isinstance(event, STTIgnored):
            logger.debug("ignored a Pulse frame: %s", redact(event.reason))
        if self._activity.ends(event):
            await self._speech_ended()

    async def _on_transcript(self, t: Transcript) -> None:
        if not t.text.strip():
            return
        kind = SpeechEventType.FINAL if t.is_final else SpeechEventType.INTERIM
        metadata = _metadata(t)
        if t.is_final and self._options.model == PULSE_2:
            metadata.update(t.metadata(), end_of_turn=ends_turn(t, PULSE_2))
        await self._deliver(kind, _speech_data(t, self._options.language), metadata)
        if t.is_final:
            self._user_turns.words(t.text)

    async def _end_speech(self) -> None:
        """Speech going on ends now (the connection ended)."""
        if self._activity.stop():
            await self._speech_ended()

    async def _speech_ended(self) -> None:
        await self._deliver(SpeechEventType.END, SpeechData(text=""))
        await self._user_turns.ended()

    def _on_missed(self, missed: DeadlineMissed) -> None:
        """A deadline the server missed: one ``error`` event; the stream goes on."""
        logger.warning("%s", missed.error)
        self._report(missed.error)

    async def _deliver(
        self, kind: SpeechEventType, data: SpeechData, metadata: dict[str, Any] | None = None
    ) -> None:
        callback = self._transcript_callback
        if callback is None:
            return
        try:
            await callback(STTResponse(event_type=kind, data=data, metadata=metadata))
        except Exception:
            logger.exception("the transcript callback raised")

    def _report(self, error: SmallestError) -> None:
        self.emit("error", f"Smallest AI STT: {describe(error)}")


def _speech_data(t: Transcript, language: str) -> SpeechData:
    start = t.start or 0.0
    end = t.end or start
    return SpeechData(
        text=t.text,
        confidence=t.confidence if t.confidence is not None else 0.0,
        language=t.language or language,
        start_time=start,
        end_time=end,
        duration=max(0.0, end - start),
    )


def _metadata(t: Transcript) -> dict[str, Any]:
    return {
        "words": [
            {
                "word": w.text,
                "start": w.start,
                "end": w.end,
                "confidence": w.confidence,
                "speaker": w.speaker,
            }
            for w in t.words
        ],
        "is_last": t.is_last,
        "from_finalize": t.from_finalize,
        "speaker": t.speaker,
        "session_id": t.session_id,
    }
