"""Word timestamps on one continuous timeline per context, with the text's own spacing.

The server times words per request (or per release of a continuation context) and, on
some servers, restarts at zero for each one (``waves-protocol.md`` §10.2, §12.1). The
offset of each request is the audio actually received before it (a sample count), never
the previous word's end, so trailing silence cannot make the timeline drift.
"""

from __future__ import annotations

from dataclasses import dataclass

RESET_TOLERANCE_S = 0.05
"""A request's first word starting this far before the audio already received means the
server restarted its clock for that request."""


@dataclass(frozen=True, slots=True)
class TimedWord:
    """A spoken word on its context's timeline."""

    text: str
    """The word exactly as the server returned it (a verbatim slice of the input text)."""
    leading: str
    """The input text between the previous word and this one (usually a space)."""
    start: float
    """Seconds from the start of the context's audio."""
    end: float

    @property
    def spaced(self) -> str:
        """``leading + text``: joining every word's ``spaced`` gives back the input text."""
        return self.leading + self.text


class WordTimeline:
    """Maps a context's server word frames onto the context's audio timeline."""

    __slots__ = ("_bases", "_cursor", "_offsets", "_sample_rate", "_samples", "_text")

    def __init__(self, sample_rate: int) -> None:
        self._sample_rate = sample_rate
        self._text = ""
        self._cursor = 0
        self._samples = 0
        self._bases: dict[str | None, int] = {}
        self._offsets: dict[str | None, float] = {}

    @property
    def text(self) -> str:
        """All text sent for this context so far."""
        return self._text

    @property
    def samples(self) -> int:
        """Samples of audio received for this context so far."""
        return self._samples

    @property
    def consumed(self) -> int:
        """How many characters of :attr:`text` the words received so far cover."""
        return self._cursor

    def add_text(self, text: str) -> None:
        """Record text sent to the server for this context."""
        self._text += text

    def note_request(self, request_id: str | None) -> None:
        """Record that a server request has started (its first frame arrived)."""
        if request_id not in self._bases:
            self._bases[request_id] = self._samples

    def add_audio(self, request_id: str | None, samples: int) -> None:
        """Record ``samples`` of audio received for ``request_id``."""
        self.note_request(request_id)
        self._samples += samples

    def add_word(self, request_id: str | None, word: str, start: float, end: float) -> TimedWord:
        """Place a server word on the context timeline and restore its leading spacing."""
        self.note_request(request_id)
        offset = self._offsets.get(request_id)
        if offset is None:
            base_s = self._bases[request_id] / self._sample_rate
            # Continuous clocks put the first word at or after the audio already heard;
            # a clock restarted for this request puts it near zero.
            offset = base_s if start + RESET_TOLERANCE_S < base_s else 0.0
            self._offsets[request_id] = offset
        return TimedWord(word, self._leading_for(word), start + offset, end + offset)

    def _leading_for(self, word: str) -> str:
        found = self._text.find(word, self._cursor) if word else -1
        if found >= 0:
            leading = self._text[self._cursor : found]
            self._cursor = found + len(word)
            return leading
        # The server normalised the word; keep readable spacing without consuming text.
        if self._cursor == 0:
            return ""
        return "" if self._text[self._cursor - 1 : self._cursor].isspace() else " "

    def words_missing(self) -> bool:
        """True while text after the last timed word still holds a letter or digit (a
        word the server has yet to time, not just punctuation or a symbol)."""
        return any(ch.isalnum() for ch in self._text[self._cursor :])

    def all_words_received(self) -> bool:
        """True when the words received cover every non-space character of the text."""
        return bool(self._text) and not self._text[self._cursor :].strip()
