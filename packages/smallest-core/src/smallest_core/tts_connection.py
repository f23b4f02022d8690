"""The TTS WebSocket connection as a sans-I/O state machine.

One :class:`TTSConnection` per socket. Commands (``start_context``, ``push_text``,
``end_input``, ``synthesize``, ``cancel``, ``time_out``) and inputs (``receive``, ``poll``,
``connection_lost``) return nothing: drain the messages to send with
:meth:`~TTSConnection.data_to_send` and what happened with :meth:`~TTSConnection.events`,
both in order. Each context moves only by the transition table of
:mod:`smallest_core.tts_context`; a command it does not allow raises
:class:`~smallest_core.errors.ProtocolMisuse`. Time is passed in (``now``, seconds on
any monotonic clock) and :meth:`~TTSConnection.next_deadline` says when to
:meth:`~TTSConnection.poll`; the caller only sleeps.

How a context's end is decided (``waves-protocol.md`` §10.1, §12.1):

* a ``complete`` that arrives after the closing fragment ends the context at once when
  the evidence is unambiguous: the server is known to send one ``complete`` per context
  (``end_rule="complete"``), every word of the context's text has been timed (word
  timestamps are on), or the protocol is the legacy one (exactly one ``complete``);
* the server closing the socket after a ``complete`` ends it too;
* otherwise (several ``complete``s per context with no terminal marker) the context ends
  when ``end_grace_s`` passes after a ``complete`` with no further frame for it. A frame
  that arrives later is still attributed to its context (and counted as late), and the
  grace period is lengthened for the rest of the connection.

Routing (:mod:`smallest_core.tts_incoming`) is by echoed ids, else by order. When the
server has not been seen to echo ids, a new context's text is held back until the
previous context is resolved, so order-based routing can never mix two contexts.

A cancel is the one place where order cannot tell contexts apart: the server may already
have frames of the cancelled context in flight, under a ``request_id`` never seen before.
So on a server not seen to echo ids, the context after a cancelled one is held until the
cancelled one has been quiet for ``cancel_quiet_s`` (every frame in between is its, and
dropped).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Literal

from smallest_core import tts_messages
from smallest_core.errors import (
    ErrorKind,
    ProtocolMisuse,
    SmallestError,
    connection_error,
    is_idle_timeout,
)
from smallest_core.limits import check_text
from smallest_core.options import TTSOptions
from smallest_core.timeline import WordTimeline
from smallest_core.tts_context import (
    AT_SERVER,
    PUBLIC_STATE,
    RESOLVED,
    UNSENT,
    Context,
    ContextState,
    Input,
    Phase,
    next_phase,
)
from smallest_core.tts_events import (
    AudioReceived,
    ConnectionFailed,
    ConnectionStats,
    ContextEnded,
    ContextFailed,
    ContextStats,
    FrameIgnored,
    TTSEvent,
    WordReceived,
)
from smallest_core.tts_incoming import (
    MAX_END_GRACE_S,
    MISSING_WORDS_GRACE_S,
    IncomingSide,
    name_the_voice,
)

__all__ = [
    "MAX_END_GRACE_S",
    "MISSING_WORDS_GRACE_S",
    "AudioReceived",
    "ConnectionFailed",
    "ConnectionStats",
    "ContextEnded",
    "ContextFailed",
    "ContextState",
    "ContextStats",
    "FrameIgnored",
    "TTSConnection",
    "TTSEvent",
    "WordReceived",
    "is_idle_timeout",
    "name_the_voice",
]

EndRule = Literal["auto", "complete", "grace"]
Protocol = Literal["continuations", "legacy"]

DEFAULT_END_GRACE_S = 0.3
DEFAULT_CANCEL_QUIET_S = 0.3
"""How long a cancelled context must stay quiet before the next one is sent (no-echo)."""
_RESOLVED_CONTEXTS_KEPT = 64


class TTSConnection(IncomingSide):
    """Protocol state for one TTS WebSocket (continuations or legacy mode)."""

    def __init__(
        self,
        options: TTSOptions,
        *,
        protocol: Protocol = "continuations",
        end_rule: EndRule = "auto",
        end_grace_s: float = DEFAULT_END_GRACE_S,
        cancel_quiet_s: float = DEFAULT_CANCEL_QUIET_S,
        words_for_end_detection: bool = True,
    ) -> None:
        options.check_websocket()
        self.cancel_quiet_s = cancel_quiet_s
        self.words_for_end_detection = words_for_end_detection
        """Request word timestamps even when the caller does not surface them: a
        ``complete`` that arrives once every word is timed is an unambiguous end."""
        self.options = options
        self.protocol: Protocol = protocol
        self.end_rule: EndRule = end_rule
        self.end_grace_s = end_grace_s
        self.stats = ConnectionStats()
        self.echoes_ids = False
        """Whether the server has been seen to echo ``context_id`` / ``request_id``."""
        self.per_release_completes = False
        """Whether the server has been seen to send a ``complete`` before the close."""
        self.closed = False
        self.reusable = True
        """False once the socket cannot carry another context (legacy cancel, close)."""
        self._contexts: OrderedDict[str, Context] = OrderedDict()
        self._last_routed: Context | None = None
        """The context of the previous frame: it has already superseded earlier ones."""
        self._rid_owner: dict[str, str] = {}
        self._graced: dict[str, float] = {}
        """Contexts with a grace deadline, and when (``next_deadline`` without a scan)."""
        self._draining: dict[str, float] = {}
        """Cancelled contexts whose late frames may still arrive unlabelled, and until when
        the contexts after them are held."""
        self._outgoing: list[str] = []
        self._events: list[TTSEvent] = []

    # -------------------------------------------------------------- draining
    def data_to_send(self) -> list[str]:
        """Text frames to send now, in order (clears the queue)."""
        out, self._outgoing = self._outgoing, []
        return out

    def events(self) -> list[TTSEvent]:
        """What happened since the last call, in order (clears the queue)."""
        out, self._events = self._events, []
        return out

    # -------------------------------------------------------------- commands
    def start_context(
        self, context_id: str | None = None, options: TTSOptions | None = None
    ) -> str:
        """Register a new context (nothing is sent until text arrives). Returns its id."""
        if self.closed:
            raise ProtocolMisuse("the connection is closed: start contexts on a new one")
        if self.protocol == "legacy" and self._active():
            raise ProtocolMisuse(
                "the legacy protocol carries one context at a time: end or cancel the "
                "current one first"
            )
        opts = options or self.options
        opts.check_websocket()
        ctx_id = context_id or tts_messages.new_context_id()
        if ctx_id in self._contexts:
            raise ProtocolMisuse(
                f"context {ctx_id!r} already exists on this connection: ids must be new"
            )
        ctx = Context(
            ctx_id, opts, WordTimeline(opts.sample_rate), surface_words=opts.word_timestamps
        )
        if self.words_for_end_detection and self.protocol == "continuations":
            ctx.options = opts.with_changes(word_timestamps=True)
        self._contexts[ctx_id] = ctx
        return ctx_id

    def push_text(self, context_id: str, text: str) -> None:
        """Send (or hold) a text fragment. Whitespace-only fragments are sent too; text
        for a cancelled or failed context is dropped."""
        ctx = self._ctx(context_id)
        if not text:
            next_phase(ctx.id, ctx.phase, Input.TEXT)  # misuse is misuse, even when empty
            return
        check_text(text)
        phase = self._transition(ctx, Input.TEXT)
        if phase in RESOLVED:
            return
        ctx.timeline.add_text(text)
        if phase is Phase.OPEN:
            self._outgoing.append(self._fragment(ctx, text))
            return
        ctx.held.append(text)
        if self._may_send(ctx):
            self._flush_held(ctx)

    def end_input(self, context_id: str) -> None:
        """No more text for this context: send its closing message (or end it if empty).
        Again, or on a resolved context, it does nothing."""
        ctx = self._ctx(context_id)
        before = ctx.phase
        if before is Phase.NEW:
            self._end(ctx, Input.CLOSE, "empty")
            self._release_held()
            return
        if self._transition(ctx, Input.CLOSE) is Phase.CLOSING and before is Phase.OPEN:
            self._send_close(ctx)

    def synthesize(self, text: str, options: TTSOptions | None = None) -> str:
        """A one-shot request: a new context with all of its text, closed at once."""
        check_text(text)
        ctx_id = self.start_context(options=options)
        ctx = self._contexts[ctx_id]
        ctx.one_shot = True
        ctx.timeline.add_text(text)
        if not text.strip():
            self._end(ctx, Input.CLOSE, "empty")
            return ctx_id
        ctx.held.append(text)
        self._transition(ctx, Input.TEXT)
        self._transition(ctx, Input.CLOSE)
        if self._may_send(ctx):
            self._flush_held(ctx)
        return ctx_id

    def cancel(self, context_id: str, now: float | None = None) -> None:
        """Barge-in: tell the server to drop the context; its late frames are dropped.

        ``now`` (the caller's monotonic clock; ``time.monotonic()`` when omitted) starts
        the quiet period after which the next context is sent, on a server that does not
        echo ids (see the module docstring). A resolved context is left as it is.
        """
        ctx = self._ctx(context_id)
        before = ctx.phase
        if self._transition(ctx, Input.CANCEL) is before:
            return  # resolved already: the cancel raced the end
        ctx.held.clear()
        self._set_grace(ctx, None)
        if before in AT_SERVER and not self.closed:
            if self.protocol == "legacy":
                self.reusable = False
            else:
                self._outgoing.append(tts_messages.cancel_message(ctx.options, ctx.id))
                # A cancel only drops the context's buffer (continuations docs): close it
                # too, so no context is left open on the server.
                self._outgoing.append(tts_messages.context_close_message(ctx.id))
                if not self.echoes_ids:
                    start = time.monotonic() if now is None else now
                    self._draining[ctx.id] = start + self.cancel_quiet_s
        self._prune()
        self._release_held()

    def time_out(self, context_id: str) -> None:
        """The server owed the context audio and sent none in time: it fails, and the
        socket is not trusted with another context (``reusable`` becomes False)."""
        ctx = self._ctx(context_id)
        self.reusable = False
        if ctx.phase in RESOLVED:
            self._transition(ctx, Input.TIME_OUT)  # a no-op: the timer raced the end
            return
        error = SmallestError(
            "the server sent no audio in time for this context", kind=ErrorKind.TIMEOUT
        )
        self._fail(ctx, Input.TIME_OUT, error)

    def poll(self, now: float) -> None:
        """Apply time-based decisions due at ``now`` (call at :meth:`next_deadline`)."""
        ended = False
        for ctx in list(self._contexts.values()):
            if ctx.grace_deadline is not None and ctx.grace_deadline <= now:
                self._end(ctx, Input.GRACE_EXPIRED, "grace")
                ended = True
        drained = [key for key, until in self._draining.items() if until <= now]
        for key in drained:
            del self._draining[key]
        if ended or drained:
            self._release_held()

    def next_deadline(self) -> float | None:
        """The earliest ``now`` at which :meth:`poll` has something to decide."""
        if not self._graced and not self._draining:  # the usual case, checked per frame
            return None
        return min((*self._graced.values(), *self._draining.values()))

    def connection_lost(self, code: int | None = None, reason: str = "") -> None:
        """The socket closed. Contexts whose audio is complete end; the others fail."""
        if self.closed:
            return
        self.closed = True
        self.reusable = False
        self._draining.clear()
        for ctx in list(self._contexts.values()):
            if ctx.phase in RESOLVED:
                continue
            if ctx.phase is Phase.COMPLETED:
                self._end(ctx, Input.LOST, "closed after complete")
                continue
            what = reason or "the server closed the connection"
            if ctx.phase in UNSENT:
                what = "the connection closed before this context was sent"
            self._fail(ctx, Input.LOST, connection_error(what, close_code=code))

    # -------------------------------------------------------------- introspection
    @property
    def busy(self) -> bool:
        """True while any context is not resolved (the socket is in use)."""
        return self._active()

    def context_state(self, context_id: str) -> ContextState | None:
        ctx = self._contexts.get(context_id)
        return PUBLIC_STATE[ctx.phase] if ctx else None

    def context_stats(self, context_id: str) -> ContextStats | None:
        ctx = self._contexts.get(context_id)
        return ctx.stats if ctx else None

    def context_text(self, context_id: str) -> str:
        """Everything pushed for the context so far."""
        return self._ctx(context_id).timeline.text

    # -------------------------------------------------------------- internals
    def _transition(self, ctx: Context, event: Input) -> Phase:
        """Move ``ctx`` by the table; :class:`ProtocolMisuse` if it has no entry."""
        ctx.phase = phase = next_phase(ctx.id, ctx.phase, event)
        return phase

    def _ctx(self, context_id: str) -> Context:
        try:
            return self._contexts[context_id]
        except KeyError:
            raise ProtocolMisuse(
                f"unknown context {context_id!r}: use an id start_context() or synthesize() "
                "returned on this connection"
            ) from None

    def _active(self) -> bool:
        return any(c.phase not in RESOLVED for c in self._contexts.values())

    def _may_send(self, ctx: Context) -> bool:
        if self.closed:
            return False
        if self.protocol == "legacy":
            return True
        if self.echoes_ids:  # late frames of a cancelled context carry its id
            return True
        for other in self._contexts.values():
            if other is ctx:
                return True
            if other.id in self._draining:
                return False
            if other.phase in AT_SERVER:
                return False
        return True

    def _fragment(self, ctx: Context, text: str) -> str:
        ctx.reached_server = True
        if self.protocol == "legacy":
            return tts_messages.legacy_fragment_message(ctx.options, text)
        return tts_messages.fragment_message(ctx.options, ctx.id, text)

    def _send_close(self, ctx: Context) -> None:
        if self.protocol == "legacy":
            msg = tts_messages.legacy_close_message(ctx.options)
        else:
            msg = tts_messages.close_message(ctx.options, ctx.id)
        self._outgoing.append(msg)

    def _flush_held(self, ctx: Context) -> None:
        held, ctx.held = ctx.held, []
        closing = ctx.phase is Phase.HELD_CLOSED
        self._transition(ctx, Input.SEND)
        if ctx.one_shot and self.protocol == "continuations":
            ctx.reached_server = True
            self._outgoing.append(
                tts_messages.one_shot_message(ctx.options, held[0], request_id=ctx.id)
            )
            return
        self._outgoing.extend(self._fragment(ctx, text) for text in held)
        if closing:
            self._send_close(ctx)

    def _release_held(self) -> None:
        for ctx in list(self._contexts.values()):
            if ctx.phase is Phase.HELD or ctx.phase is Phase.HELD_CLOSED:
                if not self._may_send(ctx):
                    break
                self._flush_held(ctx)

    def _set_grace(self, ctx: Context, deadline: float | None) -> None:
        ctx.grace_deadline = deadline
        if deadline is None:
            self._graced.pop(ctx.id, None)
        else:
            self._graced[ctx.id] = deadline

    def _end(self, ctx: Context, event: Input, reason: str) -> None:
        self._transition(ctx, event)
        self._set_grace(ctx, None)
        self._prune()
        self._events.append(ContextEnded(ctx.id, reason, ctx.timeline.samples))

    def _fail(self, ctx: Context, event: Input, error: SmallestError) -> None:
        self._transition(ctx, event)
        self._set_grace(ctx, None)
        ctx.held.clear()
        self._prune()
        failed = ContextFailed(ctx.id, error, ctx.timeline.samples > 0, ctx.timeline.text)
        self._events.append(failed)

    def _prune(self) -> None:
        resolved = [k for k, c in self._contexts.items() if c.phase in RESOLVED]
        for key in resolved[:-_RESOLVED_CONTEXTS_KEPT]:
            ctx = self._contexts.pop(key)
            self._draining.pop(key, None)
            for rid in ctx.request_ids:
                self._rid_owner.pop(rid, None)
