"""Sentence segmentation of LLM token streams into TTS-sized pieces.

Waves recommends at most 250 characters per synthesis chunk (protocol reference §10.15).
:class:`SentenceSegmenter` cuts a stream of text tokens into sentences no longer than
``max_chars``, keeping every input character: ``"".join(pieces) == "".join(tokens)``.

Rules (decided on the text alone, so with ``min_chars=0`` any tokenization of a text gives
the same pieces):

* A sentence ends at ``. ! ? …`` (also ``‼ ⁇ ⁈ ⁉ । ॥ ؟ ۔``), optionally followed by closing
  quotes/brackets, when whitespace follows. ``。 ！ ？ ｡`` end a sentence even without
  whitespace. A blank line (two newlines in one whitespace run) ends a piece too.
* The whitespace after a sentence belongs to that sentence: pieces end with their trailing
  whitespace and the next piece starts with a non-space character.
* ``.`` / ``…`` followed by whitespace and a lowercase letter do not end a sentence
  (``etc. and``, ``wait... what``, ``5 p.m. today``). Neither do: titles and name suffixes
  (``Dr. Mr. Mrs. Ms. Prof. St. Jr. Sr. vs.``...), dotted initialisms (``e.g. i.e. a.m.
  U.S.``), single capital initials (``J. K. Rowling``), and list numbers at the start of a
  line (``1. Buy milk``). A dot that is not followed by whitespace never ends a sentence,
  which keeps decimals, URLs, e-mail addresses and file names whole.
* A piece that would exceed ``max_chars`` is split at the last clause break (``,;:`` or
  sentence punctuation plus whitespace) in its second half, else the last whitespace, else
  after the last ``,;:，、；：``, else at ``max_chars`` (never inside a combining sequence).
* ``min_chars``: pieces completed by the same :meth:`~SentenceSegmenter.push` (or
  :meth:`~SentenceSegmenter.flush`) call are merged while the first is shorter than
  ``min_chars`` and the merge fits in ``max_chars``. No piece is ever held back waiting for
  a later call (no time logic), so with token-by-token input merging rarely happens.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["SentenceSegmenter"]

_CANDIDATE = re.compile(r"[.!?…。！？｡‼⁇⁈⁉।॥؟۔]|\n")
_WS_RUN = re.compile(r"\s*")
_NO_SPACE_TERMINALS = frozenset("。！？｡")
_DOT_LIKE = frozenset(".…")
_CLOSERS = frozenset("\"')]}»”’」』）】〉》〕›")
_OPENERS = "\"'([{«“‘¿¡"
_CLAUSE_END = frozenset(",;:.!?…，、；：。！？")
_SOFT_PUNCT = frozenset(",;:，、；：")
# Titles and name suffixes: "Dr. Smith", "Martin Luther King Jr. Day", "A vs. B".
# fmt: off
_NEVER_END = frozenset({
    "mr", "mrs", "ms", "mx", "dr", "prof", "st", "jr", "sr", "vs", "mt", "rev", "hon", "gen",
    "col", "capt", "lt", "sgt", "sen", "rep", "gov", "fr", "ph.d",
})
# fmt: on
_INITIALISM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")
_TAIL = 32

_FOUND, _PENDING, _NONE = 0, 1, 2


def _ws_end(text: str, pos: int) -> int:
    match = _WS_RUN.match(text, pos)
    return match.end() if match else pos


def _joins_previous(ch: str) -> bool:
    """True if a cut before ``ch`` would split a combining/emoji sequence."""
    code = ord(ch)
    return (
        bool(unicodedata.combining(ch))
        or ch in "\u200d\ufe0e\ufe0f"
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
    )


class SentenceSegmenter:
    """Incremental sentence splitter: :meth:`push` tokens, :meth:`flush` at end of turn.

    Every character pushed comes out exactly once and in order; no piece is empty or longer
    than ``max_chars``. :meth:`push` is amortised O(len(token)). After :meth:`flush` the
    segmenter starts a new text.
    """

    def __init__(self, max_chars: int = 250, min_chars: int = 20) -> None:
        if max_chars < 1:
            raise ValueError("max_chars must be >= 1")
        if min_chars < 0:
            raise ValueError("min_chars must be >= 0")
        self.max_chars = max_chars
        self.min_chars = min_chars
        self._buf = ""  # text not yet dropped; buf[:_start] was already emitted
        self._start = 0
        self._scan = 0  # where the search for the next sentence end resumes
        self._reset_context()

    def _reset_context(self) -> None:
        self._tail = ""  # last characters before _buf, for look-behind across pieces
        self._emitted = 0  # characters before _buf since the start of the text
        self._line_blank = True  # the text before _buf ends with a whitespace-only line

    def push(self, token: str) -> list[str]:
        """Add text; return the pieces it completes (possibly none)."""
        if not token:
            return []
        buf, self._buf = self._buf, ""
        buf += token
        self._buf = buf
        return self._merge(self._run(final=False))

    def flush(self) -> list[str]:
        """End of text: return the remaining pieces and reset for a new text."""
        pieces = self._run(final=True)
        self._buf = ""
        self._start = self._scan = 0
        self._reset_context()
        return self._merge(pieces)

    # ------------------------------------------------------------------ internals

    def _merge(self, pieces: list[str]) -> list[str]:
        if self.min_chars == 0 or len(pieces) < 2:
            return pieces
        merged: list[str] = []
        for piece in pieces:
            if (
                merged
                and len(merged[-1]) < self.min_chars
                and len(merged[-1]) + len(piece) <= self.max_chars
            ):
                merged[-1] += piece
            else:
                merged.append(piece)
        return merged

    def _run(self, *, final: bool) -> list[str]:
        buf = self._buf
        n = len(buf)
        maxc = self.max_chars
        pieces: list[str] = []
        start = self._start
        pos = self._scan
        while start < n:
            kind, cand, end = self._find(buf, pos, final)
            if kind == _FOUND and end - start <= maxc:
                pieces.append(buf[start:end])
                start = pos = end
                continue
            pos = cand
            if n - start > maxc:
                cut = self._hard_split(buf, start)
                pieces.append(buf[start:cut])
                start = cut
                continue
            if final:
                pieces.append(buf[start:])
                start = n
            break
        keep = min(start, pos)  # a pending candidate may lie inside the emitted text
        if keep:
            self._consume(buf[:keep])
            self._buf = buf[keep:]
        self._start = start - keep
        self._scan = pos - keep
        return pieces

    def _consume(self, emitted: str) -> None:
        newline = emitted.rfind("\n")
        if newline >= 0:
            self._line_blank = emitted[newline + 1 :].isspace() or newline == len(emitted) - 1
        else:
            self._line_blank = self._line_blank and emitted.isspace()
        self._tail = (self._tail + emitted)[-_TAIL:]
        self._emitted += len(emitted)

    def _find(self, buf: str, pos: int, final: bool) -> tuple[int, int, int]:
        """Next sentence end at or after ``pos``: (kind, candidate index, piece end)."""
        n = len(buf)
        while True:
            match = _CANDIDATE.search(buf, pos)
            if match is None:
                return _NONE, n, n
            i = match.start()
            ch = buf[i]
            if ch == "\n":
                end = _ws_end(buf, i)
                if end == n and not final:
                    return _PENDING, i, n
                if buf.count("\n", i, end) >= 2:
                    return _FOUND, i, end
                pos = end
                continue
            k = i + 1
            while k < n and buf[k] in _CLOSERS:
                k += 1
            if k == n:
                if final:
                    return _FOUND, i, n
                return _PENDING, i, n
            end = _ws_end(buf, k)
            if end == k:
                if ch in _NO_SPACE_TERMINALS:
                    return _FOUND, i, k
                pos = k
                continue
            if end == n:
                if final:
                    return _FOUND, i, n
                return _PENDING, i, n
            if ch in _DOT_LIKE and not self._dot_ends(buf, i, buf[end]):
                pos = k
                continue
            return _FOUND, i, end

    def _dot_ends(self, buf: str, i: int, following: str) -> bool:
        """Whether the ``.``/``…`` at ``buf[i]`` (followed by whitespace) ends a sentence."""
        if following.islower():
            return False
        if buf[i] != ".":
            return True
        context = self._tail + buf[:i]
        j = len(context)
        while j > 0 and not context[j - 1].isspace():
            j -= 1
        if j == 0 and self._emitted > len(self._tail):
            return True  # the word is longer than the look-behind: not an abbreviation
        word = context[j:].lstrip(_OPENERS)
        if not word:
            return True
        if word.lower() in _NEVER_END or _INITIALISM.fullmatch(word):
            return False
        if len(word) == 1 and word.isupper():
            return False
        if len(word) <= 3 and word.isascii() and word.isdigit():
            return not self._at_line_start(context, j)
        return True

    def _at_line_start(self, context: str, j: int) -> bool:
        while j > 0:
            ch = context[j - 1]
            if ch == "\n":
                return True
            if not ch.isspace():
                return False
            j -= 1
        return self._emitted <= len(self._tail) or self._line_blank

    def _hard_split(self, buf: str, start: int) -> int:
        """Where to cut ``buf[start:]`` (longer than max_chars): an index in (start, start+max]."""
        hi = start + self.max_chars
        half = start + self.max_chars // 2
        word = soft = space = 0
        for p in range(hi, start, -1):
            prev = buf[p - 1]
            if prev.isspace():
                if buf[p].isspace():
                    space = space or p
                    continue
                if p >= half:
                    j = p - 1
                    while j > start and buf[j - 1].isspace():
                        j -= 1
                    before = buf[j - 1] if j > start else ""
                    if before in _CLOSERS and j - 1 > start:
                        before = buf[j - 2]
                    if before and before in _CLAUSE_END:
                        return p
                word = word or p
                if p < half:
                    break
            elif prev in _SOFT_PUNCT and not soft and not (prev == "," and buf[p].isdigit()):
                soft = p
        if word or soft or space:
            return word or soft or space
        for p in range(hi, start, -1):
            if not _joins_previous(buf[p]) and buf[p - 1] != "\u200d":
                return p
        return hi
