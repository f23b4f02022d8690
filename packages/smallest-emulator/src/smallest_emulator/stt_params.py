"""STT query-parameter validation (§5.1, §5.2, §6.2)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from multidict import MultiMapping

STREAM_LANGUAGES = frozenset(
    [
        "en",
        "hi",
        "de",
        "es",
        "ru",
        "it",
        "fr",
        "nl",
        "pt",
        "zh",
        "yue",
        "ja",
        "ko",
        "gu",
        "mr",
        "or",
        "bn",
        "ta",
        "te",
        "kn",
        "ml",
        "north_indic",
        "multi-asian",
        "multi-south-indic",
        "multi",
        "multi-eu",
    ]
)
HTTP_LANGUAGES = frozenset(
    [
        "en",
        "hi",
        "de",
        "es",
        "ru",
        "it",
        "fr",
        "nl",
        "pt",
        "uk",
        "pl",
        "cs",
        "sk",
        "lv",
        "et",
        "ro",
        "fi",
        "sv",
        "bg",
        "hu",
        "da",
        "lt",
        "mt",
        "zh",
        "ja",
        "ko",
        "multi-eu",
        "multi-asian",
        "multi-indic",
        "multi",
    ]
)
STREAM_RATES = (8000, 16000, 22050, 24000, 44100, 48000)
ENCODINGS = ("linear16", "linear32", "alaw", "mulaw", "opus", "ogg_opus")
BOOL_PARAMS = [
    "word_timestamps",
    "sentence_timestamps",
    "diarize",
    "full_transcript",
    "format",
    "punctuate",
    "capitalize",
    "itn_normalize",
    "endpointing",
    "finalize_on_words",
    "redact_pii",
    "redact_pci",
    "vad_events",
    "vad",
    "emotion_detection",
    "gender_detection",
]
_KEYWORD = re.compile(r"^[^:,]+(:\d+(\.\d+)?)?$")
STREAM_MODELS = ("pulse", "pulse-2")
PULSE_2_LANGUAGES = frozenset({"en"})
PULSE_PRO_WS = (
    "Pulse Pro has no streaming transport. Use POST /waves/v1/stt/?model=pulse-pro "
    "or model=pulse for streaming."
)


class ParamError(Exception):
    """A 400-worthy parameter problem."""


@dataclass
class SttParams:
    """Validated STT options."""

    language: str = "en"
    model: str = "pulse"
    sample_rate: int = 16000
    encoding: str = "linear16"
    word_timestamps: bool = False
    diarize: bool = False
    endpointing: bool = True
    eou_timeout_ms: int = 800
    vad_events: bool = False
    full_transcript: bool = False
    finalize_on_words: bool = True
    max_words: int | None = None
    keywords: tuple[str, ...] = ()
    endpointing_ms: int | None = None
    sentence_timestamps: bool = False
    redact_pii: bool = False
    redact_pci: bool = False
    emotion_detection: bool = False
    gender_detection: bool = False

    @property
    def turn_outputs(self) -> bool:
        """pulse-2: finals carry end of turn (``speech_final``), emotion and gender."""
        return self.model == "pulse-2"

    @property
    def final_language(self) -> str:
        """Language reported on finals (multi-language codes report ``en``)."""
        return "en" if self.language.startswith("multi") or "_" in self.language else self.language


def _bool(q: MultiMapping[str], name: str, default: bool) -> bool:
    raw = q.get(name)
    if raw is None:
        return default
    if raw not in ("true", "false"):
        raise ParamError(f"Invalid value for {name}: expected 'true' or 'false'")
    return raw == "true"


def parse_stream(q: MultiMapping[str], *, unified: bool) -> SttParams:
    """Validate the WS query (``unified`` = ``/stt/live``). Raises ParamError."""
    if unified:
        model = q.get("model")
        if model is None:
            raise ParamError("Missing required query param: model. Supported values: pulse.")
        if model == "pulse-pro":
            raise ParamError(PULSE_PRO_WS)
        if model not in STREAM_MODELS:
            raise ParamError(f"Invalid model: {model}. Supported values: pulse | pulse-2.")
    else:
        model = "pulse"
    lang = q.get("language")
    if lang is None:
        if unified and model != "pulse-2":
            raise ParamError("Missing required query param: language")
        lang = "en"
    if lang not in STREAM_LANGUAGES:
        raise ParamError(f"Unsupported language: {lang}")
    if model == "pulse-2" and lang not in PULSE_2_LANGUAGES:
        raise ParamError(f"pulse-2 supports English only (language=en), got {lang}")
    p = SttParams(language=lang, model=model, word_timestamps=not unified)
    _common(q, p, rates=STREAM_RATES)
    p.endpointing = _bool(q, "endpointing", True)
    p.vad_events = _bool(q, "vad_events", False) or _bool(q, "vad", False)
    p.full_transcript = _bool(q, "full_transcript", False)
    p.finalize_on_words = _bool(q, "finalize_on_words", True)
    if "eou_timeout_ms" in q:
        try:
            eou = int(q["eou_timeout_ms"])
        except ValueError:
            raise ParamError("eou_timeout_ms must be an integer") from None
        if not 100 <= eou <= 10000:
            raise ParamError("eou_timeout_ms must be between 100 and 10000")
        p.eou_timeout_ms = eou
    if "endpointing_timeout" in q:
        p.endpointing_ms = _int(q, "endpointing_timeout", 1, 10000)
    if "max_words" in q:
        try:
            p.max_words = int(q["max_words"])
        except ValueError:
            raise ParamError("max_words must be an integer") from None
    if "numerals" in q and q["numerals"] not in ("auto", "true", "false"):
        raise ParamError("Invalid value for numerals")
    if "external_session_id" in q and not re.fullmatch(
        r"[A-Za-z0-9_\-.]{1,128}", q["external_session_id"]
    ):
        raise ParamError("Invalid external_session_id")
    return p


def _int(q: MultiMapping[str], name: str, low: int, high: int) -> int:
    try:
        value = int(q[name])
    except ValueError:
        raise ParamError(f"{name} must be an integer (milliseconds)") from None
    if not low <= value <= high:
        raise ParamError(f"{name} must be between {low} and {high}")
    return value


def _common(q: MultiMapping[str], p: SttParams, *, rates: tuple[int, ...] | None) -> None:
    for name in BOOL_PARAMS:
        _bool(q, name, False)
    p.word_timestamps = _bool(q, "word_timestamps", p.word_timestamps)
    p.diarize = _bool(q, "diarize", False)
    p.sentence_timestamps = _bool(q, "sentence_timestamps", False)
    p.redact_pii = _bool(q, "redact_pii", False)
    p.redact_pci = _bool(q, "redact_pci", False)
    p.emotion_detection = _bool(q, "emotion_detection", False)
    p.gender_detection = _bool(q, "gender_detection", False)
    if "sample_rate" in q:
        try:
            rate = int(q["sample_rate"])
        except ValueError:
            raise ParamError("sample_rate must be an integer") from None
        if rates is not None and rate not in rates:
            raise ParamError(f"Unsupported sample_rate: {rate}")
        p.sample_rate = rate
    enc = q.get("encoding", "linear16")
    if enc not in ENCODINGS:
        raise ParamError(f"Unsupported encoding: {enc}")
    p.encoding = enc
    kw = q.get("keywords")
    if kw is not None:
        items = [k.strip() for k in kw.split(",")]
        if not all(items) or not all(_KEYWORD.match(k) for k in items):
            raise ParamError("Invalid keywords: expected 'Word:boost,Phrase two:1.5'")
        p.keywords = tuple(items)


def parse_http(q: MultiMapping[str], *, unified: bool) -> SttParams:
    """Validate the HTTP query (``unified`` = ``/stt/``). Raises ParamError."""
    if unified:
        model = q.get("model")
        if model is None:
            raise ParamError(
                "Missing required query param: model. Supported values: pulse | pulse-pro."
            )
        if model not in ("pulse", "pulse-pro"):
            raise ParamError(f"Invalid model: {model}. Supported values: pulse | pulse-pro.")
    lang = q.get("language", "en" if unified else "multi-eu")
    if lang not in HTTP_LANGUAGES:
        raise ParamError(f"Unsupported language: {lang}")
    p = SttParams(language=lang)
    _common(q, p, rates=None)
    return p


def as_dict(q: MultiMapping[str]) -> dict[str, Any]:
    """Query as a plain dict (for records), without the override parameter."""
    return {k: v for k, v in q.items() if k != "emulator"}
