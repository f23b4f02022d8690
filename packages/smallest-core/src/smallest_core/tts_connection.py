"""The TTS WebSocket connection as a sans-I/O state machine.

One :class:`TTSConnection` per socket. Methods that change state queue outgoing text
frames (drain them with :meth:`TTSConnection.data_to_send`) and return typed events;
:meth:`TTSConnection.receive` turns each incoming frame into events for exactly one
context. Time is passed in (``now``, seconds on any monotonic clock): the only
time-based decision is the end of a context on servers that give no terminal signal.

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

Routing: by the echoed ``context_id``, else the echoed ``external_request_id`` (the
connection sends each context id as ``request_id``), else by the server's ``request_id``
and the order in which contexts were sent. When the server has not been seen to echo
ids, a new context's text is held back until the previous context is resolved, so
order-based routing can never mix two contexts.

A cancel is the one place where order cannot tell contexts apart: the server may already
have frames of the cancelled context in flight, under a ``request_id`` never seen before.
So on a server not seen to echo ids, the context after a cancelled one is held until the
cancelled one has been quiet for ``cancel_quiet_s`` (every frame in between is its, and
dropped); :meth:`TTSConnection.next_deadline` says when to :meth:`~TTSConnection.poll`.
"""

from __future__ import annotations

import binascii
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from smallest_core import tts_messages
from smallest_core._codec import b64decode
from smallest_core.audio import alaw_decode, ulaw_decode
from smallest_core.errors import (
    ErrorKind,
    ProtocolError,
    SmallestError,
    connection_error,
    is_idle_timeout,
)
from smallest_core.limits import check_text
from smallest_core.options import TTSOptions
from smallest_core.timeline import TimedWord, WordTimeline
from smallest_core.tts_frames import (
    ChunkFrame,
    CompleteFrame,
    ErrorFrame,
    FrameIds,
    TtsFrame,
    UnknownFrame,
    WordFrame,
    decode_json_frame,
    frame_from_message,
)

EndRule = Literal["auto", "complete", "grace"]
Protocol = Literal["continuations", "legacy"]

DEFAULT_END_GRACE_S = 0.3
MAX_END_GRACE_S = 2.0
MISSING_WORDS_GRACE_S = 1.5
"""Wait after a ``complete`` while the server, which times this voice, owes words."""
DEFAULT_CANCEL_QUIET_S = 0.3
"""How long a cancelled context must stay quiet before the next one is sent (no-echo)."""
_RESOLVED_CONTEXTS_KEPT = 64


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


_RESOLVED = (ContextState.ENDED, ContextState.CANCELLED, ContextState.FAILED)


# ---------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class AudioReceived:
    """PCM (int16 LE mono) for a context, at ``sample_offset`` on its timeline."""

    context_id: str
    audio: bytes
    sample_offset: int


@dataclass(frozen=True, slots=True)
class WordReceived:
    """A timed word for a context (times on the context's timeline)."""

    context_id: str
    word: TimedWord


@dataclass(frozen=True, slots=True)
class ContextEnded:
    """All of the context's audio has arrived."""

    context_id: str
    reason: str
    samples: int


@dataclass(frozen=True, slots=True)
class ContextFailed:
    """The context cannot finish. ``audio_received`` tells whether a retry would repeat
    audio; ``text`` is everything sent for it, for a replay on another connection."""

    context_id: str
    error: SmallestError
    audio_received: bool
    text: str


@dataclass(frozen=True, slots=True)
class ConnectionFailed:
    """An error that belongs to no context (idle timeout, garbage with nothing active)."""

    error: SmallestError


@dataclass(frozen=True, slots=True)
class FrameIgnored:
    """A frame that carried nothing usable (unknown status, binary); worth a warning."""

    reason: str


TTSEvent = (
    AudioReceived | WordReceived | ContextEnded | ContextFailed | ConnectionFailed | FrameIgnored
)


# ---------------------------------------------------------------------------- state


@dataclass(slots=True)
class ContextStats:
    """Accounting for one context (what arrived, what was dropped)."""

    chunks: int = 0
    audio_bytes: int = 0
    words: int = 0
    completes: int = 0
    dropped_frames: int = 0
    dropped_bytes: int = 0
    late_frames: int = 0


@dataclass(slots=True)
class ConnectionStats:
    """Accounting for one connection."""

    frames: int = 0
    completes: int = 0
    """``complete`` frames routed to a context (one per released segment, or per context)."""
    dropped_frames: int = 0
    dropped_bytes: int = 0
    unattributed_frames: int = 0
    ignored_frames: int = 0
    late_frames: int = 0


@dataclass(slots=True)
class _Context:
    id: str
    options: TTSOptions
    timeline: WordTimeline
    state: ContextState = ContextState.HELD
    sent_any: bool = False
    close_requested: bool = False
    held: list[str] = field(default_factory=list)
    request_ids: set[str] = field(default_factory=set)
    completes_after_close: int = 0
    grace_deadline: float | None = None
    ended_by_grace: bool = False
    surface_words: bool = False
    one_shot: bool = False
    carry: bytes = b""
    stats: ContextStats = field(default_factory=ContextStats)


def _audio_event(ctx: _Context, request_id: str | None, pcm: bytes) -> list[TTSEvent]:
    """Place ``pcm`` (whole samples) on the context's timeline and hand it out."""
    offset = ctx.timeline.samples
    ctx.timeline.add_audio(request_id, len(pcm) // 2)
    ctx.stats.audio_bytes += len(pcm)
    return [AudioReceived(ctx.id, pcm, offset)]


class TTSConnection:
    """Protocol state for one TTS WebSocket (continuations or legacy mode)."""

    _fast_path = True
    """Whether :meth:`receive` takes the shortcut for ordinary audio (tests compare both)."""

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
        self._contexts: OrderedDict[str, _Context] = OrderedDict()
        self._last_routed: _Context | None = None
        """The context of the previous frame: it has already superseded earlier ones."""
        self._rid_owner: dict[str, str] = {}
        self._graced: dict[str, float] = {}
        """Contexts with a grace deadline, and when (``next_deadline`` without a scan)."""
        self._draining: dict[str, float] = {}
        """Cancelled contexts whose late frames may still arrive unlabelled, and until when
        the contexts after them are held."""
        self._outgoing: list[str] = []

    # -------------------------------------------------------------- outgoing side
    def data_to_send(self) -> list[str]:
        """Text frames to send now, in order (clears the queue)."""
        out, self._outgoing = self._outgoing, []
        return out

    def start_context(
        self, context_id: str | None = None, options: TTSOptions | None = None
    ) -> str:
        """Register a new context (nothing is sent until text arrives). Returns its id."""
        self._check_open()
        if self.protocol == "legacy" and self._active():
            raise RuntimeError("the legacy protocol carries one context at a time")
        opts = options or self.options
        opts.check_websocket()
        ctx_id = context_id or tts_messages.new_context_id()
        if ctx_id in self._contexts:
            raise ValueError(f"context {ctx_id!r} already exists on this connection")
        ctx = _Context(
            ctx_id, opts, WordTimeline(opts.sample_rate), surface_words=opts.word_timestamps
        )
        if self.words_for_end_detection and self.protocol == "continuations":
            ctx.options = opts.with_changes(word_timestamps=True)
        self._contexts[ctx_id] = ctx
        return ctx_id

    def push_text(self, context_id: str, text: str) -> None:
        """Send (or hold) a text fragment. Whitespace-only fragments are sent too."""
        ctx = self._ctx(context_id)
        if ctx.state in _RESOLVED or not text:
            return
        check_text(text)
        if ctx.close_requested or ctx.state is ContextState.CLOSING:
            raise RuntimeError(f"context {context_id!r} is closed for input")
        ctx.timeline.add_text(text)
        if ctx.state is ContextState.HELD and not self._may_send(ctx):
            ctx.held.append(text)
            return
        self._send_fragment(ctx, text)

    def end_input(self, context_id: str) -> list[TTSEvent]:
        """No more text for this context: send its closing message (or end it if empty)."""
        ctx = self._ctx(context_id)
        if ctx.state in _RESOLVED or ctx.close_requested:
            return []
        ctx.close_requested = True
        if not ctx.sent_any and not ctx.held:
            events = self._end(ctx, "empty")
            events.extend(self._release_held())
            return events
        if ctx.state is ContextState.HELD:
            return []
        self._send_close(ctx)
        return []

    def synthesize(self, text: str, options: TTSOptions | None = None) -> str:
        """A one-shot request: a new context with all of its text, closed at once."""
        check_text(text)
        ctx_id = self.start_context(options=options)
        ctx = self._contexts[ctx_id]
        ctx.timeline.add_text(text)
        ctx.close_requested = True
        ctx.one_shot = True
        if not text.strip():
            self._end(ctx, "empty")
            return ctx_id
        ctx.held.append(text)
        if self._may_send(ctx):
            self._flush_held(ctx)
        return ctx_id

    def cancel(self, context_id: str, now: float | None = None) -> list[TTSEvent]:
        """Barge-in: tell the server to drop the context; its late frames are dropped.

        ``now`` (the caller's monotonic clock; ``time.monotonic()`` when omitted) starts
        the quiet period after which the next context is sent, on a server that does not
        echo ids (see the module docstring).
        """
        ctx = self._contexts.get(context_id)
        if ctx is None or ctx.state in _RESOLVED:
            return []
        was_sent = ctx.sent_any
        ctx.state = ContextState.CANCELLED
        ctx.held.clear()
        self._set_grace(ctx, None)
        if was_sent and not self.closed:
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
        return self._release_held()

    def time_out(self, context_id: str) -> list[TTSEvent]:
        """The server owed the context audio and sent none in time: it fails, and the
        socket is not trusted with another context (``reusable`` becomes False)."""
        self.reusable = False
        ctx = self._contexts.get(context_id)
        if ctx is None or ctx.state in _RESOLVED:
            return []
        error = SmallestError(
            "the server sent no audio in time for this context", kind=ErrorKind.TIMEOUT
        )
        return self._fail(ctx, error)

    # -------------------------------------------------------------- incoming side
    def receive(self, data: str | bytes, now: float) -> list[TTSEvent]:
        """Process one incoming frame (text, or binary which the protocol does not use)."""
        self.stats.frames += 1
        if type(data) is not str:
            self.stats.ignored_frames += 1
            return [FrameIgnored(f"unexpected binary frame of {len(data)} bytes")]
        try:
            msg = decode_json_frame(data)
            if msg.get("status") == "chunk" and self._last_routed is not None:
                events = self._fast_audio(msg, self._last_routed)
                if events is not None:
                    return events
            frame = frame_from_message(msg)
        except ProtocolError as exc:
            return self._fail_oldest(exc)
        if isinstance(frame, UnknownFrame):
            self.stats.ignored_frames += 1
            return [FrameIgnored(frame.reason or f"frame with unknown status {frame.status!r}")]
        if isinstance(frame, ErrorFrame) and is_idle_timeout(frame.error):
            return self._on_idle_timeout(frame.error)
        echoed_before = self.echoes_ids
        ctx = self._route(frame.ids)
        if self.echoes_ids and not echoed_before:
            self._release_held()  # ids route every frame now: held contexts may go
        if ctx is None:
            if isinstance(frame, ErrorFrame):
                return [ConnectionFailed(frame.error)]
            self.stats.unattributed_frames += 1
            self.stats.dropped_frames += 1
            return []
        return self._apply(ctx, frame, now)

    def _fast_audio(self, msg: dict[str, Any], ctx: _Context) -> list[TTSEvent] | None:
        """PCM for the context the previous frame went to: nearly every frame on a socket.

        Gives exactly what :meth:`_route` and :meth:`_apply` would, without building the
        intermediate frame objects; ``None`` leaves anything less ordinary to them.
        """
        payload = msg.get("data")
        if type(payload) is not dict or not self._fast_path:
            return None
        audio = payload.get("audio")
        request_id = msg.get("request_id")
        if (
            type(audio) is not str
            or msg.get("context_id") != ctx.id
            or not (request_id is None or type(request_id) is str)
            or ctx.carry
            or ctx.state in _RESOLVED
            or ctx.options.output_format != "pcm"
        ):
            return None
        try:
            pcm = b64decode(audio)
        except (binascii.Error, ValueError):
            return None  # the general path reports it
        size = len(pcm)
        if not size or size % 2:
            return None
        request_id = request_id or None
        if not self.echoes_ids:
            self.echoes_ids = True
            self._release_held()
        if request_id is not None and request_id not in ctx.request_ids:
            self._claim(ctx, request_id)
        if ctx.grace_deadline is not None:
            self._set_grace(ctx, None)
        ctx.stats.chunks += 1
        return _audio_event(ctx, request_id, pcm)

    def poll(self, now: float) -> list[TTSEvent]:
        """Apply time-based decisions due at ``now`` (call at :meth:`next_deadline`)."""
        events: list[TTSEvent] = []
        for ctx in list(self._contexts.values()):
            if ctx.grace_deadline is not None and ctx.grace_deadline <= now:
                ctx.ended_by_grace = True
                events.extend(self._end(ctx, "grace"))
        drained = [key for key, until in self._draining.items() if until <= now]
        for key in drained:
            del self._draining[key]
        if events or drained:
            events.extend(self._release_held())
        return events

    def next_deadline(self) -> float | None:
        """The earliest ``now`` at which :meth:`poll` has something to decide."""
        if not self._graced and not self._draining:  # the usual case, checked per frame
            return None
        return min((*self._graced.values(), *self._draining.values()))

    def _set_grace(self, ctx: _Context, deadline: float | None) -> None:
        ctx.grace_deadline = deadline
        if deadline is None:
            self._graced.pop(ctx.id, None)
        else:
            self._graced[ctx.id] = deadline

    def connection_lost(self, code: int | None = None, reason: str = "") -> list[TTSEvent]:
        """The socket closed. Contexts whose audio is complete end; the others fail."""
        if self.closed:
            return []
        self.closed = True
        self.reusable = False
        self._draining.clear()
        events: list[TTSEvent] = []
        for ctx in list(self._contexts.values()):
            if ctx.state in _RESOLVED:
                continue
            if ctx.state is ContextState.CLOSING and ctx.completes_after_close:
                events.extend(self._end(ctx, "closed after complete"))
                continue
            what = reason or "the server closed the connection"
            if ctx.state is ContextState.HELD and not ctx.sent_any:
                what = "the connection closed before this context was sent"
            events.extend(self._fail(ctx, connection_error(what, close_code=code)))
        return events

    # -------------------------------------------------------------- introspection
    @property
    def busy(self) -> bool:
        """True while any context is not resolved (the socket is in use)."""
        return self._active()

    def context_state(self, context_id: str) -> ContextState | None:
        ctx = self._contexts.get(context_id)
        return ctx.state if ctx else None

    def context_stats(self, context_id: str) -> ContextStats | None:
        ctx = self._contexts.get(context_id)
        return ctx.stats if ctx else None

    def context_text(self, context_id: str) -> str:
        """Everything pushed for the context so far."""
        return self._ctx(context_id).timeline.text

    # -------------------------------------------------------------- internals
    def _check_open(self) -> None:
        if self.closed:
            raise RuntimeError("the connection is closed")

    def _ctx(self, context_id: str) -> _Context:
        try:
            return self._contexts[context_id]
        except KeyError:
            raise KeyError(f"unknown context {context_id!r}") from None

    def _active(self) -> bool:
        return any(c.state not in _RESOLVED for c in self._contexts.values())

    def _may_send(self, ctx: _Context) -> bool:
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
            if other.sent_any and other.state in (ContextState.OPEN, ContextState.CLOSING):
                return False
        return True

    def _send_fragment(self, ctx: _Context, text: str) -> None:
        if self.protocol == "legacy":
            msg = tts_messages.legacy_fragment_message(ctx.options, text)
        else:
            msg = tts_messages.fragment_message(ctx.options, ctx.id, text)
        self._outgoing.append(msg)
        ctx.sent_any = True
        if ctx.state is ContextState.HELD:
            ctx.state = ContextState.OPEN

    def _send_close(self, ctx: _Context) -> None:
        if self.protocol == "legacy":
            msg = tts_messages.legacy_close_message(ctx.options)
        else:
            msg = tts_messages.close_message(ctx.options, ctx.id)
        self._outgoing.append(msg)
        ctx.state = ContextState.CLOSING

    def _flush_held(self, ctx: _Context) -> None:
        held, ctx.held = ctx.held, []
        if ctx.one_shot and self.protocol == "continuations":
            self._outgoing.append(
                tts_messages.one_shot_message(ctx.options, held[0], request_id=ctx.id)
            )
            ctx.sent_any = True
            ctx.state = ContextState.CLOSING
            return
        for text in held:
            self._send_fragment(ctx, text)
        if ctx.close_requested:
            self._send_close(ctx)

    def _release_held(self) -> list[TTSEvent]:
        for ctx in list(self._contexts.values()):
            if ctx.state is ContextState.HELD and (ctx.held or ctx.close_requested):
                if not self._may_send(ctx):
                    break
                self._flush_held(ctx)
        return []

    def _route(self, ids: FrameIds) -> _Context | None:
        last = self._last_routed
        if last is not None and ids.context_id == last.id:  # consecutive chunks: same context
            self.echoes_ids = True
            if ids.request_id and ids.request_id not in last.request_ids:
                self._claim(last, ids.request_id)
            return last
        for echoed in (ids.context_id, ids.external_request_id):
            if echoed is not None:
                self.echoes_ids = True
                ctx = self._contexts.get(echoed)
                if ctx is not None:
                    if ids.request_id:
                        self._claim(ctx, ids.request_id)
                    return ctx
                return None
        if ids.request_id and ids.request_id in self._rid_owner:
            return self._contexts.get(self._rid_owner[ids.request_id])
        ctx = self._oldest_unresolved_at_server()
        if ctx is not None and ids.request_id:
            self._claim(ctx, ids.request_id)
        return ctx

    def _claim(self, ctx: _Context, request_id: str) -> None:
        """Record that the server's ``request_id`` belongs to ``ctx``."""
        self._rid_owner[request_id] = ctx.id
        ctx.request_ids.add(request_id)

    def _oldest_unresolved_at_server(self) -> _Context | None:
        sent = [c for c in self._contexts.values() if c.sent_any]
        for i, ctx in enumerate(sent):
            if ctx.state in (ContextState.ENDED, ContextState.FAILED):
                continue
            # After a cancel the server starts nothing new for a context: a new request
            # belongs to the next context once that one has been sent.
            if ctx.state is ContextState.CANCELLED and any(
                later.state is not ContextState.CANCELLED for later in sent[i + 1 :]
            ):
                continue
            return ctx
        return None

    def _apply(self, ctx: _Context, frame: TtsFrame, now: float) -> list[TTSEvent]:
        if ctx.state in _RESOLVED:
            if ctx.id in self._draining:  # still arriving: the next context keeps waiting
                self._draining[ctx.id] = now + self.cancel_quiet_s
            size = len(frame.audio) if isinstance(frame, ChunkFrame) else 0
            ctx.stats.dropped_frames += 1
            ctx.stats.dropped_bytes += size
            self.stats.dropped_frames += 1
            self.stats.dropped_bytes += size
            if ctx.state is ContextState.ENDED and ctx.ended_by_grace:
                ctx.stats.late_frames += 1
                self.stats.late_frames += 1
                self.end_grace_s = min(self.end_grace_s * 2, MAX_END_GRACE_S)
            return []
        events = self._end_superseded(ctx) if ctx is not self._last_routed else []
        self._last_routed = ctx
        if isinstance(frame, ChunkFrame):
            self._set_grace(ctx, None)
            return events + self._on_audio(ctx, frame)
        if isinstance(frame, WordFrame):
            self._set_grace(ctx, None)
            ctx.stats.words += 1
            word = ctx.timeline.add_word(frame.ids.request_id, frame.word, frame.start, frame.end)
            if ctx.surface_words:
                events.append(WordReceived(ctx.id, word))
            return events
        if isinstance(frame, CompleteFrame):
            return events + self._on_complete(ctx, now)
        if isinstance(frame, ErrorFrame):
            events.extend(self._fail(ctx, name_the_voice(frame.error, ctx.options)))
            events.extend(self._release_held())
            return events
        return events  # pragma: no cover - UnknownFrame is handled before routing

    def _on_idle_timeout(self, error: SmallestError) -> list[TTSEvent]:
        """The server closes an idle socket: nothing is in flight, so a context that got
        its ``complete`` is complete; one still expecting audio fails retryably."""
        self.reusable = False
        events: list[TTSEvent] = []
        for ctx in list(self._contexts.values()):
            if ctx.state is ContextState.CLOSING and ctx.completes_after_close:
                events.extend(self._end(ctx, "idle after complete"))
            elif ctx.state not in _RESOLVED:
                events.extend(self._fail(ctx, error))
        events.append(ConnectionFailed(error))
        return events

    def _end_superseded(self, ctx: _Context) -> list[TTSEvent]:
        """A frame of ``ctx`` proves every earlier closed context finished (the server
        works through a socket's contexts in order, §4.3): servers that send one
        ``complete`` per burst give no other signal for them."""
        events: list[TTSEvent] = []
        for other in self._contexts.values():
            if other is ctx:
                break
            if other.state is ContextState.CLOSING:
                events.extend(self._end(other, "superseded"))
        return events

    def _on_audio(self, ctx: _Context, frame: ChunkFrame) -> list[TTSEvent]:
        fmt = ctx.options.output_format
        audio = frame.audio
        if fmt == "ulaw":
            audio = ulaw_decode(audio)
        elif fmt == "alaw":
            audio = alaw_decode(audio)
        if ctx.carry:
            audio = ctx.carry + audio
        if len(audio) % 2:
            audio, ctx.carry = audio[:-1], audio[-1:]
        else:
            ctx.carry = b""
        ctx.stats.chunks += 1
        if not audio:
            return []
        return _audio_event(ctx, frame.ids.request_id, audio)

    def _on_complete(self, ctx: _Context, now: float) -> list[TTSEvent]:
        ctx.stats.completes += 1
        self.stats.completes += 1
        if ctx.state is not ContextState.CLOSING:
            self.per_release_completes = True
            return []
        ctx.completes_after_close += 1
        if self._complete_is_terminal(ctx):
            events = self._end(ctx, "complete")
            events.extend(self._release_held())
            return events
        self._set_grace(ctx, now + self._grace_for(ctx))
        return []

    def _grace_for(self, ctx: _Context) -> float:
        """How long a ``complete`` that is not known to be the last may stay alone.

        A server that times this voice's words but has yet to time a word of the text
        has more to say: wait long enough for a slow next release (trailing punctuation
        may come as a release of its own, so it gets the usual wait). A voice it does not
        time gives no such evidence: the configured ``end_grace_s``, lengthened for the
        connection whenever a frame arrives after it.
        """
        if ctx.stats.words and ctx.timeline.words_missing():
            return max(self.end_grace_s, MISSING_WORDS_GRACE_S)
        return self.end_grace_s

    def _complete_is_terminal(self, ctx: _Context) -> bool:
        if self.protocol == "legacy" or self.end_rule == "complete":
            return True
        if self.end_rule == "grace":
            return False
        return ctx.options.word_timestamps and ctx.timeline.all_words_received()

    def _end(self, ctx: _Context, reason: str) -> list[TTSEvent]:
        ctx.state = ContextState.ENDED
        self._set_grace(ctx, None)
        self._prune()
        return [ContextEnded(ctx.id, reason, ctx.timeline.samples)]

    def _fail(self, ctx: _Context, error: SmallestError) -> list[TTSEvent]:
        ctx.state = ContextState.FAILED
        self._set_grace(ctx, None)
        ctx.held.clear()
        self._prune()
        return [ContextFailed(ctx.id, error, ctx.timeline.samples > 0, ctx.timeline.text)]

    def _fail_oldest(self, error: SmallestError) -> list[TTSEvent]:
        ctx = self._oldest_unresolved_at_server()
        if ctx is None or ctx.state in _RESOLVED:
            return [ConnectionFailed(error)]
        events = self._fail(ctx, error)
        events.extend(self._release_held())
        return events

    def _prune(self) -> None:
        resolved = [k for k, c in self._contexts.items() if c.state in _RESOLVED]
        for key in resolved[:-_RESOLVED_CONTEXTS_KEPT]:
            ctx = self._contexts.pop(key)
            self._draining.pop(key, None)
            for rid in ctx.request_ids:
                self._rid_owner.pop(rid, None)


def name_the_voice(error: SmallestError, options: TTSOptions) -> SmallestError:
    """A refusal about the voice that does not say which voice: add the voice and model.

    The service answers an unknown voice with "Invalid Voice ID" and nothing else.
    """
    if (
        error.kind is not ErrorKind.INVALID_INPUT
        or "voice" not in error.message.lower()
        or options.voice_id in error.message
    ):
        return error
    return SmallestError(
        f"{error.message} (voice_id {options.voice_id!r} with model {options.model})",
        kind=error.kind,
        status_code=error.status_code,
        code=error.code,
        retry_after=error.retry_after,
        request_id=error.request_id,
        body=error.body,
    )
