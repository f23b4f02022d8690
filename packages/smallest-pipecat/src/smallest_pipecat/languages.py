"""Pipecat ``Language`` values to the codes Lightning TTS and Pulse STT accept.

Every ``Language`` member maps through its base code (``en-US`` → ``en``); a language
the models do not accept raises ``ValueError`` naming the allowed values, instead of
being sent to the server and failing there.
"""

from __future__ import annotations

from pipecat.transcriptions.language import Language

from smallest_core import catalog

_BASE_ALIASES = {"nb": "no", "nn": "no"}
_STT_REGIONAL = {"zh-HK": "yue"}


def _base_code(language: Language | str) -> str:
    value = language.value if isinstance(language, Language) else str(language)
    if value in _STT_REGIONAL:
        return value
    base = value.split("-")[0].lower()
    return _BASE_ALIASES.get(base, base)


def tts_language(language: Language | str, model: str | None = None) -> str:
    """The Lightning code for ``language`` (``ValueError`` if ``model`` cannot speak it)."""
    allowed = catalog.TTS_LANGUAGES[
        catalog.normalize_tts_model(model or catalog.LIGHTNING_V3_1_PRO)
    ]
    raw = language.value if isinstance(language, Language) else str(language)
    if raw in allowed:
        return raw
    code = _base_code(language)
    if code not in allowed:
        raise ValueError(
            f"language {raw!r} is not supported by Smallest TTS"
            f" ({model or 'any model'}); allowed: {', '.join(allowed)}"
        )
    return code


def stt_language(language: Language | str) -> str:
    """The Pulse streaming code for ``language`` (``ValueError`` if it is not accepted)."""
    allowed = catalog.STT_STREAM_LANGUAGES
    raw = language.value if isinstance(language, Language) else str(language)
    if raw in allowed:
        return raw
    code = _STT_REGIONAL.get(raw) or _base_code(language)
    if code not in allowed:
        raise ValueError(
            f"language {raw!r} is not supported by Smallest STT streaming; "
            f"allowed: {', '.join(allowed)}"
        )
    return code


def language_from_code(code: str | None) -> Language | None:
    """The ``Language`` for a code the server reports (``None`` if there is none)."""
    if not code:
        return None
    try:
        return Language(code)
    except ValueError:
        try:
            return Language(code.split("-")[0].lower())
        except ValueError:
            return None
