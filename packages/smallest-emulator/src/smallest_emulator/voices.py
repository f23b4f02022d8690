"""Built-in voice catalogue (§7.1, §9.1) used for validation and ``get_voices``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STANDARD_MODEL = "lightning_v3.1"
PRO_MODEL = "lightning_v3.1_pro"
TTS_MODELS = (STANDARD_MODEL, PRO_MODEL)
RETIRED_MODELS = ("lightning-v2", "lightning-large")
#: Per-model URL segments still served (VideoSDK's per-model WS and HTTP routes, §3.2 / §4.7).
PER_MODEL_PATHS = ("lightning-v3.1", "lightning-v3.1-pro", "lightning")

#: Voices for which word timestamps are documented (§9.1).
DOCUMENTED_WORD_TIMESTAMP_VOICES = frozenset(
    {"devansh", "kartik", "maithili", "liam", "avery", "meher"}
)


@dataclass(frozen=True)
class Voice:
    """One catalogue entry."""

    voice_id: str
    display_name: str
    model: str  # STANDARD_MODEL, PRO_MODEL or "lightning" (legacy v1)
    languages: tuple[str, ...]
    accent: str
    gender: str
    age: str = "adult"
    emotions: tuple[str, ...] = field(default_factory=tuple)
    usecases: tuple[str, ...] = ("conversational",)

    def as_json(self) -> dict[str, Any]:
        """The §7.1 ``get_voices`` entry (language tags as full names)."""
        return {
            "voiceId": self.voice_id,
            "displayName": self.display_name,
            "tags": {
                "language": list(self.languages),
                "accent": self.accent,
                "gender": self.gender,
                "age": self.age,
                "emotions": list(self.emotions),
                "usecases": list(self.usecases),
            },
        }


def _v(vid: str, model: str, langs: str, accent: str, gender: str) -> Voice:
    return Voice(vid, vid.capitalize(), model, tuple(langs.split(",")), accent, gender)


_S, _P = STANDARD_MODEL, PRO_MODEL
VOICES: tuple[Voice, ...] = (
    # lightning_v3.1 (standard)
    _v("magnus", _S, "english", "american", "male"),
    _v("olivia", _S, "english", "american", "female"),
    _v("daniel", _S, "english", "american", "male"),
    _v("quinn", _S, "english", "american", "female"),
    _v("mia", _S, "english", "american", "female"),
    _v("rachel", _S, "english", "american", "female"),
    _v("nicole", _S, "english", "american", "female"),
    _v("elizabeth", _S, "english", "british", "female"),
    _v("jordan", _S, "english", "american", "male"),
    _v("sophia", _S, "english", "american", "female"),
    _v("devansh", _S, "english,hindi", "indian", "male"),
    _v("kartik", _S, "english,hindi", "indian", "male"),
    _v("maithili", _S, "english,hindi,marathi", "indian", "female"),
    _v("liam", _S, "english", "american", "male"),
    _v("avery", _S, "english", "american", "female"),
    _v("sunidhi", _S, "hindi,english", "indian", "female"),
    _v("sameera", _S, "hindi,english", "indian", "female"),
    _v("neel", _S, "hindi,english", "indian", "male"),
    _v("mihir", _S, "hindi,gujarati", "indian", "male"),
    _v("aarush", _S, "hindi,english", "indian", "male"),
    _v("daniella", _S, "spanish", "mexican", "female"),
    _v("marcos", _S, "spanish", "spanish", "male"),
    _v("jeevan", _S, "tamil", "indian", "male"),
    _v("rajeshwari", _S, "tamil", "indian", "female"),
    # lightning_v3.1_pro
    _v("meher", _P, "english,hindi", "indian", "female"),
    _v("rhea", _P, "english,hindi", "indian", "female"),
    _v("zariya", _P, "english,hindi", "indian", "female"),
    _v("kareena", _P, "english,hindi", "indian", "female"),
    _v("aviraj", _P, "english,hindi", "indian", "male"),
    _v("sophie", _P, "english", "british", "female"),
    _v("ellie", _P, "english", "british", "female"),
    _v("henry", _P, "english", "british", "male"),
    _v("kaitlyn", _P, "english", "american", "female"),
    _v("savannah", _P, "english", "american", "female"),
    _v("amelia", _P, "english", "american", "female"),
    _v("blake", _P, "english", "american", "male"),
    _v("austin", _P, "english", "american", "male"),
    _v("jack", _P, "english", "american", "male"),
    _v("leo", _P, "english", "american", "male"),
    # legacy lightning (v1)
    _v("emily", "lightning", "english", "american", "female"),
)

VOICES_BY_ID: dict[str, Voice] = {v.voice_id: v for v in VOICES}


def is_known_voice(voice_id: str) -> bool:
    """True for catalogue voices and any ``voice_*`` clone id (§7.2)."""
    return voice_id in VOICES_BY_ID or (voice_id.startswith("voice_") and len(voice_id) > 6)


def voice_model(voice_id: str) -> str | None:
    """The model family a voice belongs to (None for clones)."""
    v = VOICES_BY_ID.get(voice_id)
    return v.model if v else None


def get_voices_body() -> dict[str, Any]:
    """Body of ``GET /waves/v1/lightning-v3.1/get_voices`` (standard + Pro, no Pro flag, §7.1)."""
    return {"voices": [v.as_json() for v in VOICES if v.model in TTS_MODELS]}
