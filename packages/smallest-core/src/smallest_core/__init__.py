"""Sans-I/O protocol core for Smallest AI's Waves API (Lightning TTS, Pulse STT).

Nothing here opens a socket or touches an event loop: objects are fed frames and
return typed events and the messages to send. Framework adapters move the bytes.
"""

from smallest_core._version import __version__
from smallest_core.endpoints import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    REGIONS,
    US_BASE_URL,
    ApiKey,
    Endpoints,
    auth_headers,
    resolve_api_key,
    resolve_base_url,
)
from smallest_core.errors import (
    ErrorKind,
    ProtocolError,
    SmallestError,
    decode_json,
    error_from_audio_response,
)
from smallest_core.lightning_v4 import (
    LightningV4Event,
    LightningV4Options,
    LightningV4Session,
    SessionFailed,
    SessionNotice,
    SessionReady,
    TurnAudio,
    TurnEnded,
    TurnFailed,
    TurnStarted,
)
from smallest_core.limits import (
    MAX_ERROR_BODY_BYTES,
    MAX_FRAME_BYTES,
    check_duration,
    check_text,
)
from smallest_core.options import (
    DEFAULT_PRO_VOICE,
    DEFAULT_VOICE,
    Affect,
    STTOptions,
    TTSOptions,
)
from smallest_core.redaction import redact
from smallest_core.retry import MAX_RECONNECT_ATTEMPTS, backoff, should_reconnect
from smallest_core.stt import (
    AudioChunker,
    BatchTranscript,
    Pong,
    SpeechEnded,
    SpeechStarted,
    STTError,
    STTEvent,
    STTIgnored,
    STTStreamState,
    STTWord,
    Transcript,
)
from smallest_core.timeline import TimedWord, WordTimeline
from smallest_core.tts_connection import (
    AudioReceived,
    ConnectionFailed,
    ContextEnded,
    ContextFailed,
    ContextState,
    FrameIgnored,
    TTSConnection,
    TTSEvent,
    WordReceived,
)
from smallest_core.voices import Voice

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "DEFAULT_PRO_VOICE",
    "DEFAULT_VOICE",
    "MAX_ERROR_BODY_BYTES",
    "MAX_FRAME_BYTES",
    "MAX_RECONNECT_ATTEMPTS",
    "REGIONS",
    "US_BASE_URL",
    "Affect",
    "ApiKey",
    "AudioChunker",
    "AudioReceived",
    "BatchTranscript",
    "ConnectionFailed",
    "ContextEnded",
    "ContextFailed",
    "ContextState",
    "Endpoints",
    "ErrorKind",
    "FrameIgnored",
    "LightningV4Event",
    "LightningV4Options",
    "LightningV4Session",
    "Pong",
    "ProtocolError",
    "STTError",
    "STTEvent",
    "STTIgnored",
    "STTOptions",
    "STTStreamState",
    "STTWord",
    "SessionFailed",
    "SessionNotice",
    "SessionReady",
    "SmallestError",
    "SpeechEnded",
    "SpeechStarted",
    "TTSConnection",
    "TTSEvent",
    "TTSOptions",
    "TimedWord",
    "Transcript",
    "TurnAudio",
    "TurnEnded",
    "TurnFailed",
    "TurnStarted",
    "Voice",
    "WordReceived",
    "WordTimeline",
    "__version__",
    "auth_headers",
    "backoff",
    "check_duration",
    "check_text",
    "decode_json",
    "error_from_audio_response",
    "redact",
    "resolve_api_key",
    "resolve_base_url",
    "should_reconnect",
]
