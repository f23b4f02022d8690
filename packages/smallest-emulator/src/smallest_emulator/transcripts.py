"""How STT transcripts are chosen: a script, the synthesized-text registry, or pocketsphinx."""

from __future__ import annotations

import math
from array import array
from typing import Any

from smallest_emulator import audio
from smallest_emulator.config import EmulatorConfig
from smallest_emulator.engines.deterministic import read_key
from smallest_emulator.state import EmulatorState


def to_pcm16(data: bytes, encoding: str) -> bytes | None:
    """Convert received audio to int16 LE PCM (None for opus, which is not decoded)."""
    if encoding == "linear16":
        return data
    if encoding in ("alaw", "mulaw"):
        return audio.decode_g711(data, "ulaw" if encoding == "mulaw" else "alaw")
    if encoding == "linear32":
        arr = array("h")
        arr.frombytes(data[: len(data) - len(data) % 4])
        return arr[1::2].tobytes()  # high 16 bits of each little-endian int32
    return None


class Segment:
    """Audio heard since the previous final."""

    def __init__(self) -> None:
        self.speech_s = 0.0
        self.start_s: float | None = None
        self.keys: dict[int, int] = {}
        self.pcm = bytearray()

    @property
    def has_speech(self) -> bool:
        """Whether any speech was heard in this segment."""
        return self.start_s is not None


class Transcriber:
    """Chooses the text of each utterance (segment) for one STT session.

    * ``script`` mode (``transcript`` configured): utterance N of the script is the text of the
      N-th segment that contained speech.
    * no script: the deterministic TTS engine's key is read back from the audio and the text
      most recently synthesized with that key is returned ("" if unknown).
    * ``stt_engine="pocketsphinx"``: the segment's audio is decoded by pocketsphinx.
    """

    def __init__(self, state: EmulatorState, cfg: EmulatorConfig, sample_rate: int) -> None:
        self.state, self.cfg = state, cfg
        self.script = list(cfg.transcript)
        self.index = 0
        self.sample_rate = sample_rate

    def observe(self, seg: Segment, pcm: bytes | None, speech: bool) -> None:
        """Feed one chunk of received audio."""
        if pcm is None:
            return
        if self.cfg.stt_engine == "pocketsphinx":
            seg.pcm += pcm
        elif speech and not self.script:
            k = read_key(pcm)
            if k is not None:
                seg.keys[k] = seg.keys.get(k, 0) + 1

    def text(self, seg: Segment) -> str:
        """The full text of the segment's utterance (without consuming it)."""
        if not seg.has_speech:
            return ""
        if self.cfg.stt_engine == "pocketsphinx":
            return ""
        if self.script:
            return self.script[self.index] if self.index < len(self.script) else ""
        # A final covers everything heard since the previous one (§6.4): every known
        # synthesis heard in this segment, in the order it was heard.
        texts = [self.state.registry[k] for k in seg.keys if k in self.state.registry]
        return " ".join(t.strip() for t in texts if t.strip())

    async def final_text(self, seg: Segment) -> str:
        """The text for a final, consuming a script utterance."""
        if not seg.has_speech:
            return ""
        if self.cfg.stt_engine == "pocketsphinx":
            import asyncio

            from smallest_emulator.engines import pocketsphinx_recognizer

            return await asyncio.to_thread(
                pocketsphinx_recognizer.recognize,
                bytes(seg.pcm),
                self.sample_rate,
                list(self.cfg.transcript) or list(self.state.registry.values()),
            )
        text = self.text(seg)
        if self.script:
            self.index += 1
        return text

    def heard_words(self, seg: Segment) -> list[str]:
        """Words heard so far, proportional to speech duration (interims)."""
        words = self.text(seg).split()
        if not words or self.cfg.stt_engine == "pocketsphinx":
            return []
        k = min(len(words), math.ceil(seg.speech_s * 1000 / max(1, self.cfg.stt_word_ms)))
        return words[:k]


def word_objects(
    words: list[str], start_s: float, cfg: EmulatorConfig, diarize: bool
) -> list[dict[str, Any]]:
    """``words[]`` entries with times spaced ``stt_word_ms`` apart from ``start_s``."""
    step = cfg.stt_word_ms / 1000
    out: list[dict[str, Any]] = []
    for i, w in enumerate(words):
        item: dict[str, Any] = {
            "word": w,
            "start": round(start_s + i * step, 3),
            "end": round(start_s + i * step + step * 0.8, 3),
            "confidence": 0.99,
        }
        if diarize:
            item["speaker"] = 0
            item["speaker_confidence"] = 0.95
        out.append(item)
    return out
