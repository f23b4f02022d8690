"""Every driver by framework, its module imported on first use."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .base import IMPLS, Driver

FRAMEWORKS = ("livekit", "pipecat", "videosdk")
_CLASSES = {"livekit": "LiveKitDriver", "pipecat": "PipecatDriver", "videosdk": "VideoSDKDriver"}


def driver_class(framework: str) -> type[Driver]:
    """The driver class of ``framework`` (importing that framework only)."""
    if framework not in _CLASSES:
        raise ValueError(f"framework must be one of {FRAMEWORKS}, not {framework!r}")
    module = importlib.import_module(f"{__package__}.{framework}")
    cls: type[Driver] = getattr(module, _CLASSES[framework])
    return cls


def driver(
    framework: str, impl: str = "ours", base_url: str = "", api_key: str = "", **kw: Any
) -> Driver:
    """A driver of ``framework`` speaking through ``impl`` (``ours`` or ``official``)."""
    return driver_class(framework)(base_url, api_key, impl=impl, **kw)


class _Lazy(Mapping[str, Any]):
    def __init__(self, keys: tuple[str, ...], load: Callable[[str], Any]) -> None:
        self._keys, self._load, self._cache = keys, load, {}

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys:
            raise KeyError(key)
        if key not in self._cache:
            self._cache[key] = self._load(key)
        return self._cache[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


DRIVERS: Mapping[str, Driver] = _Lazy(FRAMEWORKS, lambda fw: driver_class(fw)())
"""One conformance driver (ours, no plugin held) per framework."""


def _makers(framework: str) -> Mapping[str, Callable[..., Driver]]:
    return _Lazy(IMPLS, lambda impl: functools.partial(driver, framework, impl))


TTS_DRIVERS: Mapping[str, Mapping[str, Callable[..., Driver]]] = _Lazy(FRAMEWORKS, _makers)
"""``TTS_DRIVERS[framework][impl](base_url, api_key, words=False)``: a driver to hold open."""
