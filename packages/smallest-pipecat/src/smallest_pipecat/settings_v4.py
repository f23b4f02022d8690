"""Settings of the Lightning v4 service (all of them connection options)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipecat.services.settings import TTSSettings
from pipecat.transcriptions.language import Language
from pipecat.utils.types import NOT_GIVEN, NotGiven, is_given

from smallest_core import LightningV4Options, catalog

V4_MODEL = "lightning-v4"
V4_DEFAULT_VOICE = "brannock"
V4_SAMPLE_RATES: tuple[int, ...] = (8000, 16000, 24000, 44100, 48000)
_V4_LANGUAGES = ("en", "auto")


@dataclass
class SmallestLightningV4TTSSettings(TTSSettings):
    """Settings of :class:`SmallestLightningV4TTSService`.

    ``voice``, ``language`` (``en`` or ``auto``), ``speed`` (0.5–2.0) and
    ``content_filter`` (``"reject"``/``"flag"``, ``None`` off) travel in the session's
    query string: a change opens a new session once the turns in flight are over.
    The official plugin's spelling also works: ``content_filter=True`` with
    ``content_filter_action`` (default ``"reject"``).
    """

    speed: float | NotGiven = field(default_factory=lambda: NOT_GIVEN)
    content_filter: str | bool | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    content_filter_action: str | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)


def v4_language(language: Any) -> str:
    """``en`` for English (any variant) or ``auto``; ``ValueError`` for anything else."""
    code = language.value if isinstance(language, Language) else str(language)
    code = code.lower()
    if code.split("-")[0] == "en":
        return "en"
    catalog.check_choice("language for lightning-v4", code, _V4_LANGUAGES)
    return code


def initial_v4_settings(
    settings: SmallestLightningV4TTSSettings | None,
) -> SmallestLightningV4TTSSettings:
    """The defaults (``brannock``, English, speed 1.0) with ``settings`` on top."""
    store = SmallestLightningV4TTSSettings(
        model=V4_MODEL,
        voice=V4_DEFAULT_VOICE,
        language="en",
        speed=1.0,
        content_filter=None,
        content_filter_action=None,
    )
    if settings is not None:
        store.apply_update(settings)
    if is_given(store.model) and store.model not in (V4_MODEL, "lightning_v4"):
        raise ValueError(
            f"SmallestLightningV4TTSService speaks {V4_MODEL} only, got model={store.model!r}; "
            "use SmallestTTSService for lightning_v3.1 / lightning_v3.1_pro"
        )
    store.language = v4_language(store.language)
    return store


def v4_options(settings: SmallestLightningV4TTSSettings, sample_rate: int) -> LightningV4Options:
    """Validated core options (``ValueError`` names the allowed values)."""

    def given(value: Any, default: Any) -> Any:
        return value if is_given(value) and value is not None else default

    return LightningV4Options(
        voice_id=str(given(settings.voice, V4_DEFAULT_VOICE)),
        language=v4_language(given(settings.language, "en")),
        sample_rate=sample_rate,
        speed=float(given(settings.speed, 1.0)),
        content_filter=_content_filter(settings),
    )


def _content_filter(settings: SmallestLightningV4TTSSettings) -> str | None:
    """``"reject"``/``"flag"`` or ``None``, from either spelling."""
    value = settings.content_filter if is_given(settings.content_filter) else None
    action = settings.content_filter_action if is_given(settings.content_filter_action) else None
    if value is True:
        return action or "reject"
    if value is False or value is None:
        return None
    return str(value)


__all__ = [
    "V4_DEFAULT_VOICE",
    "V4_MODEL",
    "V4_SAMPLE_RATES",
    "SmallestLightningV4TTSSettings",
    "initial_v4_settings",
    "v4_language",
    "v4_options",
]
