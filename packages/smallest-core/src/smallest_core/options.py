"""Validated, immutable request options for TTS and STT.

Construction validates everything the API would reject, so a bad model, a voice of the
other model family, an unsupported sample rate or language fails early with a
``ValueError`` that names the allowed values. ``with_changes`` returns a validated copy.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Self

from smallest_core import catalog

DEFAULT_VOICE = "avery"
"""The default voice of every plugin: English, and one of the voices the service sends word
timestamps for, so word-aligned transcripts and an exact end of each utterance work by
default (a voice without them falls back to a quiet period after the last ``complete``)."""
DEFAULT_PRO_VOICE = "meher"
"""The Pro model's default, likewise one with word timestamps."""


def default_voice(model: str) -> str:
    """The voice a plugin uses when none is given: ``DEFAULT_PRO_VOICE`` for the Pro model,
    else ``DEFAULT_VOICE``. ``ValueError`` for a model with voices of its own (v3.2)."""
    model = catalog.normalize_tts_model(model)
    if model == catalog.LIGHTNING_V3_1:
        return DEFAULT_VOICE
    if model == catalog.LIGHTNING_V3_1_PRO:
        return DEFAULT_PRO_VOICE
    raise ValueError(
        f"{model} has its own voices (v3.1 voices such as {DEFAULT_VOICE!r} are refused), so "
        "there is no default: pass a voice_id, one listed by list_voices() or "
        f"GET /waves/v1/{catalog.tts_model_path_id(model)}/get_voices"
    )


@dataclass(frozen=True, slots=True)
class Affect:
    """How one utterance sounds on Lightning v3.2 (``None``: the server's default).

    ``instruction`` is free-form direction an LLM can write ("sound reassuring, speak
    slowly"); the server lets it override ``emotion``/``pitch``/``volume``/``prosody``.
    """

    emotion: str | None = None
    pitch: str | None = None
    volume: str | None = None
    prosody: str | None = None
    accent: str | None = None
    instruction: str | None = None

    def __post_init__(self) -> None:
        for name, allowed in (
            ("emotion", catalog.V3_2_EMOTIONS),
            ("pitch", catalog.V3_2_PITCHES),
            ("volume", catalog.V3_2_VOLUMES),
            ("prosody", catalog.V3_2_PROSODIES),
        ):
            value = getattr(self, name)
            if value is not None:
                catalog.check_choice(name, value, allowed)
        for name in ("accent", "instruction"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ValueError(f"{name} must be a non-empty string, got {value!r}")

    def fields(self) -> dict[str, str]:
        """The request fields this affect sets."""
        return {
            name: value
            for name in ("emotion", "pitch", "volume", "prosody", "accent", "instruction")
            if (value := getattr(self, name)) is not None
        }


@dataclass(frozen=True, slots=True)
class TTSOptions:
    """Everything that shapes a Lightning synthesis request.

    ``None`` means "not sent; the server default applies".
    """

    voice_id: str = DEFAULT_VOICE
    model: str = catalog.LIGHTNING_V3_1
    language: str = "en"
    sample_rate: int = 24000
    speed: float = 1.0
    output_format: str = "pcm"
    word_timestamps: bool = False
    number_pronunciation_language: str | None = None
    math_notation: bool | None = None
    content_filter: str | None = None
    """``"reject"`` or ``"flag"`` enables the server's content filter with that action."""
    max_buffer_delay_ms: int | None = None
    """Continuations only: how long the server waits for a sentence end before speaking."""
    complete_backoff_ms: int | None = 0
    """Delay between the last audio chunk and ``complete`` (server default 4000 ms)."""
    pronunciation_dicts: tuple[str, ...] = field(default_factory=tuple)
    affect: Affect | None = None
    """Lightning v3.2 only: how the utterance sounds (emotion, pitch, instruction...)."""
    session_id: str | None = None
    """The caller's own id for the session (e.g. the room or call id); the server echoes
    it as ``external_session_id`` / ``X-External-Session-Id``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "model", catalog.normalize_tts_model(self.model))
        if self.session_id is not None:
            check_session_id(self.session_id)
        if self.affect is not None:
            if not isinstance(self.affect, Affect):
                raise ValueError(f"affect must be an Affect, got {self.affect!r}")
            if self.model not in catalog.AFFECT_TTS_MODELS:
                raise ValueError(
                    f"affect (emotion, pitch, volume, prosody, accent, instruction) needs "
                    f"model={catalog.LIGHTNING_V3_2!r}; {self.model} has no such controls"
                )
        catalog.check_voice_model(self.voice_id, self.model)
        catalog.check_choice(
            f"language for {self.model}", self.language, catalog.TTS_LANGUAGES[self.model]
        )
        if self.number_pronunciation_language is not None:
            catalog.check_choice(
                "number_pronunciation_language",
                self.number_pronunciation_language,
                catalog.TTS_LANGUAGES[self.model],
            )
        if isinstance(self.sample_rate, bool) or not isinstance(self.sample_rate, int):
            raise ValueError(f"sample_rate must be an int, got {self.sample_rate!r}")
        catalog.check_choice("TTS sample_rate", self.sample_rate, catalog.TTS_SAMPLE_RATES)
        catalog.check_range("speed", float(self.speed), catalog.TTS_SPEED_RANGE)
        catalog.check_choice("output_format", self.output_format, catalog.TTS_OUTPUT_FORMATS)
        if self.content_filter is not None:
            catalog.check_choice(
                "content_filter", self.content_filter, catalog.CONTENT_FILTER_ACTIONS
            )
        if self.max_buffer_delay_ms is not None:
            catalog.check_range(
                "max_buffer_delay_ms", self.max_buffer_delay_ms, catalog.MAX_BUFFER_DELAY_RANGE_MS
            )
        if self.complete_backoff_ms is not None:
            catalog.check_range(
                "complete_backoff_ms", self.complete_backoff_ms, catalog.COMPLETE_BACKOFF_RANGE_MS
            )
        object.__setattr__(self, "pronunciation_dicts", tuple(self.pronunciation_dicts))

    def with_changes(self, **changes: Any) -> Self:
        """A validated copy with ``changes`` applied (``None`` values are ignored).

        A ``model`` without affect controls drops the current affect unless ``affect`` is
        changed too (then the model refuses it).
        """
        given = {k: v for k, v in changes.items() if v is not None}
        model = given.get("model")
        if (
            self.affect is not None
            and "affect" not in given
            and isinstance(model, str)
            and catalog.normalize_tts_model(model) not in catalog.AFFECT_TTS_MODELS
        ):
            given["affect"] = None
        return dataclasses.replace(self, **given)

    def with_affect(self, affect: Affect | None) -> Self:
        """A copy that speaks with ``affect``; ``None`` or ``Affect()`` clears it.

        ``ValueError`` for an affect on a model without affect controls (all but v3.2).
        """
        if affect is not None and not isinstance(affect, Affect):
            raise ValueError(f"affect must be a smallest_core.Affect or None, got {affect!r}")
        if affect is not None and not affect.fields():
            affect = None
        return dataclasses.replace(self, affect=affect)

    @property
    def streams(self) -> bool:
        """The model has a streaming route (``False``: HTTP only, one request a sentence)."""
        return self.model not in catalog.HTTP_ONLY_TTS_MODELS

    def for_websocket(self) -> Self:
        """These options as the WebSocket takes them: a format it cannot carry (mp3, wav)
        becomes PCM. ``ValueError`` for a model with no streaming route."""
        options = self
        if self.output_format not in catalog.TTS_WS_OUTPUT_FORMATS:
            options = dataclasses.replace(self, output_format="pcm")
        options.check_websocket()
        return options

    def check_websocket(self) -> None:
        """Raise ``ValueError`` if these options cannot be used on the WebSocket."""
        if not self.streams:
            raise ValueError(
                f"{self.model} has no streaming route: synthesize over HTTP "
                "(each sentence one request; change its affect per sentence)"
            )
        catalog.check_choice(
            "output_format on the WebSocket", self.output_format, catalog.TTS_WS_OUTPUT_FORMATS
        )

    def request_fields(self) -> dict[str, Any]:
        """The JSON fields every synthesis message carries (HTTP body or WS message)."""
        fields: dict[str, Any] = {
            "voice_id": self.voice_id,
            "model": self.model,
            "language": self.language,
            "sample_rate": self.sample_rate,
            "speed": self.speed,
            "output_format": self.output_format,
        }
        if self.word_timestamps:
            fields["word_timestamps"] = True
        if self.number_pronunciation_language is not None:
            fields["number_pronunciation_language"] = self.number_pronunciation_language
        if self.math_notation is not None:
            fields["math_notation"] = self.math_notation
        if self.content_filter is not None:
            fields["content_filter"] = {"enabled": True, "action": self.content_filter}
        if self.pronunciation_dicts:
            fields["pronunciation_dicts"] = list(self.pronunciation_dicts)
        if self.affect is not None:
            fields.update(self.affect.fields())
        if self.session_id is not None:
            fields["session_id"] = self.session_id
        return fields


def _flag(value: bool) -> str:
    return "true" if value else "false"


@dataclass(frozen=True, slots=True)
class STTOptions:
    """Everything that shapes a Pulse transcription request (streaming or batch)."""

    language: str = "en"
    model: str = "pulse"
    sample_rate: int = 16000
    encoding: str = "linear16"
    word_timestamps: bool = True
    sentence_timestamps: bool | None = None
    diarize: bool = False
    vad_events: bool = False
    punctuate: bool | None = None
    capitalize: bool | None = None
    itn_normalize: bool | None = None
    numerals: str | None = None
    endpointing: bool | None = None
    eou_timeout_ms: int | None = None
    finalize_on_words: bool | None = None
    max_words: int | None = None
    keywords: tuple[tuple[str, float], ...] = field(default_factory=tuple)
    """Boosted terms as ``(term, boost)`` pairs; sent as ``"Term:boost,..."``."""
    redact_pii: bool = False
    redact_pci: bool = False
    full_transcript: bool | None = None
    emotion_detection: bool = False
    """Pre-recorded: emotion scores on the result (Pulse 2 streams them on every final)."""
    gender_detection: bool = False
    """Pre-recorded: the speaker's gender on the result (Pulse 2 streams it on finals)."""
    session_id: str | None = None
    """The caller's own id for the session (e.g. the room or call id), for analytics;
    sent as ``external_session_id``."""

    def __post_init__(self) -> None:
        catalog.check_choice(
            "STT model",
            self.model,
            tuple(dict.fromkeys(catalog.STT_MODELS + catalog.STT_BATCH_MODELS)),
        )
        catalog.check_choice(
            f"STT language for {self.model}", self.language, _stt_languages(self.model)
        )
        if isinstance(self.sample_rate, bool) or not isinstance(self.sample_rate, int):
            raise ValueError(f"sample_rate must be an int, got {self.sample_rate!r}")
        catalog.check_choice("STT sample_rate", self.sample_rate, catalog.STT_SAMPLE_RATES)
        catalog.check_choice("STT encoding", self.encoding, catalog.STT_ENCODINGS)
        if self.eou_timeout_ms is not None:
            catalog.check_range("eou_timeout_ms", self.eou_timeout_ms, catalog.EOU_TIMEOUT_RANGE_MS)
        if self.max_words is not None and self.max_words < 1:
            raise ValueError(f"max_words must be at least 1, got {self.max_words!r}")
        if self.numerals is not None:
            catalog.check_choice("numerals", self.numerals, ("auto", "true", "false"))
        keywords = tuple(_keyword(k) for k in self.keywords)
        if len(keywords) > catalog.STT_MAX_KEYWORDS:
            raise ValueError(
                f"at most {catalog.STT_MAX_KEYWORDS} keywords per session, got {len(keywords)}"
            )
        object.__setattr__(self, "keywords", keywords)
        if self.session_id is not None:
            check_session_id(self.session_id)

    def with_changes(self, **changes: Any) -> Self:
        """A validated copy with ``changes`` applied (``None`` values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def query(self, *, include_model: bool = True) -> dict[str, str]:
        """Query parameters for the streaming and batch endpoints (booleans as strings)."""
        q: dict[str, str] = {}
        if include_model:
            q["model"] = self.model
        q["language"] = self.language
        q["sample_rate"] = str(self.sample_rate)
        q["encoding"] = self.encoding
        q["word_timestamps"] = _flag(self.word_timestamps)
        q["diarize"] = _flag(self.diarize)
        q["vad_events"] = _flag(self.vad_events)
        optional_flags = {
            "sentence_timestamps": self.sentence_timestamps,
            "punctuate": self.punctuate,
            "capitalize": self.capitalize,
            "itn_normalize": self.itn_normalize,
            "endpointing": self.endpointing,
            "finalize_on_words": self.finalize_on_words,
            "full_transcript": self.full_transcript,
        }
        for key, val in optional_flags.items():
            if val is not None:
                q[key] = _flag(val)
        if self.redact_pii:
            q["redact_pii"] = "true"
        if self.redact_pci:
            q["redact_pci"] = "true"
        if self.numerals is not None:
            q["numerals"] = self.numerals
        if self.eou_timeout_ms is not None:
            q["eou_timeout_ms"] = str(self.eou_timeout_ms)
        if self.max_words is not None:
            q["max_words"] = str(self.max_words)
        if self.keywords:
            q["keywords"] = ",".join(f"{term}:{boost:g}" for term, boost in self.keywords)
        if self.emotion_detection:
            q["emotion_detection"] = "true"
        if self.gender_detection:
            q["gender_detection"] = "true"
        if self.session_id is not None:
            q["external_session_id"] = self.session_id
        return q


_SESSION_ID = re.compile(r"[A-Za-z0-9_\-.]{1,128}")


def check_session_id(session_id: str) -> str:
    """A caller's session id as the API accepts it: 1-128 of letters, digits, ``_-.``."""
    if not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id):
        raise ValueError(
            "session_id must be 1-128 characters of letters, digits, '_', '-' or '.', "
            f"got {session_id!r}"
        )
    return session_id


def _stt_languages(model: str) -> tuple[str, ...]:
    if model in catalog.STT_ENGLISH_ONLY_MODELS:
        return ("en",)
    return tuple(dict.fromkeys(catalog.STT_STREAM_LANGUAGES + catalog.STT_BATCH_LANGUAGES))


def _keyword(item: object) -> tuple[str, float]:
    if isinstance(item, str):
        term, _, boost = item.partition(":")
        pair: tuple[str, float] = (term, float(boost) if boost else 1.0)
    elif isinstance(item, tuple) and len(item) == 2:
        pair = (str(item[0]), float(item[1]))
    else:
        raise ValueError(f"keyword must be 'term' / 'term:boost' or (term, boost), got {item!r}")
    term = pair[0].strip()
    if not term or "," in term or ":" in term:
        raise ValueError(f"keyword term must be non-empty without ',' or ':', got {pair[0]!r}")
    if not 0 < pair[1] <= 10:
        raise ValueError(f"keyword boost must be in (0, 10], got {pair[1]!r}")
    return (term, pair[1])


def check_batch_stt(options: STTOptions) -> None:
    """Raise ``ValueError`` if ``options`` cannot be used for a pre-recorded request."""
    catalog.check_choice("pre-recorded STT model", options.model, catalog.STT_BATCH_MODELS)


def check_streaming_stt(options: STTOptions) -> None:
    """Raise ``ValueError`` if ``options`` cannot be used for streaming (§6)."""
    catalog.check_choice("streaming STT model", options.model, catalog.STT_MODELS)
    catalog.check_choice("streaming STT language", options.language, catalog.STT_STREAM_LANGUAGES)
