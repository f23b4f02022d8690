"""When the user starts and stops speaking, and when a turn ends, from Pulse's events.

One rule for every adapter (protocol reference §6.3, §6.4, §12.2):

* speech **starts** at the server's ``speech_started`` or at the first transcript with
  words in it;
* a **turn ends** only at a Pulse 2 final with ``speech_final: true`` (the model's own
  end-of-turn decision). Pulse's ``speech_final`` is no turn decision and is ignored;
* speech **ends**

  - at a final answering ``finalize`` (``from_finalize``) or the last one (``is_last``):
    the client closed the segment, nothing more is coming for it;
  - with Pulse 2, only then and at its end of turn: a pause (``speech_ended``) or a final
    cut inside the turn is exactly what its turn model looks past;
  - with Pulse and ``vad_events``, at ``speech_ended``: finals alone are also cut inside an
    utterance (word-count rollover, an endpoint at a chunk boundary), and the VAD events
    are the reliable end-of-turn signal;
  - with Pulse without ``vad_events``, at every final: it is the only end the server
    reports (finals end on ``eou_timeout_ms`` of silence).
"""

from __future__ import annotations

from smallest_core import catalog
from smallest_core.stt import SpeechEnded, SpeechStarted, STTEvent, Transcript


def ends_turn(event: STTEvent, model: str) -> bool:
    """Whether ``event`` is Pulse 2 saying the user finished the turn."""
    return (
        model == catalog.PULSE_2
        and isinstance(event, Transcript)
        and event.is_final
        and event.speech_final is True
    )


def ends_speech(event: STTEvent, *, model: str, vad_events: bool) -> bool:
    """Whether ``event`` ends the user's speech (see the module's rule)."""
    pulse2 = model == catalog.PULSE_2
    if isinstance(event, SpeechEnded):
        return not pulse2
    if not isinstance(event, Transcript) or not event.is_final:
        return False
    if event.from_finalize or event.is_last:
        return True
    if pulse2:
        return event.speech_final is True
    return not vad_events


def starts_speech(event: STTEvent) -> bool:
    """Whether ``event`` shows the user speaking."""
    if isinstance(event, SpeechStarted):
        return True
    return isinstance(event, Transcript) and bool(event.text.strip())


class SpeechActivity:
    """Whether the user is speaking, as the stream's events tell it.

    For each event call :meth:`starts` before delivering it and :meth:`ends` after: each
    is True once per change, so the adapter reports every start and end exactly once.
    """

    __slots__ = ("model", "speaking", "vad_events")

    def __init__(self, *, model: str, vad_events: bool) -> None:
        self.model = model
        self.vad_events = vad_events
        self.speaking = False

    def starts(self, event: STTEvent) -> bool:
        """True when ``event`` starts speech (the adapter reports the start first)."""
        if self.speaking or not starts_speech(event):
            return False
        self.speaking = True
        return True

    def ends(self, event: STTEvent) -> bool:
        """True when ``event`` ends speech that was going on."""
        if not self.speaking or not ends_speech(
            event, model=self.model, vad_events=self.vad_events
        ):
            return False
        self.speaking = False
        return True

    def stop(self) -> bool:
        """The connection ended: True when speech was going on (report its end)."""
        was, self.speaking = self.speaking, False
        return was
