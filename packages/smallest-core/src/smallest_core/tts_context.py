"""One TTS context's life as an explicit transition table, and the record that carries it.

A context moves through :class:`Phase` only by :data:`TRANSITIONS`, keyed by
``(phase, input)``. Inputs are the caller's commands (``TEXT``, ``CLOSE``, ``CANCEL``,
``TIME_OUT``), the connection's own decisions (``SEND`` held text, ``SUPERSEDED``,
``GRACE_EXPIRED``, ``LAST_COMPLETE`` when a ``complete`` is known to be the last) and what
the server says (``AUDIO``, ``COMPLETE``, ``FAIL``, ``LOST``). A command with no entry is
misuse (:class:`~smallest_core.errors.ProtocolMisuse`); commands that race a context's end
(a cancel as the audio finishes, text after a failure) are no-ops, listed as such.
Callers see the coarser :class:`ContextState`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from smallest_core.errors import ProtocolMisuse
from smallest_core.options import TTSOptions
from smallest_core.timeline import WordTimeline
from smallest_core.tts_events import ContextStats


class ContextState(StrEnum):
    """Where a context is in its life."""

    HELD = "held"
    """Registered; its text waits until routing it is unambiguous."""
    OPEN = "open"
    """Text is being sent."""
    CLOSING = "closing"
    """The closing fragment was sent; audio may still arrive."""
    ENDED = "ended"
    CANCELLED = "cancelled"
    FAILED = "failed"


class Phase(StrEnum):
    """A context's phase: :class:`ContextState`, told apart where the protocol needs it."""

    NEW = "new"
    """Registered, no text yet."""
    HELD = "held"
    """Text waits until routing it is unambiguous."""
    HELD_CLOSED = "held_closed"
    """Input ended while its text waits."""
    OPEN = "open"
    CLOSING = "closing"
    """The closing message was sent; no ``complete`` since."""
    COMPLETED = "completed"
    """A ``complete`` arrived after the closing message; the end waits for evidence."""
    ENDED = "ended"
    ENDED_BY_GRACE = "ended_by_grace"
    """Ended by the quiet period after a ``complete``: a later frame is counted late."""
    CANCELLED = "cancelled"
    FAILED = "failed"

    __hash__ = str.__hash__  # the table is looked up per frame: skip Enum's Python hash


class Input(StrEnum):
    """What can happen to a context."""

    TEXT = "text"
    CLOSE = "close"
    CANCEL = "cancel"
    TIME_OUT = "time_out"
    SEND = "send"
    AUDIO = "audio"
    """A chunk or a word (never changes the phase)."""
    COMPLETE = "complete"
    LAST_COMPLETE = "last_complete"
    SUPERSEDED = "superseded"
    GRACE_EXPIRED = "grace_expired"
    FAIL = "fail"
    LOST = "lost"
    """The socket closed, or the server said it is closing it (idle timeout)."""

    __hash__ = str.__hash__


COMMANDS = frozenset({Input.TEXT, Input.CLOSE, Input.CANCEL, Input.TIME_OUT})
RESOLVED = (Phase.ENDED, Phase.ENDED_BY_GRACE, Phase.CANCELLED, Phase.FAILED)
UNSENT = (Phase.NEW, Phase.HELD, Phase.HELD_CLOSED)
AT_SERVER = (Phase.OPEN, Phase.CLOSING, Phase.COMPLETED)
"""Live and known to the server: its frames may arrive."""

P, In = Phase, Input
TRANSITIONS: dict[tuple[Phase, Input], Phase] = {
    (P.NEW, In.TEXT): P.HELD,
    (P.NEW, In.CLOSE): P.ENDED,  # nothing to say
    (P.NEW, In.CANCEL): P.CANCELLED,
    (P.NEW, In.TIME_OUT): P.FAILED,
    (P.NEW, In.AUDIO): P.NEW,  # a server echoing an id it was never sent
    (P.NEW, In.COMPLETE): P.NEW,
    (P.NEW, In.FAIL): P.FAILED,
    (P.NEW, In.LOST): P.FAILED,
    # Held text never reached the server: no frame is routed to it (ids echoed release it).
    (P.HELD, In.TEXT): P.HELD,
    (P.HELD, In.CLOSE): P.HELD_CLOSED,
    (P.HELD, In.SEND): P.OPEN,
    (P.HELD, In.CANCEL): P.CANCELLED,
    (P.HELD, In.TIME_OUT): P.FAILED,
    (P.HELD, In.LOST): P.FAILED,
    (P.HELD_CLOSED, In.CLOSE): P.HELD_CLOSED,
    (P.HELD_CLOSED, In.SEND): P.CLOSING,
    (P.HELD_CLOSED, In.CANCEL): P.CANCELLED,
    (P.HELD_CLOSED, In.TIME_OUT): P.FAILED,
    (P.HELD_CLOSED, In.LOST): P.FAILED,
    (P.OPEN, In.TEXT): P.OPEN,
    (P.OPEN, In.CLOSE): P.CLOSING,
    (P.OPEN, In.CANCEL): P.CANCELLED,
    (P.OPEN, In.TIME_OUT): P.FAILED,
    (P.OPEN, In.AUDIO): P.OPEN,
    (P.OPEN, In.COMPLETE): P.OPEN,  # one release of several
    (P.OPEN, In.FAIL): P.FAILED,
    (P.OPEN, In.LOST): P.FAILED,
    (P.CLOSING, In.CLOSE): P.CLOSING,
    (P.CLOSING, In.CANCEL): P.CANCELLED,
    (P.CLOSING, In.TIME_OUT): P.FAILED,
    (P.CLOSING, In.AUDIO): P.CLOSING,
    (P.CLOSING, In.COMPLETE): P.COMPLETED,
    (P.CLOSING, In.LAST_COMPLETE): P.ENDED,
    (P.CLOSING, In.SUPERSEDED): P.ENDED,
    (P.CLOSING, In.FAIL): P.FAILED,
    (P.CLOSING, In.LOST): P.FAILED,
    (P.COMPLETED, In.CLOSE): P.COMPLETED,
    (P.COMPLETED, In.CANCEL): P.CANCELLED,
    (P.COMPLETED, In.TIME_OUT): P.FAILED,
    (P.COMPLETED, In.AUDIO): P.COMPLETED,
    (P.COMPLETED, In.COMPLETE): P.COMPLETED,
    (P.COMPLETED, In.LAST_COMPLETE): P.ENDED,
    (P.COMPLETED, In.SUPERSEDED): P.ENDED,
    (P.COMPLETED, In.GRACE_EXPIRED): P.ENDED_BY_GRACE,
    (P.COMPLETED, In.FAIL): P.FAILED,
    (P.COMPLETED, In.LOST): P.ENDED,  # its audio was complete
    # Commands that race the end are no-ops; text after the caller's own close is not.
    **{(p, i): p for p in RESOLVED for i in (In.CLOSE, In.CANCEL, In.TIME_OUT)},
    (P.CANCELLED, In.TEXT): P.CANCELLED,
    (P.FAILED, In.TEXT): P.FAILED,
}
del P, In

PUBLIC_STATE = {
    Phase.NEW: ContextState.HELD,
    Phase.HELD: ContextState.HELD,
    Phase.HELD_CLOSED: ContextState.HELD,
    Phase.OPEN: ContextState.OPEN,
    Phase.CLOSING: ContextState.CLOSING,
    Phase.COMPLETED: ContextState.CLOSING,
    Phase.ENDED: ContextState.ENDED,
    Phase.ENDED_BY_GRACE: ContextState.ENDED,
    Phase.CANCELLED: ContextState.CANCELLED,
    Phase.FAILED: ContextState.FAILED,
}


def next_phase(context_id: str, phase: Phase, event: Input) -> Phase:
    """The phase after ``event``; :class:`ProtocolMisuse` if the table has no entry."""
    try:
        return TRANSITIONS[phase, event]
    except KeyError:
        allowed = "text is accepted until end_input()" if event is Input.TEXT else "see TRANSITIONS"
        raise ProtocolMisuse(
            f"context {context_id!r} cannot take {event.value!r} when {phase.value} ({allowed})"
        ) from None


@dataclass(slots=True)
class Context:
    """A context's record: its phase plus what is not state (options, text, audio)."""

    id: str
    options: TTSOptions
    timeline: WordTimeline
    phase: Phase = Phase.NEW
    reached_server: bool = False
    """History, not state: routing after a cancel still needs it once the context is
    resolved (while live it equals ``phase in AT_SERVER``)."""
    held: list[str] = field(default_factory=list)
    request_ids: set[str] = field(default_factory=set)
    grace_deadline: float | None = None
    surface_words: bool = False
    one_shot: bool = False
    """Sent as one request (``synthesize``), not as fragments and a close."""
    carry: bytes = b""
    stats: ContextStats = field(default_factory=ContextStats)
