import json

import pytest
from fixtures import frames, ids

from smallest_core import TTSOptions
from smallest_core.errors import SmallestError
from smallest_core.tts_messages import (
    cancel_message,
    close_message,
    fragment_message,
    http_request_body,
    legacy_close_message,
    legacy_fragment_message,
    one_shot_message,
)
from smallest_core.voices import builtin_voices, parse_voices

VOICES = frames("voices_response")
CLIENT = frames("tts_ws_client_messages")


def test_voices_response_parses_to_typed_voices():
    ok = next(v for v in VOICES if v["expect"].get("status") == 200)
    voices = parse_voices(200, ok["raw"].encode())
    assert [v.id for v in voices] == ok["expect"]["voice_ids"]
    magnus = next(v for v in voices if v.id == "magnus")
    assert magnus.languages == ("en",) and magnus.gender == "male"


def test_voices_error_keeps_the_server_message():
    bad = next(v for v in VOICES if v["expect"].get("type") == "error")
    with pytest.raises(SmallestError) as info:
        parse_voices(bad["expect"]["status"], bad["raw"].encode())
    assert bad["expect"]["message"] in str(info.value)


def test_builtin_catalogue_has_both_families():
    models = {v.model for v in builtin_voices()}
    assert models == {"lightning_v3.1", "lightning_v3.1_pro"}


def _build(kind, fixture, opts):
    text = fixture.get("text", "")
    ctx = fixture.get("context_id", "ctx1")
    return {
        "fragment": lambda: fragment_message(opts, ctx, text),
        "close": lambda: close_message(opts, ctx),
        "cancel": lambda: cancel_message(opts, ctx),
        "legacy_fragment": lambda: legacy_fragment_message(opts, text),
        "legacy_flush": lambda: legacy_close_message(opts),
        "legacy_close": lambda: legacy_close_message(opts),
        "one_shot": lambda: one_shot_message(opts, text, request_id=fixture.get("request_id")),
    }[kind]()


@pytest.mark.parametrize("item", CLIENT, ids=ids(CLIENT))
def test_built_messages_carry_every_documented_field(item):
    documented = json.loads(item["raw"])
    opts = TTSOptions(
        voice_id=documented.get("voice_id", "magnus"),
        sample_rate=documented.get("sample_rate", 24000),
    )
    built = json.loads(_build(item["expect"]["kind"], item["expect"], opts))
    for key, value in item["expect"].items():
        if key != "kind":
            assert built[key] == value, key
    for key in ("voice_id", "model", "sample_rate", "language", "text"):
        if key in documented:
            assert key in built


def test_http_body_drops_word_timestamps():
    body = http_request_body(TTSOptions(word_timestamps=True, output_format="wav"), "Hi.")
    assert body["text"] == "Hi." and body["output_format"] == "wav"
    assert "word_timestamps" not in body
