"""The decoders in use (native with the ``fast`` extra, else the standard library) give
exactly what the standard library gives: same values, same errors, same events.

``nox -s core`` runs this suite twice, forced pure and with the extra installed, and sets
``SMALLEST_CORE_EXPECT_BACKEND`` so each run proves which decoders it exercised.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from smallest_core import TTSConnection, TTSOptions, _codec, errors, tts_frames, tts_incoming
from smallest_core.errors import decode_json
from smallest_core.tts_frames import decode_json_frame, parse_tts_frame


def test_backend_is_the_one_installed():
    expected = os.environ.get("SMALLEST_CORE_EXPECT_BACKEND")
    if expected is None:
        forced = os.environ.get("SMALLEST_CORE_PURE", "") not in ("", "0")
        present = [m for m in ("msgspec", "pybase64") if importlib.util.find_spec(m)]
        expected = "stdlib" if forced or not present else "+".join(present)
    assert expected == _codec.BACKEND
    pure = _codec.BACKEND == "stdlib"
    assert (_codec.loads is _codec.pure_loads) is pure
    assert (_codec.b64decode is _codec.pure_b64decode) is pure


def test_smallest_core_pure_forces_the_standard_library():
    code = "from smallest_core import _codec; print(_codec.BACKEND)"
    env = {**os.environ, "SMALLEST_CORE_PURE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "stdlib", done.stderr


@contextlib.contextmanager
def pure_decoders() -> Iterator[None]:
    """The standard-library decoders wherever the core decodes, for a reference result."""
    sites: list[tuple[Any, str, Callable[..., Any]]] = [
        (tts_frames, "_loads", _codec.pure_loads),
        (tts_frames, "_b64", _codec.pure_b64decode),
        (errors, "_loads", _codec.pure_loads),
        (tts_incoming, "b64decode", _codec.pure_b64decode),
    ]
    saved = [(mod, name, getattr(mod, name)) for mod, name, _ in sites]
    for mod, name, fn in sites:
        setattr(mod, name, fn)
    try:
        yield
    finally:
        for mod, name, fn in saved:
            setattr(mod, name, fn)


def outcome(fn: Callable[..., Any], *args: Any) -> tuple[str, str]:
    """What a call gives: its value (repr tells 1 from 1.0 from True, -0.0 from 0.0) or
    its exception (type and message)."""
    try:
        return "value", repr(fn(*args))
    except Exception as exc:
        return type(exc).__name__, str(exc)


def both(fn: Callable[..., Any], *args: Any) -> tuple[tuple[str, str], tuple[str, str]]:
    active = outcome(fn, *args)
    with pure_decoders():
        reference = outcome(fn, *args)
    return active, reference


# --- inputs: JSON documents, near-JSON text, base64 and near-base64 ----------------------
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()
    | st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=16,
)
number_literals = st.from_regex(
    r"-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,25})?([eE][+-]?[0-9]{1,3})?", fullmatch=True
)
B64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


@st.composite
def json_texts(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 4))
    if kind == 0:  # any document, with NaN/Infinity and \ud800-style escapes
        return json.dumps(draw(json_values), ensure_ascii=draw(st.booleans()))
    if kind == 1:  # number spellings the parsers round (or refuse) differently
        return f'{{"start":{draw(number_literals)}}}'
    if kind == 2:  # a document cut or patched somewhere
        text = json.dumps(draw(json_values))
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.text(max_size=3)) + text[at + draw(st.integers(0, 2)) :]
    if kind == 3:  # deep nesting, but not within a few levels of the recursion limit:
        # both decoders count the Python stack they run on, and the native one runs one
        # call deeper, so right at the limit they may differ by one level.
        depth = draw(st.integers(0, 600) | st.integers(2000, 5000))
        return "[" * depth + "]" * draw(st.integers(depth - 1, depth))
    return draw(st.text(max_size=60))


@st.composite
def b64_texts(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return base64.b64encode(draw(st.binary(max_size=64))).decode()
    if kind == 1:  # a valid encoding with one character changed, added or dropped
        text = base64.b64encode(draw(st.binary(min_size=1, max_size=64))).decode()
        at = draw(st.integers(0, len(text) - 1))
        new = draw(st.sampled_from([*B64_CHARS, "\n", " ", "-", "_", "é", ""]))
        return text[:at] + new + text[at + draw(st.integers(0, 1)) :]
    if kind == 2:
        return draw(st.text(alphabet=B64_CHARS, max_size=24))
    return draw(st.text(max_size=24))


@st.composite
def tts_frames_text(draw: st.DrawFn, ctx: str = "ctx") -> str:
    status = draw(st.sampled_from(["chunk", "chunk", "word_timestamp", "complete", "error"]))
    msg: dict[str, Any] = {"status": status, "context_id": ctx, "request_id": "r1"}
    if status == "chunk":
        msg["data"] = {"audio": draw(b64_texts())}
    elif status == "word_timestamp":
        msg["data"] = {
            "word": draw(st.text(max_size=8)),
            "start": draw(scalars),
            "end": draw(scalars),
            "id": draw(scalars),
        }
    elif status == "error":
        msg["message"] = draw(st.text(max_size=20))
    text = json.dumps(msg)
    if draw(st.integers(0, 9)) == 0:  # now and then, patch it into near-JSON
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(["NaN", "1e400", "\\ud800", "}", ""])) + text[at:]
    return text


# --- properties --------------------------------------------------------------------------
@given(json_texts())
def test_json_text_decodes_alike(text):
    assert outcome(_codec.loads, text) == outcome(_codec.pure_loads, text)


@given(b64_texts())
def test_base64_decodes_alike(text):
    assert outcome(_codec.b64decode, text) == outcome(_codec.pure_b64decode, text)


@given(st.one_of(json_texts(), tts_frames_text(), st.binary(max_size=40)))
def test_frames_and_server_data_decode_alike(data):
    active, reference = both(decode_json_frame, data)
    assert active == reference
    active, reference = both(decode_json, data)
    assert active == reference
    if isinstance(data, str):
        active, reference = both(parse_tts_frame, data)
        assert active == reference


def _connection() -> TTSConnection:
    conn = TTSConnection(TTSOptions(voice_id="magnus", sample_rate=24000))
    ctx = conn.start_context("ctx")  # the id tts_frames_text() echoes
    conn.push_text(ctx, "hello there " * 20)
    conn.end_input(ctx)
    conn.data_to_send()
    return conn


def _receive(conn: TTSConnection, frame: str, now: float) -> list[Any]:
    conn.receive(frame, now)
    return conn.events()


@settings(max_examples=60)
@given(st.lists(tts_frames_text(), min_size=1, max_size=12))
def test_a_connection_gives_the_same_events(frames):
    conn = _connection()
    active = [outcome(_receive, conn, f, float(i)) for i, f in enumerate(frames)]
    with pure_decoders():
        conn = _connection()
        reference = [outcome(_receive, conn, f, float(i)) for i, f in enumerate(frames)]
    assert active == reference


def test_refused_input_gets_the_standard_librarys_answer():
    # Inputs the native decoders refuse but the standard library takes (or refuses with
    # its own message): the answer is always the standard library's.
    for text in ('{"a":NaN}', '{"a":1e400}', '{"a":"\\ud800"}', '{"a":1', "[" * 5000):
        assert outcome(_codec.loads, text) == outcome(_codec.pure_loads, text)
    assert _codec.loads('{"a":123456789012345678901234567890}') == {
        "a": 123456789012345678901234567890
    }
    for text in ("QQ", "QQ=", "=QQ==", "QQ==QQ==", "Q Q==", "_-==", "é", "QQ==\n"):
        assert outcome(_codec.b64decode, text) == outcome(_codec.pure_b64decode, text)
