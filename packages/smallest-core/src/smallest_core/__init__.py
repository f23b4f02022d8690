"""Sans-I/O protocol core for Smallest AI's Waves API (Lightning TTS, Pulse STT).

Nothing here opens a socket or touches an event loop: objects are fed frames and
return typed events and the messages to send. Framework adapters move the bytes.
"""

from smallest_core._version import __version__
from smallest_core.endpoints import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    ApiKey,
    Endpoints,
    auth_headers,
    resolve_api_key,
    resolve_base_url,
)
from smallest_core.errors import ErrorKind, ProtocolError, SmallestError
from smallest_core.options import STTOptions, TTSOptions
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
    "Pong",
    "ProtocolError",
    "STTError",
    "STTEvent",
    "STTIgnored",
    "STTOptions",
    "STTStreamState",
    "STTWord",
    "SmallestError",
    "SpeechEnded",
    "SpeechStarted",
    "TTSConnection",
    "TTSEvent",
    "TTSOptions",
    "TimedWord",
    "Transcript",
    "Voice",
    "WordReceived",
    "WordTimeline",
    "__version__",
    "auth_headers",
    "resolve_api_key",
    "resolve_base_url",
]
