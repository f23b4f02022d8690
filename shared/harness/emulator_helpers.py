"""Helpers every suite and the benchmarks share to talk about the emulator.

The API-key grammar, ``<secret>[;profile=<name>][;<option>=<value>...]``: the emulator
accepts any secret and reads a profile and per-connection overrides from the rest
(``smallest_emulator.parse_overrides`` is the reader). Values are percent-encoded (the
emulator decodes them): a key holds no whitespace. And the truth tests compare against:
the audio the emulator's deterministic engine makes for what a context received.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from smallest_emulator import TtsRecord

__all__ = ["emulator_key", "expected_pcm"]


def emulator_key(secret: str, profile: str | None = None, **overrides: Any) -> str:
    """``secret`` selecting ``profile`` (none: the server's) with per-connection overrides."""
    parts = [secret]
    if profile is not None:
        parts.append(f"profile={profile}")
    parts += [f"{k}={quote(str(v), safe='|,:')}" for k, v in overrides.items()]
    return ";".join(parts)


def expected_pcm(record: TtsRecord) -> bytes:
    """The record's audio recomputed from its releases by the deterministic engine."""
    from smallest_emulator.engines.deterministic import releases_pcm  # not in a bench worker

    out = releases_pcm(record.releases, record.sample_rate, voice_id=record.voice_id)
    assert out == bytes(record.pcm), "the emulator's record differs from its engine"
    return out
