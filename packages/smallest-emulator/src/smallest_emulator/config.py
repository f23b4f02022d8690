"""Emulator configuration: protocol switches, fault knobs, named profiles, override grammar.

Override grammar (API key or ``?emulator=`` query parameter)::

    sk_anything;profile=multi-complete;pause_ms=1000;pause_after_chunks=3

Segments are separated by ``;``. In an API key the first segment is the key itself; every later
segment is ``name=value`` where ``name`` is an :class:`EmulatorConfig` field (``-`` may be used
for ``_``) or ``profile`` (applied first, then the other fields). Booleans are ``true/false/1/0``;
``transcript`` takes utterances separated by ``|``. Overrides only affect that connection/request.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, get_args, get_type_hints
from urllib.parse import unquote

CompleteMode = Literal["per-context", "per-release", "per-burst"]
WordOrigin = Literal["per-request", "per-context"]
CompleteFormat = Literal["current", "legacy"]
CancelAck = Literal["complete", "none"]
SseShape = Literal["current", "docstring", "legacy"]
HttpErrorShape = Literal["live", "spec"]
SttErrorShape = Literal["type", "plain", "object"]
WordTimestampVoices = Literal["all", "documented"]
GetVoicesScope = Literal["union", "pool"]
BufferFlushZero = Literal["release", "hold"]
ProfileKind = Literal["documented reading", "stress"]
Engine = Literal["deterministic", "espeak"]
SttEngine = Literal["script", "pocketsphinx"]


@dataclass
class EmulatorConfig:
    """Every behaviour switch and fault knob. Mutable at runtime (``emu.config.x = ...``)."""

    # --- protocol switches (see PROFILES / README) ---
    # The defaults are the documented service: the continuations page and changelog of
    # 2026-08-23, the get-voices changelog of 2026-08-28, the word-timestamp voice list.
    complete_mode: CompleteMode = "per-release"
    close_after_complete: bool = False
    echo_context_id: bool = False
    echo_request_id: bool = True
    word_origin: WordOrigin = "per-request"
    error_shape: int = 1
    complete_format: CompleteFormat = "current"
    cancel_ack: CancelAck = "none"
    cancel_inflight_chunks: int = 2
    sse_shape: SseShape = "current"
    http_error_shape: HttpErrorShape = "live"
    stt_error_shape: SttErrorShape = "type"
    word_timestamp_voices: WordTimestampVoices = "documented"
    voice_mismatch_empty: bool = False
    accept_any_voice: bool = False
    """Accept any ``voice_id`` (cloned or new voices not in the built-in catalogue)."""
    get_voices_scope: GetVoicesScope = "pool"
    """``union``: ``lightning-v3.1/get_voices`` lists Standard + Pro; ``pool``: Standard only."""
    cancel_ends_context: bool = False
    """False: after ``cancel_request`` the context stays open for more fragments."""
    context_rejects_flush: bool = True
    """True: ``context_id`` with ``flush``/``max_buffer_flush_ms`` is a validation error."""
    buffer_flush_zero: BufferFlushZero = "hold"
    """Legacy ``max_buffer_flush_ms: 0``: ``release`` every fragment, or ``hold`` until flush."""
    stt_speech_final: bool = True
    """STT finals carry ``speech_final`` (true when the final ends a stretch of speech)."""
    v4_access: bool = True
    """False: the account has no Lightning v4 access (``model_access_denied`` at connect)."""
    stt_endpointing_ms: int | None = None
    """Server silence window for endpointing when the client sends no ``endpointing_timeout``
    (None: the ``eou_timeout_ms`` value)."""
    # --- server defaults ---
    complete_backoff_ms: int = 4000
    max_buffer_delay_ms: int = 3000
    idle_timeout_s: float = 60.0
    chunk_bytes: int = 1024
    stt_max_bytes: int = 250 * 1024 * 1024
    reject_keys: frozenset[str] = field(default_factory=frozenset)
    # --- engines / pacing ---
    engine: Engine = "deterministic"
    stt_engine: SttEngine = "script"
    speed: float = 1.0  # pacing factor vs real time; 0 or inf = unpaced
    transcript: tuple[str, ...] = ()
    stt_word_ms: int = 300
    vad_threshold: int = 500
    # --- faults ---
    ttfb_ms: int = 0
    pause_ms: int = 0
    pause_after_chunks: int = 0
    error_after_chunks: int | None = None
    error_message: str = "Internal server error"
    close_after_chunks: int | None = None
    concurrency_limit: int | None = None
    http_status: int | None = None
    malformed_json_after_chunks: int | None = None
    unknown_status_after_chunks: int | None = None
    binary_frame_after_chunks: int | None = None
    never_answer: bool = False
    drop_connection_on_connect: bool = False
    # --- measurement ---
    trace: str = ""
    """A label: when set, the send time of every audio chunk and final transcript of this
    connection is kept under it (``GET /_emulator/traces``), for client-side latency."""

    def copy(self, **changes: Any) -> EmulatorConfig:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)

    def apply_profile(self, name: str) -> EmulatorConfig:
        """A copy with the named profile's switches applied (on top of the defaults' switches)."""
        if name not in PROFILE_SWITCHES:
            raise ValueError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}")
        reset = {k: getattr(_DEFAULT, k) for k in _PROFILE_KEYS}
        reset.update(PROFILE_SWITCHES[name])
        return replace(self, **reset)

    def with_overrides(self, overrides: dict[str, str]) -> EmulatorConfig:
        """A copy with textual overrides (module doc) applied; unknown names raise ValueError."""
        cfg = self
        if "profile" in overrides:
            cfg = cfg.apply_profile(overrides["profile"])
        changes = {
            name: _convert(name, value) for name, value in overrides.items() if name != "profile"
        }
        return replace(cfg, **changes) if changes else cfg


_DEFAULT = EmulatorConfig()

#: The switches a profile may set.
PROFILE_SWITCHES: dict[str, dict[str, Any]] = {
    # The continuations docs (2026-08-23): no context_id echo, a complete per released
    # segment, cancel drops the buffer but keeps the context, no cancel acknowledgement.
    "default": {},
    # §12.1 implementations / older reference pages: context_id echoed, one complete per
    # context, a cancel ends the context and is acknowledged with a complete.
    "context-echo": {
        "complete_mode": "per-context",
        "echo_context_id": True,
        "cancel_ends_context": True,
        "cancel_ack": "complete",
    },
    # §12.1 LK1.8.9 with ids echoed: a complete after every release, no terminal marker.
    "multi-complete": {"complete_mode": "per-release", "echo_context_id": True},
    # §4.3 Pipecat observation: one complete per burst of back-to-back requests.
    "per-burst": {"complete_mode": "per-burst"},
    # §4.2 / §10.1 spec + SDK: server closes the socket (1000) after complete.
    "close-after-complete": {"close_after_complete": True, "complete_mode": "per-context"},
    # §12.1: frames carry neither context_id nor external_request_id back.
    "no-echo": {"echo_context_id": False, "echo_request_id": False},
    # §10.2 spec reading: word times continuous on the context timeline.
    "per-context-words": {"word_origin": "per-context"},
    # §4.1 DOCold / §4.5 shape 4 / §3.1 legacy SSE.
    "legacy-frames": {"complete_format": "legacy", "error_shape": 4, "sse_shape": "legacy"},
    # §4.5 shape 3 (Pipecat reads `error`), STT `{"error": ...}` (§12.2).
    "error-string": {"error_shape": 3, "stt_error_shape": "plain"},
    # §4.5 shape 2 (AsyncAPI ErrorResponse), STT legacy ErrorResponse.
    "error-object": {"error_shape": 2, "stt_error_shape": "object"},
    # Least helpful combination: no echo at all, complete per release, per-request word
    # origin, no cancel ack, spec HTTP errors, SSE docstring shape, 4 chunks after a cancel.
    "strict": {
        "complete_mode": "per-release",
        "echo_context_id": False,
        "echo_request_id": False,
        "word_origin": "per-request",
        "error_shape": 2,
        "cancel_ack": "none",
        "http_error_shape": "spec",
        "sse_shape": "docstring",
        "stt_error_shape": "plain",
        "word_timestamp_voices": "documented",
        "cancel_inflight_chunks": 4,
    },
}


@dataclass(frozen=True)
class ProfileInfo:
    """What a profile models: a documented reading, or a robustness stress."""

    kind: ProfileKind
    summary: str


#: Label and one-line summary of every profile (README table, ``--help``).
PROFILE_INFO: dict[str, ProfileInfo] = {
    "default": ProfileInfo(
        "documented reading",
        "continuations docs (2026-08-23): no context_id echo, a complete per released "
        "segment, cancel keeps the context, context_close, no cancel ack; documented "
        "word-timestamp voices; one voice pool per get_voices route",
    ),
    "context-echo": ProfileInfo(
        "documented reading",
        "older reference pages and the vendor's plugins: context_id echoed, one complete "
        "per context, a cancel ends the context and is acknowledged",
    ),
    "multi-complete": ProfileInfo(
        "documented reading", "LiveKit plugin's reading: ids echoed, a complete per release"
    ),
    "per-burst": ProfileInfo(
        "documented reading", "Pipecat's observation: one complete per burst of requests"
    ),
    "close-after-complete": ProfileInfo(
        "documented reading", "WS spec/SDK: the server closes the socket after complete"
    ),
    "no-echo": ProfileInfo(
        "documented reading", "frames carry neither context_id nor external_request_id"
    ),
    "per-context-words": ProfileInfo(
        "documented reading", "WS spec: word times continuous on the context timeline"
    ),
    "legacy-frames": ProfileInfo(
        "documented reading", "older docs: legacy complete, error shape 4, legacy SSE"
    ),
    "error-string": ProfileInfo(
        "documented reading", "error frames as {error: <text>} (TTS and STT)"
    ),
    "error-object": ProfileInfo(
        "documented reading", "error frames as {error: {message, code}} (AsyncAPI schema)"
    ),
    "strict": ProfileInfo(
        "stress",
        "every least helpful reading at once, 4 chunks after a cancel; no server is known "
        "to combine them",
    ),
}
PROFILES: tuple[str, ...] = tuple(PROFILE_SWITCHES)
_PROFILE_KEYS = sorted({k for sw in PROFILE_SWITCHES.values() for k in sw})

_HINTS = get_type_hints(EmulatorConfig)
FIELD_NAMES = frozenset(f.name for f in fields(EmulatorConfig))
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _convert(name: str, raw: str) -> Any:
    if name not in FIELD_NAMES:
        raise ValueError(f"unknown emulator option {name!r}")
    hint = _HINTS[name]
    args = get_args(hint)
    if name == "transcript":
        return tuple(p.strip() for p in raw.split("|") if p.strip())
    if name == "reject_keys":
        return frozenset(p for p in raw.split(",") if p)
    if hint is bool:
        low = raw.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError(f"{name}: expected a boolean, got {raw!r}")
    try:
        if type(None) in args:  # int | None
            return None if raw.lower() in ("", "none", "null") else int(raw)
        if hint is int:
            return int(raw)
        if hint is float:
            return float(raw)
    except ValueError:
        kind = "a number" if hint is float else "an integer"
        raise ValueError(f"{name}: expected {kind}, got {raw!r}") from None
    if args and all(isinstance(a, str) for a in args):  # Literal
        if raw not in args:
            raise ValueError(f"{name}: expected one of {args}, got {raw!r}")
        return raw
    return raw


def parse_overrides(text: str, *, has_key: bool) -> dict[str, str]:
    """Parse ``[key;]name=value;...`` into a dict (names normalised to field names)."""
    parts = text.split(";")
    if has_key:
        parts = parts[1:]
    out: dict[str, str] = {}
    for part in parts:
        if "=" not in part:
            continue
        name, _, value = part.partition("=")
        name = name.strip().replace("-", "_")
        if name != "profile" and name not in FIELD_NAMES:
            raise ValueError(f"unknown emulator option {name!r}")
        out[name] = unquote(value.strip())
    return out


def config_fields() -> list[dataclasses.Field[Any]]:
    """The dataclass fields of :class:`EmulatorConfig` (for CLI/README generation)."""
    return list(fields(EmulatorConfig))
