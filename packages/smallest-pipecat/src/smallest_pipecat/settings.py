"""Runtime-updatable settings of the Smallest services (Pipecat store/delta pattern)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipecat.services.settings import STTSettings, TTSSettings
from pipecat.utils.types import NOT_GIVEN, NotGiven, is_given

from smallest_core import (
    DEFAULT_PRO_VOICE,
    DEFAULT_VOICE,
    STT_STREAM_OPTION_NAMES,
    Affect,
    STTOptions,
    TTSOptions,
    catalog,
)

AFFECT_FIELDS = ("emotion", "pitch", "volume", "prosody", "accent", "instruction")


@dataclass
class SmallestTTSSettings(TTSSettings):
    """Settings of :class:`SmallestTTSService` and :class:`SmallestHttpTTSService`.

    Parameters:
        speed: Speech rate, 0.5–2.0.
        math_notation: Read ``2 + 2`` as "two plus two"; ``None`` leaves the server default.
        content_filter: ``"reject"`` or ``"flag"`` turns the server's content filter on.
        max_buffer_delay_ms: How long (0–5000 ms) the server may hold a fragment waiting
            for the end of a sentence (WebSocket only); ``None`` leaves the server default.
        number_pronunciation_language: Language numbers are read in (one of the model's).
        pronunciation_dicts: Ids of pronunciation dictionaries to apply.
        session_id: Your own id for the session (e.g. the call id), echoed by the server.
        emotion, pitch, volume, prosody, accent, instruction: Lightning v3.2 only (HTTP):
            how the next utterances sound; change them per utterance with
            ``TTSUpdateSettingsFrame``. ``None`` leaves the server default.
    """

    speed: float | NotGiven = field(default_factory=lambda: NOT_GIVEN)
    math_notation: bool | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    content_filter: str | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    max_buffer_delay_ms: int | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    number_pronunciation_language: str | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    pronunciation_dicts: tuple[str, ...] | NotGiven | None = field(
        default_factory=lambda: NOT_GIVEN
    )
    session_id: str | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    emotion: str | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    pitch: str | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    volume: str | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    prosody: str | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    accent: str | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    instruction: str | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)


def initial_tts_settings(
    settings: SmallestTTSSettings | None, *, max_buffer_delay_ms: int | None
) -> SmallestTTSSettings:
    """The service's settings store: the defaults with ``settings`` applied on top.

    Without a voice the core's default applies: ``DEFAULT_VOICE``, or ``DEFAULT_PRO_VOICE``
    for the Pro model (both voices have word timestamps).
    """
    store = SmallestTTSSettings(
        model=catalog.LIGHTNING_V3_1,
        voice=DEFAULT_VOICE,
        language="en",
        speed=1.0,
        math_notation=None,
        content_filter=None,
        max_buffer_delay_ms=max_buffer_delay_ms,
        number_pronunciation_language=None,
        pronunciation_dicts=None,
        session_id=None,
        emotion=None,
        pitch=None,
        volume=None,
        prosody=None,
        accent=None,
        instruction=None,
    )
    if settings is None:
        return store
    store.apply_update(settings)
    voice_given = is_given(settings.voice) and settings.voice is not None
    model = settings.model if is_given(settings.model) and settings.model else None
    family = _family(model) if isinstance(model, str) else None
    if not voice_given and family == catalog.LIGHTNING_V3_1_PRO:
        store.voice = DEFAULT_PRO_VOICE
    elif not voice_given and family == catalog.LIGHTNING_V3_2:
        raise ValueError(
            f"{catalog.LIGHTNING_V3_2} has its own voices (v3.1 voices such as "
            f"{DEFAULT_VOICE!r} are refused): pass Settings(voice=...); "
            "list_voices(model='lightning_v3.2') lists them"
        )
    return store


def _family(model: str) -> str | None:
    try:
        return catalog.normalize_tts_model(model)
    except ValueError:
        return None  # an unknown model is refused with its own message by tts_options


def _affect(settings: SmallestTTSSettings) -> Affect | None:
    values = {
        name: value
        for name in AFFECT_FIELDS
        if is_given(value := getattr(settings, name)) and value is not None
    }
    return Affect(**values) if values else None


def tts_options(
    settings: SmallestTTSSettings, *, sample_rate: int, word_timestamps: bool, output_format: str
) -> TTSOptions:
    """Validated core options for ``settings`` (``ValueError`` names the allowed values)."""

    def given(value: Any, default: Any = None) -> Any:
        return value if is_given(value) and value is not None else default

    return TTSOptions(
        voice_id=given(settings.voice, DEFAULT_VOICE),
        model=given(settings.model, catalog.LIGHTNING_V3_1),
        language=given(settings.language, "en"),
        sample_rate=sample_rate,
        speed=float(given(settings.speed, 1.0)),
        output_format=output_format,
        word_timestamps=word_timestamps,
        math_notation=given(settings.math_notation),
        content_filter=given(settings.content_filter),
        max_buffer_delay_ms=given(settings.max_buffer_delay_ms),
        number_pronunciation_language=given(settings.number_pronunciation_language),
        pronunciation_dicts=tuple(given(settings.pronunciation_dicts, ())),
        affect=_affect(settings),
        session_id=given(settings.session_id),
    )


@dataclass
class SmallestSTTSettings(STTSettings):
    """Settings of :class:`SmallestSTTService` (a change reconnects between utterances).

    Parameters:
        word_timestamps: Words with start/end/confidence on every transcript.
        diarize: Speaker labels on words and transcripts.
        vad_events: Ask the server for speech_started/speech_ended events.
        punctuate, capitalize, itn_normalize, numerals, endpointing, eou_timeout_ms,
        finalize_on_words, max_words, keywords, redact_pii, redact_pci: Pulse options,
            ``None`` leaves the server default.
        sentence_timestamps: Sentence-level ``utterances`` on finals.
        full_transcript: The cumulative transcript on every frame.
        format: ``False`` turns punctuation, capitalization and ITN off (the official
            ``format`` switch, sent as ``punctuate``/``capitalize``/``itn_normalize``).
    """

    word_timestamps: bool | NotGiven = field(default_factory=lambda: NOT_GIVEN)
    diarize: bool | NotGiven = field(default_factory=lambda: NOT_GIVEN)
    vad_events: bool | NotGiven = field(default_factory=lambda: NOT_GIVEN)
    punctuate: bool | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    capitalize: bool | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    itn_normalize: bool | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    numerals: str | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    endpointing: bool | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    eou_timeout_ms: int | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    finalize_on_words: bool | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    max_words: int | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    keywords: tuple[str, ...] | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    redact_pii: bool | NotGiven = field(default_factory=lambda: NOT_GIVEN)
    redact_pci: bool | NotGiven = field(default_factory=lambda: NOT_GIVEN)
    sentence_timestamps: bool | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    full_transcript: bool | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    format: bool | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)


_STT_PASSTHROUGH = tuple(n for n in STT_STREAM_OPTION_NAMES if n not in ("language", "keywords"))
"""The core's stream options a setting passes on as is (language and keywords are mapped)."""
_FORMAT_SWITCHES = ("punctuate", "capitalize", "itn_normalize")


def stt_options(
    settings: SmallestSTTSettings,
    *,
    sample_rate: int,
    encoding: str,
    session_id: str | None = None,
) -> STTOptions:
    """Validated core options for ``settings``."""
    values: dict[str, Any] = {}
    for name in _STT_PASSTHROUGH:
        value = getattr(settings, name)
        if is_given(value) and value is not None:
            values[name] = value
    if settings.format is False:
        on = [name for name in _FORMAT_SWITCHES if values.get(name) is True]
        if on:
            raise ValueError(f"format=False turns {', '.join(on)} off; do not set them to True")
        values.update(dict.fromkeys(_FORMAT_SWITCHES, False))
    keywords = settings.keywords
    if is_given(keywords) and keywords:
        values["keywords"] = tuple(keywords)
    model = str(settings.model if is_given(settings.model) and settings.model else "pulse")
    language = settings.language if is_given(settings.language) and settings.language else "en"
    return STTOptions(
        language=str(language),
        model=model,
        sample_rate=sample_rate,
        encoding=encoding,
        session_id=session_id,
        **values,
    )
