"""Option decisions every adapter needs: default voice, transport, WebSocket form, affect,
and the Lightning v4 access hint."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smallest_core import (
    DEFAULT_PRO_VOICE,
    DEFAULT_VOICE,
    Affect,
    LightningV4Options,
    LightningV4Session,
    SessionFailed,
    TTSOptions,
    catalog,
    default_voice,
)

V32_VOICE = "v32voice"
SPELLINGS = {
    "lightning_v3.1": catalog.LIGHTNING_V3_1,
    "lightning-v3.1": catalog.LIGHTNING_V3_1,
    "lightning_v3.1_pro": catalog.LIGHTNING_V3_1_PRO,
    "lightning-v3.1-pro": catalog.LIGHTNING_V3_1_PRO,
    "lightning_v3.2": catalog.LIGHTNING_V3_2,
    "lightning-v3.2": catalog.LIGHTNING_V3_2,
}
STREAMING = [m for m in SPELLINGS if SPELLINGS[m] != catalog.LIGHTNING_V3_2]


def options(model: str, **kw: object) -> TTSOptions:
    """Valid options for ``model`` (with a voice of its own)."""
    voice = V32_VOICE if SPELLINGS[model] == catalog.LIGHTNING_V3_2 else default_voice(model)
    return TTSOptions(model=model, voice_id=voice, **kw)  # type: ignore[arg-type]


def text() -> st.SearchStrategy[str]:
    return st.text(min_size=1, max_size=20).filter(str.strip)


affects = st.builds(
    Affect,
    emotion=st.none() | st.sampled_from(catalog.V3_2_EMOTIONS),
    pitch=st.none() | st.sampled_from(catalog.V3_2_PITCHES),
    volume=st.none() | st.sampled_from(catalog.V3_2_VOLUMES),
    prosody=st.none() | st.sampled_from(catalog.V3_2_PROSODIES),
    accent=st.none() | text(),
    instruction=st.none() | text(),
)


# ---------------------------------------------------------------------------- default voice


@pytest.mark.parametrize("model", STREAMING)
def test_the_default_voice_fits_its_model_and_is_word_timed(model: str) -> None:
    voice = default_voice(model)
    assert voice == (DEFAULT_PRO_VOICE if "pro" in model else DEFAULT_VOICE)
    assert voice in catalog.WORD_TIMESTAMP_VOICES
    assert TTSOptions(model=model, voice_id=voice).voice_id == voice


@pytest.mark.parametrize("model", ["lightning_v3.2", "lightning-v3.2"])
def test_v32_has_no_default_voice_and_says_how_to_list_them(model: str) -> None:
    with pytest.raises(ValueError) as info:
        default_voice(model)
    message = str(info.value)
    assert "has its own voices" in message and "voice_id" in message
    assert "list_voices()" in message and "/waves/v1/lightning-v3.2/get_voices" in message


def test_default_voice_of_an_unknown_model_names_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match=r"allowed: lightning_v3\.1"):
        default_voice("lightning-v9")


# ---------------------------------------------------------------------------- transport


@pytest.mark.parametrize("model", list(SPELLINGS))
def test_streams_is_false_only_for_the_http_only_model(model: str) -> None:
    opts = options(model)
    assert opts.streams is (SPELLINGS[model] not in catalog.HTTP_ONLY_TTS_MODELS)
    assert opts.streams is (SPELLINGS[model] != catalog.LIGHTNING_V3_2)


@given(st.sampled_from(STREAMING), st.sampled_from(catalog.TTS_OUTPUT_FORMATS))
def test_for_websocket_keeps_what_the_socket_carries_and_makes_the_rest_pcm(
    model: str, output_format: str
) -> None:
    opts = options(model, output_format=output_format, speed=1.25, word_timestamps=True)
    ws = opts.for_websocket()
    ws.check_websocket()
    if output_format in catalog.TTS_WS_OUTPUT_FORMATS:
        assert ws is opts
    else:
        assert ws.output_format == "pcm"
        assert {**ws.request_fields(), "output_format": output_format} == opts.request_fields()


@given(st.sampled_from(catalog.TTS_OUTPUT_FORMATS))
def test_for_websocket_refuses_a_model_without_a_streaming_route(output_format: str) -> None:
    with pytest.raises(ValueError, match="no streaming route"):
        options("lightning_v3.2", output_format=output_format).for_websocket()


# ---------------------------------------------------------------------------- affect


@given(affects)
def test_with_affect_on_v32_sets_it_and_an_empty_affect_clears_it(affect: Affect) -> None:
    start = options("lightning_v3.2", affect=Affect(emotion="sad"))
    changed = start.with_affect(affect)
    assert changed.affect == (affect if affect.fields() else None)
    controls = ("emotion", "pitch", "volume", "prosody", "accent", "instruction")
    sent = changed.request_fields()
    assert {k: sent[k] for k in controls if k in sent} == affect.fields()
    assert start.with_affect(None).affect is None


@given(st.sampled_from(STREAMING), affects)
def test_with_affect_off_v32_refuses_any_control(model: str, affect: Affect) -> None:
    opts = options(model)
    if affect.fields():
        with pytest.raises(ValueError, match=r"lightning_v3\.2"):
            opts.with_affect(affect)
    else:
        assert opts.with_affect(affect).affect is None
    assert opts.with_affect(None) == opts


def test_with_affect_refuses_what_is_not_an_affect() -> None:
    with pytest.raises(ValueError, match="Affect or None"):
        options("lightning_v3.2").with_affect("happy")  # type: ignore[arg-type]


@given(st.sampled_from(STREAMING), affects.filter(lambda a: bool(a.fields())))
def test_leaving_v32_drops_its_affect(model: str, affect: Affect) -> None:
    opts = options("lightning_v3.2", affect=affect)
    left = opts.with_changes(model=model, voice_id=default_voice(model))
    assert left.affect is None and left.model == SPELLINGS[model]
    assert opts.with_changes(model="lightning-v3.2").affect == affect  # staying keeps it
    assert opts.with_changes(speed=1.5).affect == affect
    with pytest.raises(ValueError, match=r"lightning_v3\.2"):
        opts.with_changes(model=model, voice_id=default_voice(model), affect=affect)


# ---------------------------------------------------------------------------- Lightning v4


def refused(code: str, message: str) -> SessionFailed:
    session = LightningV4Session(LightningV4Options())
    session.receive(json.dumps({"status": "error", "error": {"code": code, "message": message}}))
    (failed,) = [e for e in session.events() if isinstance(e, SessionFailed)]
    return failed


def test_a_refused_account_is_told_how_to_get_v4_access() -> None:
    error = refused("model_access_denied", "this account has no Lightning v4 access").error
    assert error.code == "model_access_denied" and not error.retryable
    assert "this account has no Lightning v4 access" in error.message  # the server's words
    assert "enabled per account" in error.message
    assert "ask Smallest AI for access" in error.message


@given(st.sampled_from(["invalid_voice", "invalid_query", "bad_frame"]), text())
def test_other_v4_errors_carry_no_access_hint(code: str, message: str) -> None:
    error = refused(code, message).error
    assert error.code == code and "enabled per account" not in error.message
