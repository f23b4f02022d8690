"""Shared types and arithmetic: what a turn delivered, real-time playback, statistics."""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from smallest_core import Endpoints

RATE = 24000
"""Every TTS scenario asks for 24 kHz mono PCM (VideoSDK's fixed track rate)."""
VOICE = "liam"
"""A standard Lightning v3.1 voice with documented word timestamps."""
KEY = "sk_bench"
STALE_WINDOW_S = 0.5
"""After a barge-in, how long audio keeps being recorded: what arrives then is stale."""


def now() -> float:
    """The clock every timestamp here uses; the emulator's traces and the shared Pipecat
    harness use it too."""
    return time.monotonic()


def bare_tts_url(base_url: str) -> str:
    """The TTS WebSocket of ``base_url``, for a client that uses no plugin at all."""
    return Endpoints.resolve(base_url).tts_ws()


def bare_tts_request(context_id: str, text: str) -> str:
    """One whole utterance as a single closing message, complete sent at once."""
    return json.dumps(
        {
            "model": "lightning_v3.1",
            "voice_id": VOICE,
            "sample_rate": RATE,
            "language": "en",
            "context_id": context_id,
            "text": text,
            "continue": False,
            "complete_backoff_ms": 0,
        }
    )


def key(**overrides: Any) -> str:
    """An emulator API key with per-connection overrides (``pause_ms=1000`` ...)."""
    return ";".join([KEY, *(f"{k}={v}" for k, v in overrides.items())])


@dataclass
class Turn:
    """What the framework received for one utterance, timestamped on arrival."""

    started: float = 0.0  # first token handed to the framework
    pushes: list[tuple[float, int]] = field(default_factory=list)  # (time, bytes of PCM)
    audio: bytearray = field(default_factory=bytearray)
    words: list[tuple[str, float]] = field(default_factory=list)  # (word, seconds on timeline)
    word_times: list[tuple[str, float]] = field(default_factory=list)  # (word, wall time)

    def add(self, pcm: bytes) -> None:
        if pcm:
            self.pushes.append((now(), len(pcm)))
            self.audio += pcm

    @property
    def first_audio(self) -> float | None:
        return self.pushes[0][0] if self.pushes else None


def playback(pushes: list[tuple[float, int]], rate: int = RATE) -> tuple[float, float, float]:
    """Real-time playback of 16-bit mono ``pushes``: (start, end, dead air) in seconds.

    Playback starts with the first byte; dead air is the time the buffer was empty
    before everything delivered had been played.
    """
    if not pushes:
        return 0.0, 0.0, 0.0
    dead = 0.0
    start = pushes[0][0]
    end = start
    for when, size in sorted(pushes):
        if when > end:
            dead += when - end
            end = when
        end += size / 2 / rate
    return start, end, dead


def play_time_of(pushes: list[tuple[float, int]], sample: int, rate: int = RATE) -> float:
    """Wall time at which ``sample`` (16-bit mono index) is heard under :func:`playback`."""
    end = pushes[0][0]
    pos = 0
    for when, size in sorted(pushes):
        n = size // 2
        end = max(end, when)
        if sample < pos + n:
            return end + (sample - pos) / rate
        end += n / rate
        pos += n
    return end


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def stale_bytes(delivered: bytes, expected: bytes) -> int:
    """Bytes delivered for a turn that are not that turn's audio (leaked from another)."""
    if delivered == expected:
        return 0
    if delivered.endswith(expected):
        return len(delivered) - len(expected)
    if delivered.startswith(expected):
        return len(delivered) - len(expected)
    return max(len(delivered), 1)


class NotSupported(Exception):
    """The implementation cannot perform this scenario at all (reported as n/a + reason)."""


REPLY_3 = [
    "Sure, I can help you with that today.",
    " Your order shipped this morning and should arrive by Friday.",
    " Is there anything else you would like to know?",
]
TURN_5 = [
    "The first sentence is short.",
    " Then, a second one follows!",
    " Does the third ask something?",
    " A fourth keeps going; on and on.",
    " Finally the fifth request ends it.",
]
LONG_REPLY = " ".join(
    f"Sentence number {i} is rather long and keeps the speaker busy." for i in range(12)
)


def tokens(sentences: list[str]) -> list[str]:
    """Word-level tokens as an LLM streams them (leading spaces kept)."""
    out: list[str] = []
    for s in sentences:
        parts = s.split(" ")
        for i, p in enumerate(parts):
            if p == "":
                continue
            out.append(p if i == 0 and not s.startswith(" ") else " " + p)
    return out


def quiet() -> None:
    """Silence the frameworks' logging (stdlib and loguru): it is not what is measured."""
    import logging

    logging.disable(logging.CRITICAL)
    try:
        from loguru import logger  # Pipecat's logger, absent without Pipecat

        logger.remove()
    except ImportError:
        pass
