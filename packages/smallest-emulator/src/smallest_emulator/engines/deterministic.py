"""Deterministic speech-shaped PCM with exact, known word positions.

Layout (all durations divided by the voice ``speed``):

* the text is split on whitespace; each word (verbatim, punctuation included) lasts
  ``CHAR_S`` seconds per character;
* after every word comes a silence: ``GAP_S`` normally, ``CLAUSE_GAP_S`` after ``, ; :``,
  ``SENTENCE_GAP_S`` after ``. ! ?`` (the last word is followed by its gap too).

Sample values at absolute sample index ``i`` (counted from the start of this synthesis):

* speech: ``(+1 if i is even else -1) * (4096 + ((i % 16) << 10) + key)`` — loud, alternating
  sign, a 16-step position counter in bits 10..13 and a 10-bit ``key`` in the low bits;
* silence: ``(i % 16) - 8`` (peak 8, far below any VAD threshold).

``key = zlib.crc32(f"{voice_id}|{text}") & 0x3FF`` unless given, so audio of different texts
(contexts) differs and any dropped, duplicated, reordered or foreign chunk shows up in a byte
comparison; the emulator's STT recognises this audio by reading the key back (see ``read_key``).
"""

from __future__ import annotations

import re
import sys
import zlib
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

CHAR_S = 0.06
GAP_S = 0.08
CLAUSE_GAP_S = 0.15
SENTENCE_GAP_S = 0.30
PERIOD = 16
SPEECH_BASE = 4096
_WORD_RE = re.compile(r"\S+")


@dataclass(frozen=True)
class WordSpan:
    """One word with its exact sample span ``[start_sample, end_sample)``."""

    index: int
    word: str
    start_sample: int
    end_sample: int
    sample_rate: int

    @property
    def start(self) -> float:
        """Start in seconds."""
        return self.start_sample / self.sample_rate

    @property
    def end(self) -> float:
        """End in seconds."""
        return self.end_sample / self.sample_rate


@dataclass(frozen=True)
class Synthesis:
    """Result of a synthesis: int16 LE mono PCM and word spans."""

    pcm: bytes
    words: list[WordSpan]
    sample_rate: int
    key: int

    @property
    def samples(self) -> int:
        """Number of samples."""
        return len(self.pcm) // 2

    @property
    def duration(self) -> float:
        """Duration in seconds."""
        return self.samples / self.sample_rate


def text_key(text: str, voice_id: str = "") -> int:
    """The default 10-bit key for ``text`` spoken by ``voice_id``."""
    return zlib.crc32(f"{voice_id}|{text}".encode()) & 0x3FF


@lru_cache(maxsize=2048)
def _pattern(key: int, speech: bool) -> bytes:
    vals = array("h")
    for i in range(PERIOD * 2):
        if speech:
            mag = SPEECH_BASE + ((i % PERIOD) << 10) + key
            vals.append(mag if i % 2 == 0 else -mag)
        else:
            vals.append((i % PERIOD) - 8)
    if sys.byteorder != "little":
        vals.byteswap()
    return vals.tobytes()


def _fill(key: int, speech: bool, start: int, count: int) -> bytes:
    """Samples ``[start, start+count)`` of the speech/silence pattern, as bytes."""
    if count <= 0:
        return b""
    pat = _pattern(key, speech)
    off = start % PERIOD
    reps = (off + count) // PERIOD + 2
    # Tile the 16-sample period; the pattern holds 2 periods so tiling stays aligned.
    tiled = pat[: PERIOD * 2] * reps
    return tiled[off * 2 : (off + count) * 2]


def _gap_after(word: str) -> float:
    last = word[-1]
    if last in ".!?":
        return SENTENCE_GAP_S
    if last in ",;:":
        return CLAUSE_GAP_S
    return GAP_S


def synthesize(
    text: str,
    sample_rate: int = 24000,
    speed: float = 1.0,
    *,
    voice_id: str = "",
    key: int | None = None,
    first_index: int = 0,
) -> Synthesis:
    """Synthesize ``text``; pure function of its arguments.

    ``first_index`` numbers the words (the ``id`` of word_timestamp frames). Whitespace-only
    text gives empty audio and no words.
    """
    if key is None:
        key = text_key(text, voice_id)
    speed = speed if speed > 0 else 1.0
    per_char = max(1, round(sample_rate * CHAR_S / speed))
    parts: list[bytes] = []
    words: list[WordSpan] = []
    pos = 0
    for n, m in enumerate(_WORD_RE.finditer(text)):
        word = m.group(0)
        length = per_char * len(word)
        parts.append(_fill(key, True, pos, length))
        words.append(WordSpan(first_index + n, word, pos, pos + length, sample_rate))
        pos += length
        gap = max(1, round(sample_rate * _gap_after(word) / speed))
        parts.append(_fill(key, False, pos, gap))
        pos += gap
    return Synthesis(b"".join(parts), words, sample_rate, key)


def releases_pcm(
    releases: Iterable[str], sample_rate: int = 24000, speed: float = 1.0, *, voice_id: str = ""
) -> bytes:
    """The audio a WebSocket context delivers for its releases (``TtsRecord.releases``):
    each synthesized in turn, word numbering continued across them."""
    out, index = b"", 0
    for text in releases:
        syn = synthesize(text, sample_rate, speed, voice_id=voice_id, first_index=index)
        index += len(syn.words)
        out += syn.pcm
    return out


def read_key(pcm: bytes) -> int | None:
    """Read back the key from deterministic speech samples (None if no speech found)."""
    arr = array("h")
    arr.frombytes(pcm[: len(pcm) - (len(pcm) % 2)])
    if sys.byteorder != "little":
        arr.byteswap()
    counts: dict[int, int] = {}
    for v in arr[::37][:64]:
        mag = -v if v < 0 else v
        if mag >= SPEECH_BASE:
            k = (mag - SPEECH_BASE) & 0x3FF
            counts[k] = counts.get(k, 0) + 1
    if not counts:
        return None
    return max(counts.items(), key=lambda kv: kv[1])[0]
