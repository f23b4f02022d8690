"""Lightning v4 live sessions (``WS /waves/v1/lightning-v4/live``), sans-I/O.

A different protocol from the v3.1 ``/tts/live`` socket: options travel in the query
string; the server says ``ready`` twice (admitted, then a voice server attached, with the
negotiated ``sample_rate``); each utterance is one ``speak`` with a ``turn_id``, answered
by ``turn_start``, raw PCM in binary frames (which carry no id) and ``turn_end``.
``interrupt`` stops the turn speaking and retires every turn queued behind it, each
answered by ``interrupted``; the socket stays open. ``user_audio`` (the caller's words
and audio) conditions later turns on the conversation. English only, no word timestamps.

Commands (:meth:`LightningV4Session.speak`, ``interrupt``, ``add_user_turn``, ``end``)
queue messages and return nothing (``speak`` returns the new turn's id);
:meth:`~LightningV4Session.receive` takes each frame; :meth:`~LightningV4Session.events`
and :meth:`~LightningV4Session.data_to_send` drain what resulted. A command the session
cannot take (a turn on a closed session, a duplicate turn id) raises
:class:`~smallest_core.errors.ProtocolMisuse`. Binary audio belongs to the turn the last
``turn_start`` named; audio of a turn the caller interrupted is dropped and counted, never
handed to another turn.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from smallest_core import catalog
from smallest_core.audio import wav_header
from smallest_core.endpoints import Endpoints
from smallest_core.errors import (
    ErrorKind,
    ProtocolError,
    ProtocolMisuse,
    SmallestError,
    classify_message,
    decode_json,
)
from smallest_core.limits import check_text

V4_MODEL = "lightning-v4"
V4_SAMPLE_RATES = (8000, 16000, 24000, 44100, 48000)
V4_DEFAULT_SAMPLE_RATE = 48000
V4_DEFAULT_VOICE = "brannock"
V4_LANGUAGES = ("en", "auto")
V4_SPEED_RANGE = (0.5, 2.0)
V4_FATAL_CODES = frozenset({"model_access_denied", "invalid_voice", "invalid_query"})
"""Error codes that mean the same session can never work (not retryable)."""
V4_ACCESS_HINT = (
    "Lightning v4 is in beta and enabled per account: ask Smallest AI for access "
    "(Lightning v3.1 works meanwhile)"
)
"""Added to a ``model_access_denied`` error: what the caller can do about it."""


@dataclass(frozen=True, slots=True)
class LightningV4Options:
    """What a v4 session is opened with (all of it in the connection's query string)."""

    voice_id: str = V4_DEFAULT_VOICE
    language: str = "en"
    sample_rate: int = V4_DEFAULT_SAMPLE_RATE
    speed: float = 1.0
    content_filter: str | None = None
    """``"reject"`` or ``"flag"`` enables the server's content filter with that action."""

    def __post_init__(self) -> None:
        if not isinstance(self.voice_id, str) or not self.voice_id.strip():
            raise ValueError("voice_id must be a non-empty string")
        catalog.check_choice("language for lightning-v4", self.language, V4_LANGUAGES)
        if isinstance(self.sample_rate, bool) or not isinstance(self.sample_rate, int):
            raise ValueError(f"sample_rate must be an int, got {self.sample_rate!r}")
        catalog.check_choice("lightning-v4 sample_rate", self.sample_rate, V4_SAMPLE_RATES)
        catalog.check_range("speed", float(self.speed), V4_SPEED_RANGE)
        if self.content_filter is not None:
            catalog.check_choice(
                "content_filter", self.content_filter, catalog.CONTENT_FILTER_ACTIONS
            )

    def query(self) -> dict[str, str]:
        """The connection's query parameters."""
        params = {
            "voice_id": self.voice_id,
            "language": self.language,
            "sample_rate": str(self.sample_rate),
            "output_format": "pcm",
            "speed": f"{float(self.speed):g}",
        }
        if self.content_filter is not None:
            params["content_filter"] = "true"
            params["content_filter_action"] = self.content_filter
        return params

    def url(self, endpoints: Endpoints) -> str:
        """``wss://…/waves/v1/lightning-v4/live?…`` for these options."""
        return f"{endpoints.ws_base}/waves/v1/lightning-v4/live?{urlencode(self.query())}"


class TurnState(StrEnum):
    """Where a v4 turn is in its life."""

    QUEUED = "queued"
    """``speak`` queued or sent; the server has not started it."""
    SPEAKING = "speaking"
    ENDED = "ended"
    INTERRUPTED = "interrupted"
    FAILED = "failed"


_TURN_OVER = (TurnState.ENDED, TurnState.INTERRUPTED, TurnState.FAILED)


# ---------------------------------------------------------------------------- events


@dataclass(slots=True)
class SessionReady:
    """A voice server is attached: turns may be spoken (at ``sample_rate``)."""

    session_id: str | None
    sample_rate: int


@dataclass(slots=True)
class TurnStarted:
    turn_id: str


@dataclass(slots=True)
class TurnAudio:
    """PCM (int16 LE mono) of a turn, at ``sample_offset`` on its timeline."""

    turn_id: str
    audio: bytes
    sample_offset: int


@dataclass(slots=True)
class TurnEnded:
    """The turn is over: all of its audio arrived, or it was interrupted."""

    turn_id: str
    interrupted: bool
    samples: int


@dataclass(slots=True)
class TurnFailed:
    turn_id: str
    error: SmallestError


@dataclass(slots=True)
class SessionFailed:
    """The session cannot go on (refused at connect, fatal error, lost)."""

    error: SmallestError


@dataclass(slots=True)
class SessionNotice:
    """Something worth a warning that changes nothing (an error the session survives,
    a frame of an unknown kind)."""

    message: str
    error: SmallestError | None = None


LightningV4Event = (
    SessionReady | TurnStarted | TurnAudio | TurnEnded | TurnFailed | SessionFailed | SessionNotice
)


@dataclass(slots=True)
class _Turn:
    id: str
    text: str
    state: TurnState = TurnState.QUEUED
    samples: int = 0
    dropped_bytes: int = 0


class LightningV4Session:
    """Protocol state of one Lightning v4 live session."""

    def __init__(self, options: LightningV4Options) -> None:
        self.options = options
        self.sample_rate = options.sample_rate
        """The negotiated rate (the second ``ready`` may change it)."""
        self.session_id: str | None = None
        self.ready = False
        self.closed = False
        self._readies = 0
        self._turns: dict[str, _Turn] = {}
        self._speaking: _Turn | None = None
        self._held: list[tuple[str | None, str]] = []
        """Messages (with the turn they speak, if any) that wait for the session to be ready."""
        self._outgoing: list[str] = []
        self._events: list[LightningV4Event] = []
        self._carry = b""
        self.dropped_bytes = 0
        """Audio that belonged to no turn the caller still wants (after an interrupt)."""

    # ---------------------------------------------------------------- draining
    def data_to_send(self) -> list[str]:
        """Text frames to send now, in order (clears the queue)."""
        out, self._outgoing = self._outgoing, []
        return out

    def events(self) -> list[LightningV4Event]:
        """What the frames received so far resulted in (clears the queue)."""
        out, self._events = self._events, []
        return out

    # ---------------------------------------------------------------- commands
    def speak(self, text: str, turn_id: str | None = None) -> str:
        """Queue one utterance; returns its turn id. Empty text ends the turn at once."""
        self._check_open()
        check_text(text)
        tid = turn_id or uuid.uuid4().hex[:16]
        if tid in self._turns:
            raise ProtocolMisuse(f"turn {tid!r} already exists in this session: ids must be new")
        turn = _Turn(tid, text)
        self._turns[tid] = turn
        if not text.strip():
            turn.state = TurnState.ENDED
            self._events.append(TurnEnded(tid, False, 0))
            return tid
        self._send({"event": "speak", "turn_id": tid, "text": text}, turn_id=tid)
        return tid

    def interrupt(self) -> None:
        """Barge-in: the turn speaking and every queued turn end; their audio is dropped."""
        if self.closed:
            return
        live = [t for t in self._turns.values() if t.state not in _TURN_OVER]
        if not live:
            return
        held = {tid for tid, _ in self._held if tid is not None}
        self._held = [(tid, m) for tid, m in self._held if tid not in held]
        for turn in live:
            turn.state = TurnState.INTERRUPTED
            self._events.append(TurnEnded(turn.id, True, turn.samples))
        if any(turn.id not in held for turn in live):  # something reached the server
            self._send({"event": "interrupt"})

    def add_user_turn(self, text: str, pcm: bytes, sample_rate: int) -> None:
        """Give the server the caller's turn (words and audio) to condition later turns.

        The server ignores context without audio, so both are required.
        """
        self._check_open()
        check_text(text)
        if not text.strip() or not pcm:
            raise ValueError("a user turn needs both its transcript and its audio")
        wav = wav_header(sample_rate, 1, 16, data_size=len(pcm)) + pcm
        audio = base64.b64encode(wav).decode("ascii")
        self._send({"event": "user_audio", "text": text, "audio": audio})

    def end(self) -> None:
        """Close the session politely (the caller then closes the socket)."""
        if not self.closed and self.ready:
            self._outgoing.append(_dump({"event": "end"}))
        self.closed = True

    # ---------------------------------------------------------------- incoming
    def receive(self, data: str | bytes) -> None:
        """Take one frame: text (JSON events) or binary (audio of the current turn)."""
        if isinstance(data, bytes | bytearray | memoryview):
            self._on_audio(bytes(data))
            return
        try:
            msg = decode_json(data)
        except ProtocolError as exc:
            self._events.append(SessionNotice(f"unreadable frame: {exc.message}", exc))
            return
        if not isinstance(msg, Mapping):
            self._events.append(SessionNotice("a frame that is not a JSON object"))
            return
        self._on_message(msg)

    def connection_lost(self, code: int | None = None, reason: str = "") -> None:
        """The socket closed: every unfinished turn fails, the session is over."""
        if self.closed and not self._live_turns():
            self.closed = True
            return
        self.closed = True
        what = reason or "the Lightning v4 session closed"
        kind = ErrorKind.RATE_LIMIT if code == 1008 else ErrorKind.CONNECTION
        suffix = f" (close code {code})" if code is not None else ""
        error = SmallestError(what + suffix, kind=kind, code=str(code) if code else None)
        live = self._live_turns()
        for turn in live:
            turn.state = TurnState.FAILED
            self._events.append(TurnFailed(turn.id, error))
        if not self.ready or not live:
            self._events.append(SessionFailed(error))

    # ---------------------------------------------------------------- introspection
    def turn_state(self, turn_id: str) -> TurnState | None:
        turn = self._turns.get(turn_id)
        return turn.state if turn else None

    @property
    def busy(self) -> bool:
        """True while a turn is queued or speaking."""
        return bool(self._live_turns())

    # ---------------------------------------------------------------- internals
    def _check_open(self) -> None:
        if self.closed:
            raise ProtocolMisuse(
                "the Lightning v4 session is closed: speak and add user turns on a new one"
            )

    def _live_turns(self) -> list[_Turn]:
        return [t for t in self._turns.values() if t.state not in _TURN_OVER]

    def _send(self, message: dict[str, Any], turn_id: str | None = None) -> None:
        encoded = _dump(message)
        if self.ready:
            self._outgoing.append(encoded)
        else:
            self._held.append((turn_id, encoded))

    def _on_audio(self, data: bytes) -> None:
        turn = self._speaking
        if turn is None or turn.state is not TurnState.SPEAKING:
            if turn is not None:
                turn.dropped_bytes += len(data)
            self.dropped_bytes += len(data)
            return
        pcm = self._carry + data
        if len(pcm) % 2:
            pcm, self._carry = pcm[:-1], pcm[-1:]
        else:
            self._carry = b""
        if pcm:
            self._events.append(TurnAudio(turn.id, pcm, turn.samples))
            turn.samples += len(pcm) // 2

    def _on_message(self, msg: Mapping[str, Any]) -> None:
        event = msg.get("event")
        turn_id = msg.get("turn_id")
        turn = self._turns.get(turn_id) if isinstance(turn_id, str) else None
        if event == "ready":
            self._on_ready(msg)
        elif event == "turn_start":
            self._carry = b""
            self._speaking = turn
            if turn is not None and turn.state is TurnState.QUEUED:
                turn.state = TurnState.SPEAKING
                self._events.append(TurnStarted(turn.id))
        elif event in ("turn_end", "interrupted"):
            if turn is self._speaking:
                self._speaking = None
            if turn is not None and turn.state not in _TURN_OVER:
                turn.state = TurnState.INTERRUPTED if event == "interrupted" else TurnState.ENDED
                self._events.append(TurnEnded(turn.id, event == "interrupted", turn.samples))
        elif event == "error" or msg.get("status") == "error":
            self._on_error(msg, turn)
        else:
            self._events.append(SessionNotice(f"frame of unknown kind {str(event)[:40]!r}"))

    def _on_ready(self, msg: Mapping[str, Any]) -> None:
        self._readies += 1
        session_id = msg.get("session_id")
        if isinstance(session_id, str):
            self.session_id = session_id
        rate = msg.get("sample_rate")
        if isinstance(rate, int) and not isinstance(rate, bool) and rate in V4_SAMPLE_RATES:
            self.sample_rate = rate
        if self._readies >= 2 and not self.ready:
            self.ready = True
            self._outgoing.extend(m for _, m in self._held)
            self._held = []
            self._events.append(SessionReady(self.session_id, self.sample_rate))

    def _on_error(self, msg: Mapping[str, Any], turn: _Turn | None) -> None:
        error = v4_error(msg)
        fatal = not self.ready or error.code in V4_FATAL_CODES
        if turn is not None and turn.state not in _TURN_OVER:
            turn.state = TurnState.FAILED
            if turn is self._speaking:
                self._speaking = None
            self._events.append(TurnFailed(turn.id, error))
        if fatal:
            for other in self._live_turns():
                other.state = TurnState.FAILED
                self._events.append(TurnFailed(other.id, error))
            self._events.append(SessionFailed(error))
        elif turn is None:
            self._events.append(SessionNotice(f"server error: {error.message}", error))


def v4_error(msg: Mapping[str, Any]) -> SmallestError:
    """The error of a v4 error frame: ``{"event": "error", "code", "message"}`` (the
    session survives) or ``{"status": "error", "error": {"code", "message"}}`` (refused).
    A refused account (``model_access_denied``) also says how to get access."""
    nested = msg.get("error")
    body: Mapping[str, Any] = nested if isinstance(nested, Mapping) else msg
    code = body.get("code")
    code = code if isinstance(code, str) else None
    message = body.get("message")
    text = message if isinstance(message, str) and message else "Lightning v4 reported an error"
    if code:
        text = f"{code}: {text}"
    if code == "model_access_denied":
        kind = ErrorKind.AUTH
        text = f"{text}; {V4_ACCESS_HINT}"
    elif code in V4_FATAL_CODES or code in ("bad_frame", "bad_user_audio"):
        kind = ErrorKind.INVALID_INPUT
    else:
        kind = classify_message(text)
    return SmallestError(text, kind=kind, code=code, body=dict(msg))


def _dump(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)
