"""When the server owes a TTS context its next frame: only for text it was actually sent.

One rule for every adapter. Once the context's closing message is sent the server owes
everything: ``timeout`` after the close or its latest frame. Before that, text sent and
not yet answered is owed within ``timeout`` plus the server's sentence-buffering delay
(it may hold a fragment that ends mid-sentence that long); a server that has answered
everything it was sent owes nothing while the caller's text source (an LLM) is quiet.
"""

from __future__ import annotations

from smallest_core.options import TTSOptions

DEFAULT_BUFFER_DELAY_S = 3.0
"""How long the service holds text waiting for a sentence end (``max_buffer_delay_ms``)."""


def buffer_delay_s(options: TTSOptions) -> float:
    """The sentence-buffering delay the server applies to ``options``' contexts."""
    delay_ms = options.max_buffer_delay_ms
    return DEFAULT_BUFFER_DELAY_S if delay_ms is None else delay_ms / 1000


class ResponseDeadline:
    """The deadline for the server's next frame of one context (monotonic seconds)."""

    __slots__ = ("_closed_at", "_last_frame", "_unanswered_since", "buffer_delay", "timeout")

    def __init__(self, timeout: float, buffer_delay: float = DEFAULT_BUFFER_DELAY_S) -> None:
        if timeout <= 0 or buffer_delay < 0:
            raise ValueError(
                f"timeout must be > 0 and buffer_delay >= 0, got {timeout!r}, {buffer_delay!r}"
            )
        self.timeout = timeout
        self.buffer_delay = buffer_delay
        self._unanswered_since: float | None = None
        self._closed_at: float | None = None
        self._last_frame = 0.0

    @classmethod
    def for_options(cls, timeout: float, options: TTSOptions) -> ResponseDeadline:
        return cls(timeout, buffer_delay_s(options))

    def sent(self, at: float, *, closing: bool) -> None:
        """Text (or, with ``closing``, the closing message) reached the server at ``at``."""
        if closing:
            self._closed_at = at
        elif self._unanswered_since is None:
            self._unanswered_since = at

    def answered(self, at: float) -> None:
        """A frame of the context arrived at ``at``."""
        self._unanswered_since = None
        self._last_frame = at

    def due(self, activity: float = 0.0) -> float | None:
        """When a frame is due, or ``None`` (nothing is owed).

        ``activity`` is the socket's latest sign of work that is no frame of this context
        (the core's own pending decision, such as the end of a context a quiet period
        after its ``complete``): the wait counts from there.
        """
        if self._closed_at is not None:
            return max(self._closed_at, self._last_frame, activity) + self.timeout
        if self._unanswered_since is not None:
            return max(self._unanswered_since + self.buffer_delay, activity) + self.timeout
        return None
