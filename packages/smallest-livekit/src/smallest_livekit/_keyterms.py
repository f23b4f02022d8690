"""LiveKit's session keyterms merged into Pulse ``keywords`` (the caller's own come first)."""

from __future__ import annotations

from collections.abc import Iterable

from smallest_core import catalog

from .log import logger

_FORBIDDEN = (",", ":")


def merge_keyterms(
    keywords: tuple[tuple[str, float], ...], keyterms: Iterable[str]
) -> tuple[tuple[str, float], ...]:
    """``keywords`` then every usable keyterm not already there, up to the per-session cap.

    A keyterm Pulse cannot carry (empty, holding ``,`` or ``:``) and any beyond the cap are
    left out with a warning: the framework's list must never break a running stream.
    """
    merged = list(keywords)
    seen = {term.casefold() for term, _ in keywords}
    skipped: list[str] = []
    for raw in keyterms:
        term = raw.strip()
        if not term or any(ch in term for ch in _FORBIDDEN):
            skipped.append(raw)
            continue
        if term.casefold() in seen:
            continue
        if len(merged) >= catalog.STT_MAX_KEYWORDS:
            skipped.append(raw)
            continue
        seen.add(term.casefold())
        merged.append((term, 1.0))
    if skipped:
        logger.warning(
            "Pulse takes at most %d keywords without ',' or ':'; left out %d keyterm(s)",
            catalog.STT_MAX_KEYWORDS,
            len(skipped),
        )
    return tuple(merged)
