"""Bounds on what a server may make a client hold, and early checks on what a caller passes.

Every size limit here is the one the well-kept client libraries use by default (aiohttp's
4 MiB message size), so a hostile or broken server costs a bounded amount of memory.
"""

from __future__ import annotations

import math

MAX_FRAME_BYTES = 4 * 1024 * 1024
"""Largest WebSocket message accepted (aiohttp ``max_msg_size`` / websockets ``max_size``)."""
MAX_ERROR_BODY_BYTES = 64 * 1024
"""How much of an error (or non-audio) HTTP body is read to explain a failure."""
MAX_MESSAGE_CHARS = 1000
"""Longest server message kept in an error's text (the rest is cut, with a note)."""
MAX_WORD_TIME_S = 3600.0
"""A word time beyond an hour into one request is not a timestamp but garbage."""


def check_duration(
    name: str, value: float, *, allow_zero: bool = False, maximum: float | None = None
) -> float:
    """``value`` as seconds, or ``ValueError`` naming ``name`` and the allowed range."""
    low = ">= 0" if allow_zero else "> 0"
    high = f" and <= {maximum:g}" if maximum is not None else ""
    problem = f"{name} must be a finite number of seconds {low}{high}, got {value!r}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(problem)
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not allow_zero):
        raise ValueError(problem)
    if maximum is not None and seconds > maximum:
        raise ValueError(problem)
    return seconds


def check_text(text: str) -> str:
    """``text`` if it can be sent as UTF-8; ``ValueError`` naming a lone surrogate if not."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        char = text[exc.start]
        raise ValueError(
            f"text contains a lone surrogate U+{ord(char):04X} at index {exc.start}, "
            "which cannot be sent as UTF-8 (decode the source with errors='replace')"
        ) from None
    return text


def shorten(message: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``message`` cut to ``limit`` characters, saying how much was left out."""
    if len(message) <= limit:
        return message
    return f"{message[:limit]}… ({len(message) - limit} more characters)"
