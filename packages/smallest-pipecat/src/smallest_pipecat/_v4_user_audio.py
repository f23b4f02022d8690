"""The caller's last turn for Lightning v4's ``user_audio``: audio between the user's
start and stop of speaking, with the words of the final transcripts of that turn."""

from __future__ import annotations

from pipecat.frames.frames import (
    Frame,
    InputAudioRawFrame,
    TranscriptionFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
)

MAX_CALLER_AUDIO_S = 30
"""At most this much of one caller turn is kept (the start of a longer one is dropped)."""


class CallerTurns:
    """Watches the frames crossing the service and keeps the caller's last turn."""

    def __init__(self) -> None:
        self._capturing = False
        self._audio = bytearray()
        self._rate = 0
        self._words: list[str] = []
        self._ready: tuple[bytes, int] | None = None

    def observe(self, frame: Frame) -> None:
        """Take what matters from one frame."""
        if isinstance(frame, UserStartedSpeakingFrame):
            self._capturing = True
            self._audio.clear()
            self._words.clear()
            self._ready = None
        elif isinstance(frame, InputAudioRawFrame) and self._capturing and frame.num_channels == 1:
            if frame.sample_rate != self._rate:
                self._audio.clear()
                self._rate = frame.sample_rate
            self._audio += frame.audio
            limit = self._rate * 2 * MAX_CALLER_AUDIO_S
            if len(self._audio) > limit:
                del self._audio[: len(self._audio) - limit]
        elif isinstance(frame, UserStoppedSpeakingFrame):
            self._capturing = False
            if self._audio:
                self._ready = (bytes(self._audio), self._rate)
            self._audio.clear()
        elif isinstance(frame, TranscriptionFrame) and frame.text.strip():
            self._words.append(frame.text.strip())

    def set_text(self, text: str) -> None:
        """The caller's words, given by the application (replaces what was heard)."""
        self._words = [text.strip()] if text.strip() else []

    def take(self) -> tuple[str, bytes, int] | None:
        """The finished turn (words, PCM, rate) once both are known; forgotten after."""
        if self._ready is None or not self._words:
            return None
        (pcm, rate), text = self._ready, " ".join(self._words)
        self._ready = None
        self._words = []
        return text, pcm, rate


__all__ = ["MAX_CALLER_AUDIO_S", "CallerTurns"]
