"""When to try a connection again: plain functions, as ``websockets`` does with ``backoff()``.

Deterministic on purpose (no jitter): a plugin serves one call, so there is no thundering
herd to spread, and tests can state the exact schedule.
"""

from __future__ import annotations

from smallest_core.errors import ErrorKind, SmallestError, is_idle_timeout

MAX_RECONNECT_ATTEMPTS = 6
"""Reconnects tried in a row before a stream gives up (about 8 s of back-off in all)."""
INITIAL_BACKOFF_S = 0.25
MAX_BACKOFF_S = 10.0
RATE_LIMIT_BACKOFF_S = 1.0
"""The least wait after a rate-limit signal that names no ``Retry-After``."""


def backoff(attempt: int, *, error: SmallestError | None = None) -> float:
    """Seconds to wait before reconnect ``attempt`` (1 for the first retry).

    Doubles from 0.25 s up to 10 s; after a rate-limit signal (429, close 1008) waits at
    least the server's ``Retry-After``, or 1 s when it named none.
    """
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, got {attempt}")
    delay: float = min(MAX_BACKOFF_S, INITIAL_BACKOFF_S * 2.0 ** min(attempt - 1, 16))
    if error is not None and error.kind is ErrorKind.RATE_LIMIT:
        floor = error.retry_after if error.retry_after is not None else RATE_LIMIT_BACKOFF_S
        delay = max(delay, min(floor, MAX_BACKOFF_S * 6))
    return delay


def should_reconnect(error: SmallestError, attempt: int) -> bool:
    """Whether reconnect ``attempt`` (1-based) may be tried after ``error``."""
    return error.retryable and attempt <= MAX_RECONNECT_ATTEMPTS


MAX_REPLAYS = 2
"""Times one TTS context may be sent again on a fresh socket."""


def should_replay(error: SmallestError, *, audio_received: bool, replays: int) -> bool:
    """Whether a TTS context that failed may be sent again, whole, on a fresh socket.

    Only when the socket failed rather than the request (a connection failure, or the
    server closing an idle socket just as the context was sent), before any of the
    context's audio arrived (a replay would play it twice), and at most
    :data:`MAX_REPLAYS` times.
    """
    if audio_received or replays >= MAX_REPLAYS:
        return False
    return error.kind is ErrorKind.CONNECTION or is_idle_timeout(error)
