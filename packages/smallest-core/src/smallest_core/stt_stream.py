"""One logical Pulse stream, sans-I/O: what it sends, what the server owes it, and when.

:class:`STTStreamState` spans the whole logical stream, across reconnects: word and VAD
times are shifted by the audio sent on earlier connections, so the timeline stays
continuous when a settings change or a dropped socket forces a new connection.

As :class:`~smallest_core.TTSConnection`, it is h11-style: commands (``finalize``,
``close_stream``) and inputs (``receive``, ``poll``) return nothing; the text messages to
send come out of :meth:`~STTStreamState.data_to_send` and what happened out of
:meth:`~STTStreamState.events`, both in order. Audio stays out of the queue: the caller
chunks and sends binary audio itself (the hot path) and reports it with
:meth:`~STTStreamState.audio_sent` and :meth:`~STTStreamState.sent`.

Its timers are the protocol's, the same for every adapter; the I/O layer only sleeps until
:meth:`~STTStreamState.next_deadline` and then calls :meth:`~STTStreamState.poll`:

* **keepalive** — ``keepalive_interval_s`` after anything last went out, a ``keepalive``
  message is queued (the server answers ``pong``), so a long pause does not idle the
  socket out;
* **finalize** — each ``finalize`` is owed a ``from_finalize`` final within
  ``finalize_timeout_s`` (an ``is_last`` final answers every one). A missed one is queued
  once as a :class:`DeadlineMissed` event, a retryable ``TIMEOUT`` (code
  ``finalize_timeout``), and then no longer waited for; the connection stays open and
  later transcripts are delivered as usual;
* **close** — ``close_stream`` is owed the ``is_last`` final within ``close_timeout_s``.
  A miss is queued once (code ``close_timeout``); the caller then closes the socket
  without the last transcript.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

from smallest_core.errors import ErrorKind, ProtocolError, SmallestError
from smallest_core.options import STTOptions
from smallest_core.stt import STTError, STTEvent, Transcript, parse_stt_frame

FINALIZE_MESSAGE = '{"type":"finalize"}'
CLOSE_STREAM_MESSAGE = '{"type":"close_stream"}'
KEEPALIVE_MESSAGE = '{"type":"keepalive"}'

DEFAULT_KEEPALIVE_INTERVAL_S = 5.0
"""Quiet seconds on a connection before a ``keepalive`` goes out."""
DEFAULT_FINALIZE_TIMEOUT_S = 5.0
"""How long a ``finalize`` may wait for its final transcript (the server answers at once:
this is network plus one model step, with room for a loaded service)."""
DEFAULT_CLOSE_TIMEOUT_S = 5.0
"""How long a stream waits for the server's last transcript after ``close_stream``."""

STT_STREAM_OPTION_NAMES: tuple[str, ...] = (
    "language",
    "word_timestamps",
    "sentence_timestamps",
    "full_transcript",
    "diarize",
    "vad_events",
    "punctuate",
    "capitalize",
    "itn_normalize",
    "numerals",
    "endpointing",
    "eou_timeout_ms",
    "finalize_on_words",
    "max_words",
    "keywords",
    "redact_pii",
    "redact_pci",
)
"""The :class:`~smallest_core.STTOptions` a running stream may change (each reconnects)."""

_BYTES_PER_SAMPLE = {"linear16": 2, "linear32": 4, "alaw": 1, "mulaw": 1}


@dataclass(frozen=True, slots=True)
class DeadlineMissed:
    """The server did not send a transcript it owed in time; ``error`` is a ``TIMEOUT``."""

    owed: Literal["finalize", "close"]
    """``finalize``: the final of a ``finalize``; ``close``: the last one (``is_last``)."""
    error: SmallestError


class STTStreamState:
    """State of one logical transcription stream, across connections.

    Call :meth:`connection_started` for every (re)connection, :meth:`audio_sent` for
    each audio frame sent, :meth:`sent` after anything went out, :meth:`receive` for each
    frame received and :meth:`poll` when :meth:`next_deadline` is reached. ``finalize``
    and ``close_stream`` queue their message and start the deadline for what the server
    owes. Commands and inputs return nothing: drain :meth:`data_to_send` (text
    messages) and :meth:`events`, both in order. Times are the caller's monotonic clock.
    """

    def __init__(
        self,
        options: STTOptions,
        *,
        keepalive_interval_s: float | None = DEFAULT_KEEPALIVE_INTERVAL_S,
        finalize_timeout_s: float = DEFAULT_FINALIZE_TIMEOUT_S,
        close_timeout_s: float = DEFAULT_CLOSE_TIMEOUT_S,
    ) -> None:
        for name, value in (
            ("keepalive_interval_s", keepalive_interval_s),
            ("finalize_timeout_s", finalize_timeout_s),
            ("close_timeout_s", close_timeout_s),
        ):
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        self.options = options
        self.keepalive_interval_s = keepalive_interval_s
        self.finalize_timeout_s = finalize_timeout_s
        self.close_timeout_s = close_timeout_s
        self._bytes_per_second = _bytes_per_second(options)
        self._sent_total = 0
        self._offset_bytes = 0
        self._finalize_due: deque[float] = deque()
        self._close_due: float | None = None
        self.connections = 0
        self.close_requested = False
        self.finished = False
        """True once the server delivered the last transcript (``is_last``)."""
        self.last_sent_at = 0.0
        """When anything last went out on the current connection (the caller's clock)."""
        self._outgoing: list[str] = []
        self._events: list[STTEvent | DeadlineMissed] = []

    # ---------------------------------------------------------------- draining
    def data_to_send(self) -> list[str]:
        """Text messages to send now, in order (clears the queue).

        Audio is never queued here: the caller sends it and reports it with
        :meth:`audio_sent` and :meth:`sent`.
        """
        out, self._outgoing = self._outgoing, []
        return out

    def events(self) -> list[STTEvent | DeadlineMissed]:
        """What happened since the last call, in order (clears the queue)."""
        out, self._events = self._events, []
        return out

    # ---------------------------------------------------------------- timeline
    @property
    def audio_seconds_sent(self) -> float:
        """Seconds of audio sent over every connection so far."""
        return self._sent_total / self._bytes_per_second

    @property
    def time_offset(self) -> float:
        """Seconds added to this connection's times to put them on the stream timeline."""
        return self._offset_bytes / self._bytes_per_second

    @property
    def finalize_pending(self) -> int:
        """``finalize`` messages still waiting for their final transcript."""
        return len(self._finalize_due)

    def connection_started(self, options: STTOptions | None = None) -> None:
        """A new connection starts; its clock starts at the audio sent before it.

        Nothing is owed on a new connection: a ``finalize`` the old one never answered
        must be sent again (and is then owed again). Messages queued for the old
        connection and not yet taken are dropped; queued events stay.
        """
        if options is not None:
            self.options = options
            self._bytes_per_second = _bytes_per_second(options)
        self.connections += 1
        self._offset_bytes = self._sent_total
        self._finalize_due.clear()
        self._close_due = None
        self._outgoing.clear()
        # A reconnect (option change) ends the old connection with close_stream; the
        # logical stream goes on.
        self.close_requested = False
        self.finished = False

    def audio_sent(self, nbytes: int) -> None:
        """Record ``nbytes`` of audio sent on the current connection."""
        self._sent_total += nbytes

    def sent(self, now: float) -> None:
        """Something (audio or a control message) went out at ``now``."""
        self.last_sent_at = now

    # ---------------------------------------------------------------- messages
    def finalize(self, now: float) -> None:
        """Ask for a final transcript now (the socket stays open): queues ``finalize``;
        the final is owed by ``now + finalize_timeout_s``."""
        self._finalize_due.append(now + self.finalize_timeout_s)
        self._outgoing.append(FINALIZE_MESSAGE)

    def close_stream(self, now: float) -> None:
        """No more audio: queues ``close_stream``; the last transcript is owed by
        ``now + close_timeout_s``, and the server then closes."""
        self.close_requested = True
        self._close_due = now + self.close_timeout_s
        self._outgoing.append(CLOSE_STREAM_MESSAGE)

    def receive(self, data: str | bytes) -> None:
        """Parse a frame and queue its event, with its times on the stream timeline; a
        final may settle a debt. A malformed frame queues an :class:`STTError`."""
        try:
            event = parse_stt_frame(data, self.time_offset)
        except ProtocolError as exc:
            self._events.append(STTError(exc))
            return
        if isinstance(event, Transcript) and event.is_final:
            if event.from_finalize and self._finalize_due:
                self._finalize_due.popleft()
            if event.is_last:
                self.finished = True
                self._finalize_due.clear()
                self._close_due = None
        self._events.append(event)

    # ---------------------------------------------------------------- timers
    def keepalive_at(self) -> float | None:
        """When the connection needs a keepalive, or None (off, or the stream is closing)."""
        if self.keepalive_interval_s is None or self.close_requested or self.finished:
            return None
        return self.last_sent_at + self.keepalive_interval_s

    def close_deadline(self) -> float | None:
        """When the last transcript is owed by, or None (not closing, or delivered)."""
        return self._close_due

    def next_deadline(self) -> float | None:
        """The earliest of the keepalive, the oldest finalize and the close deadline."""
        due = [t for t in (self.keepalive_at(), self._close_due) if t is not None]
        if self._finalize_due:
            due.append(self._finalize_due[0])
        return min(due) if due else None

    def poll(self, now: float) -> None:
        """Apply what is due at ``now``.

        A due keepalive is queued for :meth:`data_to_send` and counted as sent at ``now``
        (so it is queued once per quiet interval); every deadline past at ``now`` queues
        one :class:`DeadlineMissed` event and is then no longer waited for (the late
        ``finalize`` messages one poll finds are reported together).
        """
        late = 0
        while self._finalize_due and self._finalize_due[0] <= now:
            self._finalize_due.popleft()
            late += 1
        if late:
            self._events.append(_missed("finalize", late, self.finalize_timeout_s))
        if self._close_due is not None and self._close_due <= now:
            self._close_due = None
            self._events.append(_missed("close", 1, self.close_timeout_s))
        due = self.keepalive_at()
        if due is not None and now >= due:
            self._outgoing.append(KEEPALIVE_MESSAGE)
            self.last_sent_at = now


def _missed(owed: Literal["finalize", "close"], count: int, timeout: float) -> DeadlineMissed:
    what = "final transcript" if owed == "finalize" else "last transcript"
    sent = "finalize" if owed == "finalize" else "close_stream"
    times = f" ({count} finalize messages)" if count > 1 else ""
    error = SmallestError(
        f"no {what} within {timeout:g} s of {sent}{times}",
        kind=ErrorKind.TIMEOUT,
        code=f"{owed}_timeout",
    )
    return DeadlineMissed(owed, error)


def _bytes_per_second(options: STTOptions) -> int:
    return options.sample_rate * _BYTES_PER_SAMPLE.get(options.encoding, 2)
