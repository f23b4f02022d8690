"""Audio engines: ``deterministic`` (default) and the optional ``espeak``."""

from smallest_emulator.engines.deterministic import Synthesis, WordSpan, synthesize

__all__ = ["Synthesis", "WordSpan", "synthesize"]
