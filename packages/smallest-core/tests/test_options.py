import pytest

from smallest_core import STTOptions, TTSOptions
from smallest_core.catalog import tts_model_path_id
from smallest_core.options import check_streaming_stt


@pytest.mark.parametrize("spelling", ["lightning_v3.1", "lightning-v3.1"])
def test_both_model_spellings_map_to_the_body_id(spelling):
    assert TTSOptions(model=spelling).model == "lightning_v3.1"


def test_pro_spellings():
    assert TTSOptions(model="lightning-v3.1-pro", voice_id="meher").model == "lightning_v3.1_pro"
    assert tts_model_path_id("lightning_v3.1_pro") == "lightning-v3.1-pro"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"model": "lightning-v2"}, "lightning_v3.1"),
        ({"model": "lightning-large"}, "retired"),
        ({"model": "nope"}, "allowed: lightning_v3.1, lightning_v3.1_pro"),
        ({"voice_id": "meher"}, "lightning_v3.1_pro voice"),
        ({"voice_id": "sophia", "model": "lightning_v3.1_pro"}, "lightning_v3.1 voice"),
        ({"sample_rate": 22050}, "allowed: 8000, 16000, 24000, 44100"),
        ({"language": "ja"}, "allowed: auto, en"),
        ({"speed": 3.0}, "between 0.5 and 2.0"),
        ({"output_format": "mulaw"}, "allowed: pcm, mp3, wav, ulaw, alaw"),
        ({"content_filter": "block"}, "reject, flag"),
        ({"max_buffer_delay_ms": 9000}, "between 0 and 5000"),
        ({"voice_id": ""}, "non-empty"),
    ],
)
def test_bad_tts_input_fails_early_naming_allowed_values(kwargs, fragment):
    with pytest.raises(ValueError) as info:
        TTSOptions(**kwargs)
    assert fragment in str(info.value)


def test_pro_model_accepts_more_languages_and_clones_pass():
    assert TTSOptions(model="lightning_v3.1_pro", voice_id="meher", language="ja").language == "ja"
    assert TTSOptions(voice_id="voice_abc123").voice_id == "voice_abc123"


def test_with_changes_validates():
    opts = TTSOptions()
    assert opts.with_changes(speed=1.5, voice_id=None).speed == 1.5
    with pytest.raises(ValueError):
        opts.with_changes(sample_rate=12345)


def test_request_fields_only_send_what_is_set():
    fields = TTSOptions(content_filter="flag", math_notation=True).request_fields()
    assert fields["content_filter"] == {"enabled": True, "action": "flag"}
    assert fields["math_notation"] is True
    assert "word_timestamps" not in TTSOptions().request_fields()


def test_websocket_rejects_mp3():
    with pytest.raises(ValueError, match="pcm, ulaw, alaw"):
        TTSOptions(output_format="mp3").check_websocket()


def test_stt_query_and_validation():
    opts = STTOptions(
        language="multi",
        vad_events=True,
        keywords=("Smallest:2", ("Pulse", 1.5)),
        eou_timeout_ms=500,
    )
    q = opts.query()
    assert q["model"] == "pulse" and q["language"] == "multi"
    assert q["vad_events"] == "true" and q["diarize"] == "false"
    assert q["keywords"] == "Smallest:2,Pulse:1.5"
    assert q["eou_timeout_ms"] == "500"
    check_streaming_stt(opts)
    with pytest.raises(ValueError, match="allowed: 8000, 16000"):
        STTOptions(sample_rate=11025)
    with pytest.raises(ValueError, match="STT language"):
        STTOptions(language="xx")
    with pytest.raises(ValueError, match="keyword"):
        STTOptions(keywords=("a,b",))
    with pytest.raises(ValueError, match="streaming STT"):
        check_streaming_stt(STTOptions(language="uk"))


def test_keywords_are_capped_at_the_documented_session_limit():
    assert len(STTOptions(keywords=tuple(f"k{i}" for i in range(100))).keywords) == 100
    with pytest.raises(ValueError, match="at most 100 keywords"):
        STTOptions(keywords=tuple(f"k{i}" for i in range(101)))


def test_lightning_v3_2_carries_affect_per_utterance():
    from smallest_core import Affect, Endpoints

    opts = TTSOptions(
        model="lightning-v3.2",
        voice_id="v32voice",
        sample_rate=24000,
        affect=Affect(emotion="happy", pitch="high", instruction="sound reassuring"),
    )
    fields = opts.request_fields()
    assert fields["model"] == "lightning_v3.2"
    assert fields["emotion"] == "happy" and fields["pitch"] == "high"
    assert fields["instruction"] == "sound reassuring" and "volume" not in fields
    calmer = opts.with_changes(affect=Affect(emotion="sad", prosody="monotone"))
    assert calmer.request_fields()["prosody"] == "monotone"
    url = Endpoints.resolve("https://api.smallest.ai").tts_http_for(opts.model)
    assert url == "https://api.smallest.ai/waves/v1/lightning-v3.2/get_speech"
    assert Endpoints.resolve(None).tts_http_for("lightning_v3.1").endswith("/waves/v1/tts")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"emotion": "ecstatic"}, "neutral, sad, happy, angry"),
        ({"pitch": "very high"}, "low, mid, high"),
        ({"volume": "loud"}, "silent, low, normal, high"),
        ({"prosody": "sing"}, "normal, monotone, expressive"),
        ({"instruction": "  "}, "non-empty"),
    ],
)
def test_bad_affect_names_the_allowed_values(kwargs, match):
    from smallest_core import Affect

    with pytest.raises(ValueError, match=match):
        Affect(**kwargs)


def test_affect_needs_v3_2_and_v3_2_is_http_only():
    from smallest_core import Affect

    with pytest.raises(ValueError, match=r"needs model='lightning_v3\.2'"):
        TTSOptions(affect=Affect(emotion="happy"))
    with pytest.raises(ValueError, match="not interchangeable"):
        TTSOptions(model="lightning_v3.2", voice_id="sophia")
    with pytest.raises(ValueError, match="no streaming route"):
        TTSOptions(model="lightning_v3.2", voice_id="v32voice").check_websocket()
    with pytest.raises(ValueError, match="en, hi, auto"):
        TTSOptions(model="lightning_v3.2", voice_id="v32voice", language="de")


def test_a_tts_session_id_is_sent_with_every_request() -> None:
    from smallest_core import http_request_body

    opts = TTSOptions(session_id="call-7")
    assert opts.request_fields()["session_id"] == "call-7"
    assert http_request_body(opts, "Hi.")["session_id"] == "call-7"
    assert "session_id" not in TTSOptions().request_fields()
    with pytest.raises(ValueError, match="session_id"):
        TTSOptions(session_id="no spaces allowed")
