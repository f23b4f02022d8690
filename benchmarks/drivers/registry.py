"""Every TTS driver, by framework and implementation, imported on first use.

A worker process measures one framework: importing the others would put their modules on
its heap, and every full garbage collection (a pause for all streams) would walk them too.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from drivers.base import TTSDriver

FRAMEWORKS = ("livekit", "pipecat", "videosdk")


class _Drivers(Mapping[str, type[TTSDriver]]):
    def __init__(self, framework: str) -> None:
        self.framework = framework

    def __getitem__(self, impl: str) -> type[TTSDriver]:
        module = importlib.import_module(f"drivers.{self.framework}")
        cls: type[TTSDriver] = {"ours": module.Ours, "official": module.Official}[impl]
        return cls

    def __iter__(self) -> Iterator[str]:
        return iter(("ours", "official"))

    def __len__(self) -> int:
        return 2


TTS_DRIVERS: dict[str, Mapping[str, type[TTSDriver]]] = {fw: _Drivers(fw) for fw in FRAMEWORKS}
