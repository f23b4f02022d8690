"""The incoming side of a :class:`~smallest_core.TTSConnection`: each server frame routed
to one context and applied to it (audio, words, ``complete``, errors).

Routing: by the echoed ``context_id``, else the echoed ``external_request_id`` (the
connection sends each context id as ``request_id``), else by the server's ``request_id``
and the order in which contexts were sent. A frame of a later context proves every
earlier closed one finished (the server works through a socket's contexts in order).
"""

from __future__ import annotations

import binascii
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from smallest_core._codec import b64decode
from smallest_core.audio import alaw_decode, ulaw_decode
from smallest_core.errors import ErrorKind, ProtocolError, SmallestError, is_idle_timeout
from smallest_core.options import TTSOptions
from smallest_core.tts_context import RESOLVED, Context, Input, Phase
from smallest_core.tts_events import (
    AudioReceived,
    ConnectionFailed,
    ConnectionStats,
    FrameIgnored,
    TTSEvent,
    WordReceived,
)
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

MAX_END_GRACE_S = 2.0
MISSING_WORDS_GRACE_S = 1.5
"""Wait after a ``complete`` while the server, which times this voice, owes words."""


class IncomingSide:
    """Frames in: :meth:`receive` and what it needs (mixed into ``TTSConnection``)."""

    _fast_path = True
    """Whether :meth:`receive` takes the shortcut for ordinary audio (tests compare both)."""

    if TYPE_CHECKING:  # state and steps of the connection this is part of
        protocol: str
        end_rule: str
        end_grace_s: float
        cancel_quiet_s: float
        stats: ConnectionStats
        echoes_ids: bool
        per_release_completes: bool
        reusable: bool
        _contexts: OrderedDict[str, Context]
        _last_routed: Context | None
        _rid_owner: dict[str, str]
        _draining: dict[str, float]
        _events: list[TTSEvent]

        def _transition(self, ctx: Context, event: Input) -> Phase: ...
        def _release_held(self) -> None: ...
        def _set_grace(self, ctx: Context, deadline: float | None) -> None: ...
        def _end(self, ctx: Context, event: Input, reason: str) -> None: ...
        def _fail(self, ctx: Context, event: Input, error: SmallestError) -> None: ...

    def receive(self, data: str | bytes, now: float) -> None:
        """Process one incoming frame (text, or binary which the protocol does not use)."""
        self.stats.frames += 1
        if type(data) is not str:
            self.stats.ignored_frames += 1
            self._events.append(FrameIgnored(f"unexpected binary frame of {len(data)} bytes"))
            return
        try:
            msg = decode_json_frame(data)
            last = self._last_routed
            if last is not None and msg.get("status") == "chunk" and self._fast_audio(msg, last):
                return
            frame = frame_from_message(msg)
        except ProtocolError as exc:
            self._fail_oldest(exc)
            return
        if isinstance(frame, UnknownFrame):
            self.stats.ignored_frames += 1
            reason = frame.reason or f"frame with unknown status {frame.status!r}"
            self._events.append(FrameIgnored(reason))
            return
        if isinstance(frame, ErrorFrame) and is_idle_timeout(frame.error):
            self._on_idle_timeout(frame.error)
            return
        echoed_before = self.echoes_ids
        ctx = self._route(frame.ids)
        if self.echoes_ids and not echoed_before:
            self._release_held()  # ids route every frame now: held contexts may go
        if ctx is None:
            if isinstance(frame, ErrorFrame):
                self._events.append(ConnectionFailed(frame.error))
                return
            self.stats.unattributed_frames += 1
            self.stats.dropped_frames += 1
            return
        self._apply(ctx, frame, now)

    def _fast_audio(self, msg: dict[str, Any], ctx: Context) -> bool:
        """PCM for the context the previous frame went to: nearly every frame on a socket.

        Does exactly what :meth:`_route` and :meth:`_apply` would, without building the
        intermediate frame objects (``AUDIO`` never changes a live phase, so the table is
        not consulted); False leaves anything less ordinary to them.
        """
        payload = msg.get("data")
        if type(payload) is not dict or not self._fast_path:
            return False
        audio = payload.get("audio")
        request_id = msg.get("request_id")
        echoed = msg.get("context_id")
        if echoed is None:
            if "context_id" in payload:
                return False  # the general path reads an id placed in ``data``
            # The documented service names the context in ``external_request_id``.
            echoed = msg.get("external_request_id")
        if echoed is None:
            # No id but the server's request_id: the shortcut holds when that id already
            # belongs to this context.
            if type(request_id) is not str or self._rid_owner.get(request_id) != ctx.id:
                return False
        elif echoed != ctx.id or not (request_id is None or type(request_id) is str):
            return False
        if (
            type(audio) is not str
            or ctx.carry
            or ctx.phase in RESOLVED
            or ctx.options.output_format != "pcm"
        ):
            return False
        try:
            pcm = b64decode(audio)
        except (binascii.Error, ValueError):
            return False  # the general path reports it
        size = len(pcm)
        if not size or size % 2:
            return False
        request_id = request_id or None
        if echoed is not None and not self.echoes_ids:
            self.echoes_ids = True
            self._release_held()
        if request_id is not None and request_id not in ctx.request_ids:
            self._claim(ctx, request_id)
        if ctx.grace_deadline is not None:
            self._set_grace(ctx, None)
        ctx.stats.chunks += 1
        self._audio_event(ctx, request_id, pcm)
        return True

    def _route(self, ids: FrameIds) -> Context | None:
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

    def _claim(self, ctx: Context, request_id: str) -> None:
        """Record that the server's ``request_id`` belongs to ``ctx``."""
        self._rid_owner[request_id] = ctx.id
        ctx.request_ids.add(request_id)

    def _oldest_unresolved_at_server(self) -> Context | None:
        sent = [c for c in self._contexts.values() if c.reached_server]
        for i, ctx in enumerate(sent):
            if ctx.phase is not Phase.CANCELLED and ctx.phase in RESOLVED:
                continue
            # After a cancel the server starts nothing new for a context: a new request
            # belongs to the next context once that one has been sent.
            if ctx.phase is Phase.CANCELLED and any(
                later.phase is not Phase.CANCELLED for later in sent[i + 1 :]
            ):
                continue
            return ctx
        return None

    def _apply(self, ctx: Context, frame: TtsFrame, now: float) -> None:
        if ctx.phase in RESOLVED:
            self._drop_late(ctx, frame, now)
            return
        if ctx is not self._last_routed:
            self._end_superseded(ctx)
        self._last_routed = ctx
        if isinstance(frame, ChunkFrame):
            self._transition(ctx, Input.AUDIO)
            self._set_grace(ctx, None)
            self._on_audio(ctx, frame)
        elif isinstance(frame, WordFrame):
            self._transition(ctx, Input.AUDIO)
            self._set_grace(ctx, None)
            ctx.stats.words += 1
            word = ctx.timeline.add_word(frame.ids.request_id, frame.word, frame.start, frame.end)
            if ctx.surface_words:
                self._events.append(WordReceived(ctx.id, word))
        elif isinstance(frame, CompleteFrame):
            self._on_complete(ctx, now)
        elif isinstance(frame, ErrorFrame):
            self._fail(ctx, Input.FAIL, name_the_voice(frame.error, ctx.options))
            self._release_held()

    def _drop_late(self, ctx: Context, frame: TtsFrame, now: float) -> None:
        """A frame for a resolved context: dropped and counted (late, after a grace end)."""
        if ctx.id in self._draining:  # still arriving: the next context keeps waiting
            self._draining[ctx.id] = now + self.cancel_quiet_s
        size = len(frame.audio) if isinstance(frame, ChunkFrame) else 0
        ctx.stats.dropped_frames += 1
        ctx.stats.dropped_bytes += size
        self.stats.dropped_frames += 1
        self.stats.dropped_bytes += size
        if ctx.phase is Phase.ENDED_BY_GRACE:
            ctx.stats.late_frames += 1
            self.stats.late_frames += 1
            self.end_grace_s = min(self.end_grace_s * 2, MAX_END_GRACE_S)

    def _on_idle_timeout(self, error: SmallestError) -> None:
        """The server closes an idle socket: nothing is in flight, so a context that got
        its ``complete`` is complete; one still expecting audio fails retryably."""
        self.reusable = False
        for ctx in list(self._contexts.values()):
            if ctx.phase is Phase.COMPLETED:
                self._end(ctx, Input.LOST, "idle after complete")
            elif ctx.phase not in RESOLVED:
                self._fail(ctx, Input.LOST, error)
        self._events.append(ConnectionFailed(error))

    def _end_superseded(self, ctx: Context) -> None:
        """A frame of ``ctx`` proves every earlier closed context finished (the server
        works through a socket's contexts in order, §4.3): servers that send one
        ``complete`` per burst give no other signal for them."""
        for other in list(self._contexts.values()):
            if other is ctx:
                break
            if other.phase is Phase.CLOSING or other.phase is Phase.COMPLETED:
                self._end(other, Input.SUPERSEDED, "superseded")

    def _on_audio(self, ctx: Context, frame: ChunkFrame) -> None:
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
        if audio:
            self._audio_event(ctx, frame.ids.request_id, audio)

    def _audio_event(self, ctx: Context, request_id: str | None, pcm: bytes) -> None:
        """Place ``pcm`` (whole samples) on the context's timeline and hand it out."""
        offset = ctx.timeline.samples
        ctx.timeline.add_audio(request_id, len(pcm) // 2)
        ctx.stats.audio_bytes += len(pcm)
        self._events.append(AudioReceived(ctx.id, pcm, offset))

    def _on_complete(self, ctx: Context, now: float) -> None:
        ctx.stats.completes += 1
        self.stats.completes += 1
        if ctx.phase is not Phase.CLOSING and ctx.phase is not Phase.COMPLETED:
            self._transition(ctx, Input.COMPLETE)
            self.per_release_completes = True
            return
        if self._complete_is_terminal(ctx):
            self._end(ctx, Input.LAST_COMPLETE, "complete")
            self._release_held()
            return
        self._transition(ctx, Input.COMPLETE)
        self._set_grace(ctx, now + self._grace_for(ctx))

    def _grace_for(self, ctx: Context) -> float:
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

    def _complete_is_terminal(self, ctx: Context) -> bool:
        if self.protocol == "legacy" or self.end_rule == "complete":
            return True
        if self.end_rule == "grace":
            return False
        return ctx.options.word_timestamps and ctx.timeline.all_words_received()

    def _fail_oldest(self, error: SmallestError) -> None:
        ctx = self._oldest_unresolved_at_server()
        if ctx is None or ctx.phase in RESOLVED:
            self._events.append(ConnectionFailed(error))
            return
        self._fail(ctx, Input.FAIL, error)
        self._release_held()


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
