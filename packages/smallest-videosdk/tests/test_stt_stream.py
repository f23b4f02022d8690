"""SmallestAISTT: room audio in, START / INTERIM / FINAL / END out."""

from __future__ import annotations

import pytest
from videosdk.agents import SpeechEventType, audio_format
from videosdk_kit import PROFILES, bounded, full_collections, make_stt, wait_for
from videosdk_stt_kit import Collector, feed, silence, speech

from smallest_emulator import Emulator
from smallest_videosdk import SmallestAISTT


@pytest.mark.parametrize("profile", PROFILES)
async def test_interim_final_flush_and_close(emu: Emulator, profile: str) -> None:
    audio_format.publish(16000, 1)
    stt = make_stt(emu, profile, overrides={"transcript": "hello world|good bye now"})
    got = Collector(stt)
    await feed(stt, speech(0.8, 16000), 16000)
    await stt.flush()
    await got.until_finals(1)
    await feed(stt, speech(0.7, 16000), 16000)
    await bounded(stt.aclose())  # the last utterance comes with close_stream
    finals = got.finals()
    assert [f.data.text for f in finals] == ["hello world", "good bye now"]
    assert finals[0].metadata is not None and finals[0].metadata["from_finalize"]
    assert finals[1].metadata is not None and finals[1].metadata["is_last"]
    delivered = finals[1].metadata["is_last"]
    print(f"[measure] profile={profile} stt_end_of_stream_final_delivered={delivered}")
    assert [w["word"] for w in finals[0].metadata["words"]] == ["hello", "world"]
    kinds = got.kinds()
    assert kinds[0] is SpeechEventType.START
    assert SpeechEventType.INTERIM in kinds[: kinds.index(SpeechEventType.FINAL)]
    assert kinds[kinds.index(SpeechEventType.FINAL) + 1] is SpeechEventType.END
    assert kinds[-1] is SpeechEventType.END
    assert got.errors == []
    record = emu.stt_log[0]
    assert record.params["sample_rate"] == "16000"
    assert [m["type"] for m in record.control_messages] == ["finalize", "close_stream"]


async def test_room_audio_48k_stereo_is_sent_as_16k_mono(emu: Emulator) -> None:
    audio_format.publish(48000, 2)  # what a room on Opus reports
    stt = make_stt(emu, overrides={"transcript": "from the room"})
    got = Collector(stt)
    pcm = speech(1.0, 48000, channels=2) + silence(0.2, 48000, channels=2)
    await feed(stt, pcm, 48000, channels=2)
    await bounded(stt.aclose())
    assert [f.data.text for f in got.finals()] == ["from the room"]
    sent = emu.stt_log[0].audio_bytes
    assert abs(sent - int(1.2 * 16000) * 2) <= 1600  # 1.2 s of 16 kHz mono, within one frame


async def test_keepalive_is_sent_while_no_audio_flows(emu: Emulator) -> None:
    audio_format.publish(16000, 1)
    stt = make_stt(emu, keepalive_interval_s=0.05)
    await feed(stt, silence(0.1, 16000), 16000)
    record = emu.stt_log[0]
    await wait_for(lambda: any(m.get("type") == "keepalive" for m in record.control_messages))
    await bounded(stt.aclose())


async def test_unauthorized_is_reported_once(emu: Emulator) -> None:
    audio_format.publish(16000, 1)
    stt = SmallestAISTT(api_key="sk_invalid", base_url=emu.base_url)
    got = Collector(stt)
    await feed(stt, speech(0.3, 16000), 16000)
    await bounded(stt.aclose())
    assert len(got.errors) == 1
    assert "unauthorized" in got.errors[0]  # the server's own message


@pytest.mark.parametrize("profile", ["default", "error-string", "error-object", "strict"])
async def test_server_error_is_reported(emu: Emulator, profile: str) -> None:
    audio_format.publish(16000, 1)
    stt = make_stt(emu, profile, overrides={"error_after_chunks": 3, "error_message": "Boom"})
    got = Collector(stt)
    await feed(stt, speech(0.3, 16000), 16000)
    await bounded(wait_for(lambda: bool(got.errors)))
    await bounded(stt.aclose())
    assert any("Boom" in e for e in got.errors)


def test_bad_options_fail_at_construction() -> None:
    with pytest.raises(ValueError):
        SmallestAISTT(api_key="sk_x", sample_rate=12345)
    with pytest.raises(ValueError):
        SmallestAISTT(api_key="sk_x", language="xx")


async def test_refused_upgrade_carries_the_server_message(emu: Emulator) -> None:
    audio_format.publish(16000, 1)
    stt = make_stt(emu, overrides={"http_status": 503})
    got = Collector(stt)
    await feed(stt, speech(0.3, 16000), 16000)
    await bounded(stt.aclose())
    assert got.errors and "Service temporarily unavailable" in got.errors[0]


async def test_closing_does_not_force_a_process_wide_garbage_collection(emu: Emulator) -> None:
    stt = make_stt(emu, overrides={"transcript": "hello"})
    await feed(stt, speech(0.3, 16000), 16000)
    with full_collections() as collections:
        await bounded(stt.aclose())
    assert collections == []  # every other session in the process would stall for it
    assert stt._transcript_callback is None
