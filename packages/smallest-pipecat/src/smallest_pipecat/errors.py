"""Map the core's :class:`~smallest_core.SmallestError` onto Pipecat error frames."""

from __future__ import annotations

from pipecat.frames.frames import ErrorFrame
from pipecat.utils.errors import ErrorCategory

from smallest_core import ErrorKind, SmallestError

_CATEGORY = {
    ErrorKind.AUTH: ErrorCategory.AUTHENTICATION,
    ErrorKind.INVALID_INPUT: ErrorCategory.INVALID_REQUEST,
    ErrorKind.RATE_LIMIT: ErrorCategory.RATE_LIMIT,
    ErrorKind.TIMEOUT: ErrorCategory.CONNECTIVITY,
    ErrorKind.CONNECTION: ErrorCategory.CONNECTIVITY,
    ErrorKind.SERVER: ErrorCategory.SERVER,
    ErrorKind.PROTOCOL: ErrorCategory.UNKNOWN,
}
_CONTENT_WORDS = ("content_filter", "content filter", "profan", "blocked")


def error_category(error: SmallestError) -> ErrorCategory:
    """The Pipecat category of ``error``.

    A rejection of the text itself (the content filter) says nothing about the
    service's configuration, so it is an ``APPLICATION`` error and never costs the
    service its usability; a rejected voice, model or key is permanent until the
    settings change, as Pipecat expects.
    """
    text = f"{error.code or ''} {error.message}".lower()
    if error.kind is ErrorKind.INVALID_INPUT and any(w in text for w in _CONTENT_WORDS):
        return ErrorCategory.APPLICATION
    return _CATEGORY.get(error.kind, ErrorCategory.UNKNOWN)


def error_frame(error: SmallestError, prefix: str) -> ErrorFrame:
    """An :class:`ErrorFrame` carrying the server's own message."""
    return ErrorFrame(
        error=f"{prefix}: {error.message}", exception=error, category=error_category(error)
    )
