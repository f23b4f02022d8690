"""Voice catalogue (§7.1, §9.1): validation, ``get_voices`` and ``get-all-models`` bodies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smallest_emulator.voice_catalog import LEGACY_ROWS, PRO_ROWS, STANDARD_ROWS, V32_ROWS, Row

STANDARD_MODEL = "lightning_v3.1"
PRO_MODEL = "lightning_v3.1_pro"
LEGACY_MODEL = "lightning"
V32_MODEL = "lightning_v3.2"
TTS_MODELS = (STANDARD_MODEL, PRO_MODEL)
RETIRED_MODELS = ("lightning-v2", "lightning-large")
#: Per-model URL segments still served (VideoSDK's per-model WS and HTTP routes, §3.2 / §4.7).
PER_MODEL_PATHS = ("lightning-v3.1", "lightning-v3.1-pro", "lightning")
#: ``get_voices`` path segment -> the pool it lists.
VOICE_POOLS = {
    "lightning-v3.1": STANDARD_MODEL,
    "lightning-v3.1-pro": PRO_MODEL,
    "lightning-v3.2": V32_MODEL,
}

#: Voices for which word timestamps are documented (§9.1, model cards' word-event matrix).
DOCUMENTED_WORD_TIMESTAMP_VOICES = frozenset(
    {"devansh", "kartik", "maithili", "liam", "avery", "meher"}
)
#: Languages in which those voices emit word events (English, Hindi).
WORD_TIMESTAMP_LANGUAGES = frozenset({"en", "hi"})


@dataclass(frozen=True)
class Voice:
    """One catalogue entry."""

    voice_id: str
    display_name: str
    model: str  # STANDARD_MODEL, PRO_MODEL, LEGACY_MODEL or V32_MODEL
    languages: tuple[str, ...]
    accent: str
    gender: str
    age: str = "adult"
    emotions: tuple[str, ...] = field(default_factory=tuple)
    usecases: tuple[str, ...] = ("conversational",)

    def tags(self) -> dict[str, Any]:
        """The ``tags`` object (language tags as full names)."""
        return {
            "language": list(self.languages),
            "accent": self.accent,
            "gender": self.gender,
            "age": self.age,
            "emotions": list(self.emotions),
            "usecases": list(self.usecases),
        }

    def as_json(self) -> dict[str, Any]:
        """The §7.1 ``get_voices`` entry."""
        return {"voiceId": self.voice_id, "displayName": self.display_name, "tags": self.tags()}

    def as_v32_json(self) -> dict[str, Any]:
        """The ``lightning-v3.2/get_voices`` entry (v3.2 spec shape)."""
        return {
            "voice_id": self.voice_id,
            "name": self.display_name,
            "language": self.languages[0] if self.languages else "",
            "gender": self.gender,
            "accent": self.accent,
            "supported_emotions": ["neutral", "sad", "happy", "angry"],
        }

    def as_catalog_json(self) -> dict[str, Any]:
        """The ``voice/get-all-models`` entry (voice-catalog spec shape)."""
        return {
            "_id": f"{self.model}:{self.voice_id}",
            "voiceId": self.voice_id,
            "displayName": self.display_name,
            "description": f"{self.display_name}, {self.accent} {self.gender} ({self.model})",
            "audioPreview": f"https://emulator.invalid/previews/{self.voice_id}.wav",
            "tags": {
                "age": self.age,
                "emotions": list(self.emotions),
                "language": list(self.languages),
            },
        }


#: Ages given by the get-voices spec example; other voices are tagged ``adult``.
_SPEC_AGES = {"avery": "young", "liam": "young", "devansh": "young"}


def _expand(rows: tuple[Row, ...], model: str) -> list[Voice]:
    out = []
    for ids, langs, accent, gender in rows:
        for vid in ids.split():
            languages = tuple(langs.split(","))
            age = _SPEC_AGES.get(vid, "adult")
            out.append(Voice(vid, vid.capitalize(), model, languages, accent, gender, age))
    return out


VOICES: tuple[Voice, ...] = (
    *_expand(STANDARD_ROWS, STANDARD_MODEL),
    *_expand(PRO_ROWS, PRO_MODEL),
    *_expand(LEGACY_ROWS, LEGACY_MODEL),
    *_expand(V32_ROWS, V32_MODEL),
)
VOICES_BY_ID: dict[str, Voice] = {v.voice_id: v for v in VOICES}


def is_clone_id(voice_id: str) -> bool:
    """``voice_*`` ids are clones (§7.2)."""
    return voice_id.startswith("voice_") and len(voice_id) > 6


def is_known_voice(voice_id: str, family: str = STANDARD_MODEL) -> bool:
    """True for a catalogue voice of ``family`` and any clone id.

    Standard and Pro voices are accepted with either v3.1 model (the API does not reject
    mismatched pairings, §9.1); the legacy v1 voices only on the legacy ``lightning`` route.
    """
    if is_clone_id(voice_id):
        return True
    v = VOICES_BY_ID.get(voice_id)
    if v is None:
        return False
    if family == LEGACY_MODEL:
        return v.model == LEGACY_MODEL
    return v.model in TTS_MODELS


def voice_model(voice_id: str) -> str | None:
    """The model family a voice belongs to (None for clones and unknown voices)."""
    v = VOICES_BY_ID.get(voice_id)
    return v.model if v else None


def get_voices_body(pool: str = STANDARD_MODEL, *, union: bool = False) -> dict[str, Any]:
    """Body of ``GET /waves/v1/{model}/get_voices``: one pool, or Standard + Pro (§7.1)."""
    models = TTS_MODELS if union and pool == STANDARD_MODEL else (pool,)
    voices = [v for v in VOICES if v.model in models]
    if pool == V32_MODEL:
        return {"voices": [v.as_v32_json() for v in voices]}
    return {"voices": [v.as_json() for v in voices]}


def voice_catalog_body() -> dict[str, Any]:
    """Body of ``GET /waves/v1/voice/get-all-models`` (every current model's voices)."""
    return {"voices": [v.as_catalog_json() for v in VOICES if v.model != LEGACY_MODEL]}
