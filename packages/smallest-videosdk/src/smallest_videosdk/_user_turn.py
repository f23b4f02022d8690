"""The caller's turn as the STT heard it (final words and the audio sent for them), handed
to a listener at the end of each turn, e.g. ``SmallestAITTSV4.add_user_turn``."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger("smallest_videosdk.stt")

UserTurnListener = Callable[[str, bytes, int], Awaitable[None]]
"""``(text, pcm, sample_rate)``: int16 mono PCM."""
MAX_TURN_AUDIO_S = 30
"""The newest audio kept per turn (a longer turn hands on its end)."""


class UserTurns:
    """Collects one turn at a time; nothing is kept without a listener."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self.listener: UserTurnListener | None = None
        self._limit = MAX_TURN_AUDIO_S * sample_rate * 2
        self._audio = bytearray()
        self._words: list[str] = []

    def audio(self, frame: bytes) -> None:
        """A frame of audio just sent to Pulse."""
        if self.listener is None:
            return
        self._audio += frame
        if len(self._audio) > self._limit:
            del self._audio[: len(self._audio) - self._limit]

    def words(self, text: str) -> None:
        """A final transcript of the turn."""
        if self.listener is not None and text.strip():
            self._words.append(text.strip())

    async def ended(self) -> None:
        """The turn is over: hand it on (a listener's failure is logged, never raised)."""
        listener, text, pcm = self.listener, " ".join(self._words), bytes(self._audio)
        self._words.clear()
        self._audio.clear()
        if listener is None or not text or not pcm:
            return
        try:
            await listener(text, pcm, self.sample_rate)
        except Exception:
            logger.exception("the user turn listener raised")
