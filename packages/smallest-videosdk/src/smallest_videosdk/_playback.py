"""Getting one turn's audio onto the agent's track: rate conversion and word pacing.

The agent's output track plays 24 kHz mono and never converts what it is given, so
audio at any other rate is resampled here with the framework's own polyphase
converter (``videosdk.agents.audio_native``; a dependency of ``videosdk-agents``).
Word timestamps become ``word_spoken`` events at the moment the word is heard: each
push to the track is placed on a simulated real-time playback clock (a push that
arrives after the previous audio has run out starts when it is pushed), and a word is
due when its first sample plays.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

from videosdk.agents.audio_native import converter

TRACK_SAMPLE_RATE = 24000
"""The rate of VideoSDK's agent audio track (``CustomAudioStreamTrack.sample_rate``)."""


class _Converter(Protocol):
    def process(self, pcm: bytes) -> bytes: ...


class TrackAudio:
    """Converts one turn's PCM16 mono from ``source_rate`` to ``track_rate``.

    Output length is exact: after :meth:`finish`, ``n`` input samples have produced
    ``round(n * track_rate / source_rate)`` output samples, including the filter's tail.
    """

    def __init__(self, source_rate: int, track_rate: int = TRACK_SAMPLE_RATE) -> None:
        self.source_rate = source_rate
        self.track_rate = track_rate
        self._converter: _Converter | None = None
        if source_rate != track_rate:
            self._converter = converter(
                in_rate=source_rate, in_channels=1, out_rate=track_rate, out_channels=1
            )
        self._samples_in = 0
        self._samples_out = 0
        self._carry = b""

    def convert(self, pcm: bytes) -> bytes:
        """Audio for the track (possibly empty while the filter fills)."""
        if self._converter is None:
            return pcm
        if self._carry:
            pcm, self._carry = self._carry + pcm, b""
        if len(pcm) % 2:
            pcm, self._carry = pcm[:-1], pcm[-1:]
        self._samples_in += len(pcm) // 2
        out = self._converter.process(pcm) if pcm else b""
        self._samples_out += len(out) // 2
        return bytes(out)

    def finish(self) -> bytes:
        """The converter's tail, trimmed so the turn has exactly its right length."""
        if self._converter is None:
            return b""
        owed = round(self._samples_in * self.track_rate / self.source_rate) - self._samples_out
        if owed <= 0:
            return b""
        pad = b"\x00\x00" * (self.source_rate // 50 + owed * self.source_rate // self.track_rate)
        tail = bytes(self._converter.process(pad))[: owed * 2]
        self._samples_out += len(tail) // 2
        return tail


class WordPacer:
    """Emits ``word_spoken`` payloads when each word's first sample is played.

    Positions are in samples at ``sample_rate`` on the turn's timeline.
    """

    def __init__(self, sample_rate: int, emit: Callable[[dict[str, Any]], None]) -> None:
        self._rate = sample_rate
        self._emit = emit
        self._loop = asyncio.get_running_loop()
        self._spans: list[tuple[int, int, float]] = []
        self._pushed = 0
        self._play_end = 0.0
        self._pending: list[tuple[int, str, str]] = []
        self._handles: list[asyncio.TimerHandle] = []
        self._last_at = 0.0
        self._spoken = ""

    @property
    def pushed_samples(self) -> int:
        return self._pushed

    @property
    def done(self) -> bool:
        """True once every scheduled word has been spoken or cancelled."""
        return (
            not self._pending
            and all(h.cancelled() or h.when() < self._loop.time() for h in self._handles)
            and self._loop.time() > self._play_end
        )

    def audio_pushed(self, samples: int) -> None:
        """``samples`` more of the turn's audio went to the track just now."""
        if samples <= 0:
            return
        start = max(self._play_end, self._loop.time())
        self._spans.append((self._pushed, self._pushed + samples, start))
        self._pushed += samples
        self._play_end = start + samples / self._rate
        self._schedule()

    def add_word(self, sample: int, text: str, spaced: str) -> None:
        """A word whose first sample is at ``sample`` on the turn's timeline."""
        self._pending.append((sample, text, spaced))
        self._schedule()

    def finish(self) -> None:
        """No more audio: words timed past its end play when the audio runs out."""
        for _, text, spaced in self._pending:
            self._at(self._play_end, text, spaced)
        self._pending.clear()

    def cancel(self) -> None:
        """Drop every word not yet spoken (interruption)."""
        for handle in self._handles:
            handle.cancel()
        self._handles.clear()
        self._pending.clear()

    def _schedule(self) -> None:
        ready = [w for w in self._pending if w[0] < self._pushed]
        if not ready:
            return
        self._pending = [w for w in self._pending if w[0] >= self._pushed]
        for sample, text, spaced in ready:
            self._at(self._time_of(sample), text, spaced)

    def _time_of(self, sample: int) -> float:
        for s0, s1, wall in self._spans:
            if s0 <= sample < s1:
                return wall + (sample - s0) / self._rate
        return self._spans[0][2] if self._spans else self._loop.time()

    def _at(self, when: float, text: str, spaced: str) -> None:
        # Words fire in the order they were given: two at one instant (a last word timed at
        # its segment's very end, the next segment's first at its start) keep their order.
        when = max(when, self._last_at)
        self._last_at = when + 1e-6
        self._handles.append(self._loop.call_at(when, self._fire, text, spaced))

    def _fire(self, text: str, spaced: str) -> None:
        self._spoken += spaced
        self._emit({"word": text, "cumulative_text": self._spoken.strip()})
