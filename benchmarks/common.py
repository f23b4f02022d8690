"""Shared types and arithmetic: what a turn delivered, real-time playback, statistics.

The drivers, their clock and the timed :class:`Turn` live in ``shared/harness/drivers``
(one hierarchy with the conformance suite); importing this module puts them on the path.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

from smallest_core import Endpoints

_HARNESS = Path(__file__).resolve().parents[1] / "shared" / "harness"
if str(_HARNESS) not in sys.path:
    sys.path.insert(0, str(_HARNESS))

from drivers.base import Driver  # noqa: E402  (needs the path above)
from drivers.timing import RATE, STALE_WINDOW_S, now, playback  # noqa: E402, F401 (re-exported)
from drivers.timing import Delivery as Turn  # noqa: E402, F401 (re-exported)
from emulator_helpers import emulator_key  # noqa: E402

VOICE = Driver.voice
"""A standard Lightning v3.1 voice with documented word timestamps."""
KEY = "sk_bench"


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
    return emulator_key(KEY, **overrides)


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
