"""JSON and base64 decoding of server data: the standard library, or native decoders when
the ``smallest-core[fast]`` extra (msgspec, pybase64) is installed.

Both give identical results. The native decoder runs first; whenever it refuses an input
(malformed JSON, ``NaN``, a lone surrogate, nesting too deep, bad base64...) the standard
library decides, returning its value or raising its exception. The native decoders accept
nothing the standard library refuses, and decode what both accept to the same values
(``tests/test_codec.py`` checks this on arbitrary input). Both count nesting on the Python
stack they run on, so right at the recursion limit they may differ by one level.

``SMALLEST_CORE_PURE=1`` in the environment forces the standard library.
"""

from __future__ import annotations

import binascii
import json
import os
from collections.abc import Callable
from typing import Any, Final

__all__ = ["BACKEND", "b64decode", "loads", "pure_b64decode", "pure_loads"]

pure_loads: Final[Callable[[str], Any]] = json.JSONDecoder().decode
"""``json.loads`` for a ``str`` (the decoder object is built once)."""


def pure_b64decode(text: str) -> bytes:
    """Strict base64: only the alphabet, correct padding, nothing after it."""
    # strict_mode validates without b64decode(validate=True)'s regex pass.
    return binascii.a2b_base64(text, strict_mode=True)


def _native_loads() -> Callable[[str], Any] | None:
    try:
        import msgspec
    except ImportError:
        return None
    decode = msgspec.json.Decoder().decode

    def loads(text: str) -> Any:
        try:
            return decode(text)
        except Exception:  # refused: the standard library decides (value or error)
            return pure_loads(text)

    return loads


def _native_b64decode() -> Callable[[str], bytes] | None:
    try:
        import pybase64
    except ImportError:
        return None
    decode: Callable[..., bytes] = pybase64.b64decode

    def b64decode(text: str) -> bytes:
        try:
            return decode(text, validate=True)
        except Exception:  # refused: the standard library decides (value or error)
            return pure_b64decode(text)

    return b64decode


_PURE = os.environ.get("SMALLEST_CORE_PURE", "") not in ("", "0")
_fast_loads = None if _PURE else _native_loads()
_fast_b64 = None if _PURE else _native_b64decode()

loads: Final[Callable[[str], Any]] = _fast_loads or pure_loads
"""Decode JSON text exactly as ``json.loads`` does (raises ``ValueError``/``RecursionError``)."""
b64decode: Final[Callable[[str], bytes]] = _fast_b64 or pure_b64decode
"""Decode strict base64 exactly as :func:`pure_b64decode` does (raises ``ValueError``)."""
BACKEND: Final[str] = (
    "+".join(name for name, on in (("msgspec", _fast_loads), ("pybase64", _fast_b64)) if on)
    or "stdlib"
)
"""Which decoders are in use: ``"msgspec+pybase64"``, ``"stdlib"``, or one of the two."""
