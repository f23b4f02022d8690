"""What the Waves API accepts: models, languages, sample rates, formats and known voices.

Values follow ``waves-protocol.md`` §9. TTS request bodies use the underscore model ids
(``lightning_v3.1``); voice listing and cloning use the hyphen form (``lightning-v3.1``).
Both spellings are accepted everywhere and mapped with :func:`normalize_tts_model`.
"""

from __future__ import annotations

from collections.abc import Iterable

# ---------------------------------------------------------------------------- TTS models

LIGHTNING_V3_1 = "lightning_v3.1"
LIGHTNING_V3_1_PRO = "lightning_v3.1_pro"
LIGHTNING_V3_2 = "lightning_v3.2"
"""Per-utterance affect (emotion, pitch, volume, prosody, accent, instruction); HTTP only."""
TTS_MODELS: tuple[str, ...] = (LIGHTNING_V3_1, LIGHTNING_V3_1_PRO, LIGHTNING_V3_2)
HTTP_ONLY_TTS_MODELS = frozenset({LIGHTNING_V3_2})
"""Models the docs give no streaming route: ``POST /waves/v1/{model}/get_speech`` only."""
AFFECT_TTS_MODELS = frozenset({LIGHTNING_V3_2})
"""Models that take per-utterance affect (emotion, pitch, volume, prosody, accent...)."""

_TTS_MODEL_ALIASES = {
    "lightning_v3.1": LIGHTNING_V3_1,
    "lightning-v3.1": LIGHTNING_V3_1,
    "lightning_v3.1_pro": LIGHTNING_V3_1_PRO,
    "lightning-v3.1-pro": LIGHTNING_V3_1_PRO,
    "lightning_v3.1-pro": LIGHTNING_V3_1_PRO,
    "lightning-v3.1_pro": LIGHTNING_V3_1_PRO,
    "lightning_v3.2": LIGHTNING_V3_2,
    "lightning-v3.2": LIGHTNING_V3_2,
}

RETIRED_TTS_MODELS: dict[str, str] = {
    "lightning-v2": "retired on 2026-05-19 (the API answers 410 MODEL_DEPRECATED)",
    "lightning_v2": "retired on 2026-05-19 (the API answers 410 MODEL_DEPRECATED)",
    "lightning-large": "retired on 2026-05-19 (the API answers 410 MODEL_DEPRECATED)",
    "lightning_large": "retired on 2026-05-19 (the API answers 410 MODEL_DEPRECATED)",
    "lightning": "a legacy HTTP-only model without streaming or word timestamps",
}


def _allowed(values: Iterable[object]) -> str:
    return ", ".join(str(v) for v in values)


def normalize_tts_model(model: str) -> str:
    """Return the TTS body id for ``model`` (either spelling); ``ValueError`` otherwise."""
    key = model.strip()
    if key in _TTS_MODEL_ALIASES:
        return _TTS_MODEL_ALIASES[key]
    if key in RETIRED_TTS_MODELS:
        raise ValueError(
            f"TTS model {model!r} is {RETIRED_TTS_MODELS[key]}; "
            f"use {LIGHTNING_V3_1!r} (or {LIGHTNING_V3_1_PRO!r})"
        )
    raise ValueError(
        f"unknown TTS model {model!r}; allowed: {_allowed(TTS_MODELS)} "
        "(hyphen spellings lightning-v3.1 / lightning-v3.1-pro / lightning-v3.2 too)"
    )


def tts_model_path_id(model: str) -> str:
    """The hyphen form used in URL paths (voices, cloning): ``lightning-v3.1[-pro]``."""
    return normalize_tts_model(model).replace("_pro", "-pro").replace("_", "-")


# ---------------------------------------------------------------------------- TTS values

TTS_SAMPLE_RATES: tuple[int, ...] = (8000, 16000, 24000, 44100)
TTS_OUTPUT_FORMATS: tuple[str, ...] = ("pcm", "mp3", "wav", "ulaw", "alaw")
TTS_WS_OUTPUT_FORMATS: tuple[str, ...] = ("pcm", "ulaw", "alaw")
TTS_SPEED_RANGE: tuple[float, float] = (0.5, 2.0)
MAX_BUFFER_DELAY_RANGE_MS: tuple[int, int] = (0, 5000)
COMPLETE_BACKOFF_RANGE_MS: tuple[int, int] = (0, 10000)
CONTENT_FILTER_ACTIONS: tuple[str, ...] = ("reject", "flag")
RECOMMENDED_MAX_CHUNK_CHARS = 250

TTS_LANGUAGES_STANDARD: tuple[str, ...] = (
    "auto",
    "en",
    "hi",
    "mr",
    "kn",
    "ta",
    "bn",
    "gu",
    "te",
    "ml",
    "pa",
    "or",
    "es",
    "de",
    "fr",
    "it",
    "nl",
    "sv",
    "pt",
    "ru",
    "pl",
)
TTS_LANGUAGES_PRO: tuple[str, ...] = (
    *TTS_LANGUAGES_STANDARD,
    "el",
    "fi",
    "no",
    "zh",
    "ja",
    "ko",
    "id",
    "ms",
    "vi",
    "tr",
    "ar",
)
TTS_LANGUAGES: dict[str, tuple[str, ...]] = {
    LIGHTNING_V3_1: TTS_LANGUAGES_STANDARD,
    LIGHTNING_V3_1_PRO: TTS_LANGUAGES_PRO,
    LIGHTNING_V3_2: ("en", "hi", "auto"),
}

# Lightning v3.2 affect controls (``lightning-v3.2-openapi.yaml``).
V3_2_EMOTIONS: tuple[str, ...] = ("neutral", "sad", "happy", "angry")
V3_2_PITCHES: tuple[str, ...] = ("low", "mid", "high")
V3_2_VOLUMES: tuple[str, ...] = ("silent", "low", "normal", "high")
V3_2_PROSODIES: tuple[str, ...] = ("normal", "monotone", "expressive")
V3_2_MAX_TEXT_CHARS = 8000

# Voices known to exist per model (a seed; the server holds ~217 standard voices and
# more Pro ones). Unknown ids are passed through: the server is the authority on them.
STANDARD_VOICES: frozenset[str] = frozenset(
    {
        "sophia",
        "magnus",
        "olivia",
        "daniel",
        "quinn",
        "mia",
        "rachel",
        "nicole",
        "elizabeth",
        "jordan",
        "devansh",
        "kartik",
        "maithili",
        "liam",
        "avery",
        "sunidhi",
        "sameera",
        "neel",
        "mihir",
        "aarush",
        "daniella",
        "marcos",
        "jeevan",
        "rajeshwari",
    }
)
PRO_VOICES: frozenset[str] = frozenset(
    {
        "meher",
        "rhea",
        "zariya",
        "kareena",
        "mishka",
        "inaaya",
        "saira",
        "aarini",
        "aviraj",
        "vyom",
        "zoravar",
        "reyansh",
        "ahan",
        "sophie",
        "ellie",
        "cressida",
        "ottilie",
        "elowen",
        "seraphina",
        "sam",
        "henry",
        "benedict",
        "cormac",
        "rupert",
        "finley",
        "kaitlyn",
        "savannah",
        "amelia",
        "zoe",
        "ruby",
        "leah",
        "jenna",
        "kate",
        "molly",
        "sara",
        "fiona",
        "blake",
        "austin",
        "jack",
        "leo",
        "luke",
        "owen",
    }
)
WORD_TIMESTAMP_VOICES: frozenset[str] = frozenset(
    {"devansh", "kartik", "maithili", "liam", "avery", "meher"}
)
CLONED_VOICE_PREFIX = "voice_"


def check_voice_model(voice_id: str, model: str) -> None:
    """Reject a voice used with the other model family (§9.1 pairing rule)."""
    if not voice_id or not voice_id.strip():
        raise ValueError("voice_id must be a non-empty string")
    model = normalize_tts_model(model)
    if voice_id.startswith(CLONED_VOICE_PREFIX):
        return
    if model == LIGHTNING_V3_1 and voice_id in PRO_VOICES:
        raise ValueError(
            f"voice {voice_id!r} is a {LIGHTNING_V3_1_PRO} voice; use model="
            f"{LIGHTNING_V3_1_PRO!r} or a {LIGHTNING_V3_1} voice such as "
            f"{_allowed(sorted(STANDARD_VOICES)[:6])}"
        )
    if model == LIGHTNING_V3_2 and (voice_id in STANDARD_VOICES or voice_id in PRO_VOICES):
        raise ValueError(
            f"voice {voice_id!r} is a Lightning v3.1 voice; v3.1 and {LIGHTNING_V3_2} voices "
            "are not interchangeable: pick one from GET /waves/v1/lightning-v3.2/get_voices"
        )
    if model == LIGHTNING_V3_1_PRO and voice_id in STANDARD_VOICES:
        raise ValueError(
            f"voice {voice_id!r} is a {LIGHTNING_V3_1} voice; use model="
            f"{LIGHTNING_V3_1!r} or a {LIGHTNING_V3_1_PRO} voice such as "
            f"{_allowed(sorted(PRO_VOICES)[:6])}"
        )


# ---------------------------------------------------------------------------- STT values

PULSE_2 = "pulse-2"
"""English streaming STT with end of turn, emotion and gender on finals."""
STT_MODELS: tuple[str, ...] = ("pulse", PULSE_2)
"""Streaming models."""
STT_BATCH_MODELS: tuple[str, ...] = ("pulse", "pulse-pro")
"""Pre-recorded (``POST /waves/v1/stt/``) models."""
STT_ALL_MODELS: tuple[str, ...] = tuple(dict.fromkeys(STT_MODELS + STT_BATCH_MODELS))
STT_ENGLISH_ONLY_MODELS: tuple[str, ...] = ("pulse-pro", PULSE_2)
STT_STREAM_LANGUAGES: tuple[str, ...] = (
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
)
STT_BATCH_LANGUAGES: tuple[str, ...] = (
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
)
STT_US_ONLY_LANGUAGES = frozenset({"zh", "yue", "ja", "ko", "multi-asian"})
"""Streamed only from the US host; the India-served default host closes without a word."""
STT_INDIA_ONLY_LANGUAGES = frozenset({"ta", "te", "kn", "ml", "multi-south-indic"})
"""Streamed only from the India host (the default); the US host refuses them."""
STT_MAX_KEYWORDS = 100
"""Boosted terms per session (the stricter of the two documented limits)."""
STT_SAMPLE_RATES: tuple[int, ...] = (8000, 16000, 22050, 24000, 44100, 48000)
STT_ENCODINGS: tuple[str, ...] = ("linear16", "linear32", "alaw", "mulaw", "opus", "ogg_opus")
EOU_TIMEOUT_RANGE_MS: tuple[int, int] = (100, 10000)

LANGUAGE_NAMES: dict[str, str] = {
    "english": "en",
    "hindi": "hi",
    "marathi": "mr",
    "kannada": "kn",
    "tamil": "ta",
    "bengali": "bn",
    "gujarati": "gu",
    "telugu": "te",
    "malayalam": "ml",
    "punjabi": "pa",
    "odia": "or",
    "oriya": "or",
    "spanish": "es",
    "german": "de",
    "french": "fr",
    "italian": "it",
    "dutch": "nl",
    "swedish": "sv",
    "portuguese": "pt",
    "russian": "ru",
    "polish": "pl",
    "greek": "el",
    "finnish": "fi",
    "norwegian": "no",
    "chinese": "zh",
    "mandarin": "zh",
    "japanese": "ja",
    "korean": "ko",
    "indonesian": "id",
    "malay": "ms",
    "vietnamese": "vi",
    "turkish": "tr",
    "arabic": "ar",
    "hebrew": "he",
    "cantonese": "yue",
}


def check_choice(name: str, value: object, allowed: Iterable[object]) -> None:
    """Raise ``ValueError`` naming every allowed value when ``value`` is not one of them."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"unsupported {name} {value!r}; allowed: {_allowed(allowed)}")


def check_range(name: str, value: float, bounds: tuple[float, float]) -> None:
    """Raise ``ValueError`` when ``value`` is outside the inclusive ``bounds``."""
    low, high = bounds
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value!r}")
