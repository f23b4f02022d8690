"""Optional STT outputs (§5.1, §6.2): redaction, utterances, emotion and gender.

All deterministic so tests can predict them:

* ``redact_pci``: digit runs of 13-19 digits (card numbers) become ``[ACCOUNTNUMBER_n]``;
  ``redact_pii``: other digit runs of 7+ digits become ``[PHONENUMBER_n]`` and e-mail
  addresses ``[EMAIL_n]``. ``n`` counts per label within one transcript.
* emotion scores and gender are derived from a hash of the text (same text, same answer).
"""

from __future__ import annotations

import re
import zlib
from typing import Any

EMOTIONS = ("happiness", "sadness", "disgust", "fear", "anger", "neutral")
_DIGITS = re.compile(r"\b\d[\d -]{5,}\d\b")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")


def redact(text: str, *, pii: bool, pci: bool) -> tuple[str, list[str]]:
    """The transcript with entities replaced, and the tokens used (in order)."""
    counts: dict[str, int] = {}
    entities: list[str] = []

    def token(label: str) -> str:
        counts[label] = counts.get(label, 0) + 1
        tok = f"[{label}_{counts[label]}]"
        entities.append(tok)
        return tok

    def digits(m: re.Match[str]) -> str:
        n = sum(c.isdigit() for c in m.group(0))
        if pci and 13 <= n <= 19:
            return token("ACCOUNTNUMBER")
        if pii and n >= 7:
            return token("PHONENUMBER")
        return m.group(0)

    if pii or pci:
        text = _DIGITS.sub(digits, text)
    if pii:
        text = _EMAIL.sub(lambda _m: token("EMAIL"), text)
    return text, entities


def emotions(text: str) -> dict[str, float]:
    """``{label: score}`` summing to 1, ``neutral`` highest."""
    h = zlib.crc32(text.encode())
    raw = [((h >> (4 * i)) & 0xF) + 1 for i in range(len(EMOTIONS) - 1)]
    total = sum(raw) * 2
    scores = {label: round(v / total, 3) for label, v in zip(EMOTIONS, raw, strict=False)}
    scores["neutral"] = round(1 - sum(scores.values()), 3)
    return scores


def gender(text: str) -> str:
    """``male`` or ``female``."""
    return "female" if zlib.crc32(text.encode()) & 1 else "male"


def utterances(
    text: str, words: list[dict[str, Any]], start: float, end: float, diarize: bool
) -> list[dict[str, Any]]:
    """``utterances[]``: one entry per transcript segment (empty for an empty transcript)."""
    if not text:
        return []
    entry: dict[str, Any] = {
        "text": text,
        "start": words[0]["start"] if words else round(start, 3),
        "end": words[-1]["end"] if words else round(end, 3),
    }
    if diarize:
        entry["speaker"] = 0
    return [entry]
