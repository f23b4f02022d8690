"""Pulse 2 on VideoSDK: a final's ``metadata`` adds the core's ``Transcript.metadata()``
(``emotion``, ``emotions``, ``gender``) and ``end_of_turn`` (the core's ``ends_turn``)."""

from __future__ import annotations

from smallest_core import catalog

PULSE_2 = catalog.PULSE_2
"""Pulse 2: English only; finals carry the end of the turn, emotion scores and gender."""
