"""Word accuracy of a transcript against the reply (1 − word error rate, floored at 0)."""

from __future__ import annotations

import re


def normalise(text: str) -> list[str]:
    """Lower-case words without punctuation, as a recognizer writes them."""
    return re.findall(r"[a-z0-9']+", text.lower())


def word_errors(reference: list[str], hypothesis: list[str]) -> int:
    """Levenshtein distance over words (substitutions + insertions + deletions)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def word_accuracy(reference: str, hypothesis: str) -> float:
    """1 − WER of ``hypothesis`` against ``reference``, in [0, 1]."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    if not ref:
        return 1.0 if not hyp else 0.0
    return max(0.0, 1.0 - word_errors(ref, hyp) / len(ref))
