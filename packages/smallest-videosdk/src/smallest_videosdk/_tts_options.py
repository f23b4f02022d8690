""":class:`SmallestAITTS` arguments to validated :class:`TTSOptions`.

The official plugin's names are mapped here (``max_buffer_flush_ms``, ``sentence_streaming``,
the ``lightning-v2``-only ``consistency``/``similarity``/``enhancement``), so the
constructor stays a list of arguments.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from smallest_core import TTSOptions, check_duration, default_voice

logger = logging.getLogger("smallest_videosdk.tts")

LEGACY_ONLY_DEFAULTS = {"consistency": 0.5, "similarity": 0.0, "enhancement": 1.0}


def tts_options(
    *,
    model: str,
    voice_id: str | None,
    max_buffer_delay_ms: int | None,
    max_buffer_flush_ms: int,
    sentence_streaming: bool,
    legacy: tuple[float, float, float],
    pronunciation_dicts: Sequence[str] = (),
    **fields: Any,
) -> TTSOptions:
    """The validated options; ``ValueError`` names what is allowed."""
    if voice_id is None:
        voice_id = default_voice(model)
    if max_buffer_delay_ms is None:
        if max_buffer_flush_ms > 0:
            max_buffer_delay_ms = max_buffer_flush_ms
        elif not sentence_streaming:
            max_buffer_delay_ms = 0
    if isinstance(pronunciation_dicts, str):
        raise ValueError("pronunciation_dicts must be a list of dictionary ids, not one string")
    options = TTSOptions(
        voice_id=voice_id,
        model=model,
        max_buffer_delay_ms=max_buffer_delay_ms,
        pronunciation_dicts=tuple(pronunciation_dicts),
        **fields,
    )
    given = zip(LEGACY_ONLY_DEFAULTS.items(), legacy, strict=True)
    ignored = [name for (name, default), value in given if value != default]
    if ignored:
        logger.warning("%s only applied to the retired lightning-v2 and are ignored", ignored)
    return options


def whole_seconds(name: str, value: float | None) -> int | None:
    """``value`` as whole seconds > 0 (``None`` stays ``None``); ``ValueError`` otherwise."""
    if value is None:
        return None
    check_duration(name, value)
    if int(value) != value:
        raise ValueError(f"{name} must be whole seconds, got {value!r}")
    return int(value)
