"""One driver per framework, shared by the conformance suite, the soak and the benchmarks.

Scenarios are parametrized over :data:`DRIVERS`; the benchmarks build drivers through
:mod:`drivers.registry`. A framework's module (and so the framework) is imported on first
use only: a benchmark worker measuring one framework keeps the others off its heap.
"""

from __future__ import annotations

from .base import (
    IMPLS,
    Caps,
    Driver,
    Failure,
    STTResult,
    Turn,
    TurnResult,
    sockets_settle,
    turn,
)
from .registry import DRIVERS, FRAMEWORKS, driver
from .timing import Delivery, Heard
from .truth import Received, check_caller_text, emulator_received

__all__ = [
    "DRIVERS",
    "FRAMEWORKS",
    "IMPLS",
    "Caps",
    "Delivery",
    "Driver",
    "Failure",
    "Heard",
    "Received",
    "STTResult",
    "Turn",
    "TurnResult",
    "check_caller_text",
    "driver",
    "emulator_received",
    "sockets_settle",
    "turn",
]
