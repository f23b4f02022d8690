"""STT helpers shared by the streaming and segmented services: the host for a language
and region, and where a speaker's emotion and gender go on a transcript frame."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smallest_core import REGIONS, Endpoints, catalog


def check_region(region: str) -> str:
    """``region`` if it is one of :data:`smallest_core.REGIONS` (``ValueError`` otherwise)."""
    catalog.check_choice("region", region, REGIONS)
    return region


def routed(endpoints: Endpoints, language: str, region: str) -> Endpoints:
    """The endpoints that serve ``language`` in ``region``; ``ValueError`` names the host
    that serves the language when ``region`` cannot."""
    return endpoints.for_stt_language(language, region)


def speaker_metadata(emotions: Mapping[str, float] | None, gender: str | None) -> dict[str, Any]:
    """``TranscriptionFrame.metadata`` entries: ``emotion`` (the top label), ``emotions``
    (every label's score) and ``gender``, each only when the server sent it."""
    out: dict[str, Any] = {}
    if emotions:
        out["emotion"] = max(emotions, key=lambda label: emotions[label])
        out["emotions"] = dict(emotions)
    if gender is not None:
        out["gender"] = gender
    return out


__all__ = ["check_region", "routed", "speaker_metadata"]
