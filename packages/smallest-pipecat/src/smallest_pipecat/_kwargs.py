"""Refuse keyword arguments no class in the chain takes, instead of dropping them.

Pipecat's base classes accept ``**kwargs`` down to ``object``, so a misspelt or
official-plugin-only argument would vanish silently. Each service checks its extra
keywords against the ``__init__`` signatures of its bases and names where a known
value now lives.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from dataclasses import fields
from functools import cache
from typing import Any

_NAMED = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


@cache
def accepted_keywords(base: type) -> frozenset[str]:
    """Every named keyword parameter of ``__init__`` along ``base``'s MRO."""
    names: set[str] = set()
    for cls in base.__mro__:
        init = cls.__dict__.get("__init__")
        if init is None or cls is object:
            continue
        try:
            parameters = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):  # pragma: no cover - a C-level __init__
            continue
        names.update(p.name for p in parameters if p.kind in _NAMED and p.name != "self")
    return frozenset(names)


def check_kwargs(
    service: str,
    base: type,
    kwargs: Mapping[str, Any],
    *,
    settings: type | None = None,
    moved: Mapping[str, str] | None = None,
) -> None:
    """Raise ``TypeError`` for a keyword ``base`` does not take, saying where it lives.

    ``settings`` is the service's settings dataclass: its fields are set there.
    ``moved`` maps other known names to a short hint.
    """
    unknown = [name for name in kwargs if name not in accepted_keywords(base)]
    if not unknown:
        return
    hints = dict(moved or {})
    settings_fields: Iterable[str] = (
        (f.name for f in fields(settings) if f.init) if settings is not None else ()
    )
    for name in settings_fields:
        hints.setdefault(name, f"pass it as settings={service}.Settings({name}=...)")
    name = unknown[0]
    hint = hints.get(name)
    where = f": {hint}" if hint else " (check the spelling against the documented options)"
    raise TypeError(f"{service}() got an unexpected keyword argument {name!r}{where}")


__all__ = ["accepted_keywords", "check_kwargs"]
