"""Optional real recognizer: pocketsphinx (extra ``speech``), lazily imported.

When expected phrases are known (the configured transcript script, or texts this emulator
synthesized), a JSGF grammar of those phrases constrains the search, which is what makes
pocketsphinx usable on synthetic speech; otherwise its default en-us language model is used.
"""

from __future__ import annotations

import re
import threading
from array import array
from typing import Any

_lock = threading.Lock()
_RATE = 16000


def _normalise(phrase: str) -> str:
    return " ".join(re.findall(r"[a-z']+", phrase.lower()))


def _decoder(phrases: list[str]) -> Any:
    from pocketsphinx import Decoder

    dec = Decoder(samprate=_RATE, loglevel="FATAL")
    clean = [p for p in (_normalise(x) for x in phrases) if p]
    if clean:
        known = [p for p in clean if all(dec.lookup_word(w) for w in p.split())]
        if known:
            alts = " | ".join(known)
            dec.add_jsgf_string("phrases", f"#JSGF V1.0; grammar g; public <s> = {alts};")
            dec.activate_search("phrases")
    return dec


def recognize(pcm: bytes, sample_rate: int, phrases: list[str] | None = None) -> str:
    """Decode int16 LE mono PCM; returns the hypothesis text ("" if none)."""
    src = array("h")
    src.frombytes(pcm[: len(pcm) - len(pcm) % 2])
    if sample_rate != _RATE and src:
        step = sample_rate / _RATE
        last = len(src) - 1
        src = array("h", (src[min(last, int(i * step))] for i in range(int(len(src) / step))))
    with _lock:
        dec = _decoder(phrases or [])
        dec.start_utt()
        dec.process_raw(src.tobytes(), full_utt=True)
        dec.end_utt()
        hyp = dec.hyp()
    return hyp.hypstr if hyp is not None else ""
