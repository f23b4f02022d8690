"""Optional real-speech engine: espeak-ng via ``espeakng-loader`` + ctypes (GPL, extra ``speech``).

Word timings come from espeak's synth-callback WORD events. espeak is not thread-safe: callers
serialise (the emulator holds a lock). Output is resampled (linear) to the requested rate.
"""

from __future__ import annotations

import ctypes
import re
import sys
import threading
from array import array
from typing import Any

from smallest_emulator.engines.deterministic import Synthesis, WordSpan

_EVENT_WORD = 1
_lock = threading.Lock()
_lib: Any = None
_native_rate = 22050
_samples = array("h")
_events: list[tuple[int, int, int]] = []  # (audio_position_ms, text_position, length)


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_CB = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


def _callback(wav: Any, n: int, events: Any) -> int:
    if n > 0 and wav:
        _samples.extend(wav[:n])
    i = 0
    while True:
        ev = events[i]
        if ev.type == 0:
            break
        if ev.type == _EVENT_WORD:
            _events.append((ev.audio_position, ev.text_position, ev.length))
        i += 1
    return 0


_cb_ref = _CB(_callback)


def _load() -> Any:
    global _lib, _native_rate
    if _lib is not None:
        return _lib
    import espeakng_loader

    lib = ctypes.CDLL(str(espeakng_loader.get_library_path()))
    data = str(espeakng_loader.get_data_path())
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    rate = lib.espeak_Initialize(2, 0, data.encode(), 0)  # AUDIO_OUTPUT_SYNCHRONOUS
    if rate <= 0:
        parent = data.rsplit("/", 1)[0]
        rate = lib.espeak_Initialize(2, 0, parent.encode(), 0)
    if rate <= 0:
        raise RuntimeError("espeak-ng failed to initialise")
    _native_rate = rate
    lib.espeak_SetSynthCallback(_cb_ref)
    lib.espeak_SetVoiceByName(b"en")
    lib.espeak_Synth.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.c_void_p,
        ctypes.c_void_p,
    ]
    _lib = lib
    return lib


def _resample(src: array[int], src_rate: int, dst_rate: int) -> array[int]:
    if src_rate == dst_rate or not src:
        return src
    n = int(len(src) * dst_rate / src_rate)
    step = src_rate / dst_rate
    last = len(src) - 1
    return array("h", (src[min(last, int(i * step))] for i in range(n)))


def synthesize(
    text: str, sample_rate: int = 24000, speed: float = 1.0, *, first_index: int = 0
) -> Synthesis:
    """Synthesize ``text`` with espeak-ng; returns PCM at ``sample_rate`` and word spans."""
    with _lock:
        lib = _load()
        _samples[:] = array("h")
        _events.clear()
        lib.espeak_SetParameter(1, int(175 * speed), 0)  # espeakRATE (words per minute)
        raw = text.encode("utf-8") + b"\0"
        lib.espeak_Synth(raw, len(raw), 0, 0, 0, 1, None, None)  # POS_CHARACTER, CHARS_UTF8
        lib.espeak_Synchronize()
        native = array("h", _samples)
        events = list(_events)
    pcm = _resample(native, _native_rate, sample_rate)
    if sys.byteorder != "little":
        pcm.byteswap()
    total = len(pcm)
    tokens = [m for m in re.finditer(r"\S+", text)]
    starts = [min(total, int(ms * sample_rate / 1000)) for ms, _pos, _len in events]
    words: list[WordSpan] = []
    for i, tok in enumerate(tokens):
        s = starts[i] if i < len(starts) else total
        e = starts[i + 1] if i + 1 < len(starts) else total
        words.append(WordSpan(first_index + i, tok.group(0), s, max(s, e), sample_rate))
    return Synthesis(pcm.tobytes(), words, sample_rate, 0)
