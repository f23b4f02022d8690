"""Shared bits of the TTS tests."""

from __future__ import annotations

from emulator_helpers import emulator_key
from pipecat.frames.frames import TTSAudioRawFrame
from pipecat.transcriptions.language import Language

from smallest_emulator import Emulator
from smallest_pipecat import SmallestTTSService

VOICE = "liam"
"""A documented word-timestamp voice: every emulator profile times its words."""


def key(profile: str | None = None, **overrides: object) -> str:
    """An emulator key (``profile=`` omitted: the emulator's own) with per-connection overrides."""
    return emulator_key("sk_test", profile, **overrides)


def make_tts(
    emu: Emulator, *, key: str = "sk_test", voice: str = VOICE, **kwargs: object
) -> SmallestTTSService:
    return SmallestTTSService(
        api_key=key,
        base_url=emu.base_url,
        settings=SmallestTTSService.Settings(voice=voice, language=Language.EN),
        **kwargs,  # type: ignore[arg-type]
    )


def synthesized(emu: Emulator, text: str) -> bytes:
    """The PCM the emulator produced for ``text`` (the last context that spoke it)."""
    records = [r for r in emu.tts_log if r.transport == "ws" and r.text.strip() == text]
    assert records, f"the emulator never received {text!r}"
    return bytes(records[-1].pcm)


def is_audio_of(frame: object, context_id: str) -> bool:
    return isinstance(frame, TTSAudioRawFrame) and frame.context_id == context_id
