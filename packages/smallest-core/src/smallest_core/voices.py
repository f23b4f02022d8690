"""Voices: the typed record, the ``get_voices`` response parser, a built-in seed catalogue."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from smallest_core import catalog
from smallest_core.errors import ProtocolError, decode_json, error_from_http


@dataclass(frozen=True, slots=True)
class Voice:
    """A Lightning voice."""

    id: str
    name: str
    languages: tuple[str, ...]
    """ISO codes where the name is known (``"english"`` → ``"en"``), else as listed."""
    gender: str | None = None
    accent: str | None = None
    model: str | None = None
    """``lightning_v3.1`` / ``lightning_v3.1_pro`` when known."""


def _language_code(name: str) -> str:
    lowered = name.strip().lower()
    return catalog.LANGUAGE_NAMES.get(lowered, lowered)


def _model_for(voice_id: str) -> str | None:
    if voice_id in catalog.PRO_VOICES:
        return catalog.LIGHTNING_V3_1_PRO
    if voice_id in catalog.STANDARD_VOICES:
        return catalog.LIGHTNING_V3_1
    return None


def _voice(item: Mapping[str, Any]) -> Voice | None:
    voice_id = item.get("voiceId") or item.get("voice_id") or item.get("id")
    if not isinstance(voice_id, str) or not voice_id:
        return None
    name = item.get("displayName") or item.get("name") or voice_id
    tags = item.get("tags")
    tags = tags if isinstance(tags, Mapping) else {}
    langs = tags.get("language", [])
    if isinstance(langs, str):
        langs = [langs]
    languages = tuple(_language_code(x) for x in langs if isinstance(x, str))
    gender = tags.get("gender")
    accent = tags.get("accent")
    return Voice(
        id=voice_id,
        name=str(name),
        languages=languages,
        gender=gender if isinstance(gender, str) else None,
        accent=accent if isinstance(accent, str) else None,
        model=_model_for(voice_id),
    )


def parse_voices(status: int, body: bytes, headers: Mapping[str, str] | None = None) -> list[Voice]:
    """Parse ``GET /waves/v1/{model}/get_voices``; non-2xx raises ``SmallestError``."""
    if not 200 <= status < 300:
        raise error_from_http(status, body, headers)
    try:
        msg = decode_json(body)
    except ProtocolError as exc:
        raise ProtocolError(f"voices response is not usable JSON: {exc.message}") from exc
    items = msg.get("voices") if isinstance(msg, dict) else msg
    if not isinstance(items, list):
        raise ProtocolError("voices response has no 'voices' list")
    voices = [_voice(i) for i in items if isinstance(i, Mapping)]
    return [v for v in voices if v is not None]


def builtin_voices() -> list[Voice]:
    """The seed catalogue shipped with the package (names only; use the API for details)."""
    standard = [
        Voice(v, v.title(), (), model=catalog.LIGHTNING_V3_1)
        for v in sorted(catalog.STANDARD_VOICES)
    ]
    pro = [
        Voice(v, v.title(), (), model=catalog.LIGHTNING_V3_1_PRO)
        for v in sorted(catalog.PRO_VOICES)
    ]
    return standard + pro
