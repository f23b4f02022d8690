"""Shared mutable server state: config, logs, counters, the synthesized-text registry."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from smallest_emulator.config import EmulatorConfig
from smallest_emulator.records import SttRecord, TtsRecord, WsCounters


@dataclass
class EmulatorState:
    """Everything handlers share. ``config`` may be replaced or mutated at any time."""

    config: EmulatorConfig
    tts_log: list[TtsRecord] = field(default_factory=list)
    stt_log: list[SttRecord] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    ws_connections: WsCounters = field(default_factory=WsCounters)
    #: deterministic-engine key -> most recent text synthesized with it (STT round trips).
    registry: dict[int, str] = field(default_factory=dict)
    inflight_syntheses: int = 0
    open_stt_sessions: int = 0
    open_sockets: set[web.WebSocketResponse] = field(default_factory=set)
    #: voice clones by ``voiceId`` and pronunciation dictionaries by ``id`` (§7.2, §7.3).
    clones: dict[str, dict[str, Any]] = field(default_factory=dict)
    pronunciation_dicts: dict[str, dict[str, Any]] = field(default_factory=dict)
    shutdown: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: Any = field(default_factory=itertools.count)

    def next_id(self, prefix: str) -> str:
        """A short unique id such as ``ws_3``."""
        return f"{prefix}_{next(self._ids):06d}"

    def reset(self) -> None:
        """Clear logs, counters and the registry (config untouched)."""
        self.tts_log.clear()
        self.stt_log.clear()
        self.requests.clear()
        self.registry.clear()
        self.ws_connections = WsCounters()


#: Application key of the shared state.
STATE_KEY = web.AppKey("smallest_emulator_state", EmulatorState)

_RequestKey: Any = getattr(web, "RequestKey", None)


def _request_key(name: str, kind: type) -> Any:
    return _RequestKey(name, kind) if _RequestKey is not None else name


#: Per-request storage keys: effective config, connection id, extra log text.
CFG_KEY: Any = _request_key("smallest_emulator_cfg", EmulatorConfig)
CONN_KEY: Any = _request_key("smallest_emulator_conn", str)
LOG_KEY: Any = _request_key("smallest_emulator_log", str)
#: Values the request checks (:mod:`smallest_emulator.checks`) validated for the handler:
#: the JSON body, its TTS params, the STT params, the WS idle timeout, a v4 in-socket refusal.
BODY_KEY: Any = _request_key("smallest_emulator_body", dict)
TTS_PARAMS_KEY: Any = _request_key("smallest_emulator_tts_params", object)
STT_PARAMS_KEY: Any = _request_key("smallest_emulator_stt_params", object)
TIMEOUT_KEY: Any = _request_key("smallest_emulator_timeout", float)
V4_REFUSAL_KEY: Any = _request_key("smallest_emulator_v4_refusal", object)
