"""TTS WebSocket: contexts, completes, cancel, words, profiles."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from emulator_kit import AUTH, audio_of, collect_until_complete, fixture_frames, msg, recv_json

from smallest_emulator import PROFILES, Emulator
from smallest_emulator.engines.deterministic import synthesize


async def test_one_shot_audio_and_words_exact(emu: Emulator, http: aiohttp.ClientSession) -> None:
    async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
        await ws.send_json(msg("Hello, world. $100 ok", word_timestamps=True, request_id="r1"))
        frames = await collect_until_complete(ws)
    expected = synthesize("Hello, world. $100 ok", 16000, voice_id="magnus")
    assert audio_of(frames) == expected.pcm
    words = [f["data"] for f in frames if f["status"] == "word_timestamp"]
    assert [w["word"] for w in words] == ["Hello,", "world.", "$100", "ok"]
    assert [w["start"] for w in words] == [round(w.start, 6) for w in expected.words]
    assert all(f["external_request_id"] == "r1" for f in frames)
    rec = emu.tts_log[0]
    assert rec.pcm == expected.pcm and rec.text == "Hello, world. $100 ok"
    assert rec.words[2].start_sample == expected.words[2].start_sample
    # words interleaved in audio-time order: each word frame precedes the chunk containing it
    pos = 0
    for f in frames:
        if f["status"] == "chunk":
            pos += len(f["data"]["audio"]) * 3 // 8
        elif f["status"] == "word_timestamp":
            assert f["data"]["start"] * 16000 * 2 >= pos - 1024


async def test_context_continuations_single_complete_and_reuse(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
        for turn in range(3):
            cid = f"ctx{turn}"
            await ws.send_json(msg("Hello there. ", context_id=cid, **{"continue": True}))
            await ws.send_json(msg("How are you?", context_id=cid, **{"continue": True}))
            await ws.send_json(msg("", context_id=cid, **{"continue": False}))
            frames = await collect_until_complete(ws)
            assert all(f["context_id"] == cid for f in frames)
            assert sum(f["status"] == "complete" for f in frames) == 1
    assert emu.ws_connections.opened_total == 1
    assert [r.text for r in emu.tts_log] == ["Hello there. How are you?"] * 3
    assert len(emu.tts_log[0].request_ids) == 2  # two releases (max_buffer_delay_ms=0)


async def test_sentence_release_and_buffer_delay(http: aiohttp.ClientSession) -> None:
    from emulator_kit import fast_config

    async with Emulator(fast_config(max_buffer_delay_ms=3000)) as emu:
        async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
            for frag in ["Hello", " there.", " How", " are", " you"]:
                await ws.send_json(msg(frag, context_id="c", **{"continue": True}))
            await ws.send_json(msg("", context_id="c", **{"continue": False}))
            await collect_until_complete(ws)
        assert emu.tts_log[0].releases == ["Hello there.", " How are you"]


async def test_per_release_completes(http: aiohttp.ClientSession) -> None:
    from emulator_kit import fast_config

    async with Emulator(fast_config(complete_mode="per-release")) as emu:  # noqa: SIM117
        async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
            await ws.send_json(msg("One. ", context_id="c", **{"continue": True}))
            await ws.send_json(msg("Two.", context_id="c", **{"continue": True}))
            await ws.send_json(msg("", context_id="c", **{"continue": False}))
            frames = await collect_until_complete(ws, completes=2)
            assert len({f["request_id"] for f in frames}) == 2


async def test_close_after_complete(http: aiohttp.ClientSession) -> None:
    from emulator_kit import fast_config

    async with Emulator(fast_config(close_after_complete=True)) as emu:  # noqa: SIM117
        async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
            await ws.send_json(msg("Hi."))
            await collect_until_complete(ws)
            m = await ws.receive(timeout=5)
            assert m.type == aiohttp.WSMsgType.CLOSE and ws.close_code == 1000


async def test_no_echo_and_legacy_frames(http: aiohttp.ClientSession) -> None:
    from emulator_kit import fast_config

    cfg = fast_config().apply_profile("no-echo").copy(complete_format="legacy")
    cfg = cfg.copy(speed=0.0, complete_backoff_ms=0, max_buffer_delay_ms=0)
    async with Emulator(cfg) as emu:  # noqa: SIM117
        async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
            await ws.send_json(msg("Hi there.", context_id="c", request_id="x"))
            frames = await collect_until_complete(ws)
    assert all("context_id" not in f and "external_request_id" not in f for f in frames)
    assert frames[-1] == {
        "request_id": frames[0]["request_id"],
        "status": "complete",
        "message": "All chunks sent",
        "done": True,
    }


async def test_word_origin_per_request_vs_per_context(http: aiohttp.ClientSession) -> None:
    from emulator_kit import fast_config

    for origin in ("per-request", "per-context"):
        async with Emulator(fast_config(word_origin=origin)) as emu:  # noqa: SIM117
            async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
                await ws.send_json(
                    msg("One. ", context_id="c", word_timestamps=True, **{"continue": True})
                )
                await ws.send_json(msg("Two.", context_id="c", word_timestamps=True))
                frames = await collect_until_complete(ws)
        starts = [f["data"]["start"] for f in frames if f["status"] == "word_timestamp"]
        first = synthesize("One. ", 16000, voice_id="magnus")
        expect = 0.0 if origin == "per-request" else first.duration
        assert starts == [0.0, pytest.approx(expect)]


async def test_legacy_flush_protocol(emu: Emulator, http: aiohttp.ClientSession) -> None:
    async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
        await ws.send_json(msg("Hello ", **{"continue": True, "flush": False}))
        await ws.send_json(msg("world.", **{"continue": True, "flush": False}))
        await ws.send_json(msg("", **{"continue": False, "flush": True}))
        frames = await collect_until_complete(ws)
    releases = emu.tts_log[0].releases
    assert "".join(releases) == "Hello world."
    expected = b"".join(synthesize(r, 16000, voice_id="magnus").pcm for r in releases)
    assert audio_of(frames) == expected


async def test_cancel_drops_buffer_and_inflight(http: aiohttp.ClientSession) -> None:
    from emulator_kit import fast_config

    async with Emulator(fast_config(speed=50.0, cancel_inflight_chunks=2)) as emu:
        async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
            long = "word " * 200 + "end. "
            await ws.send_json(msg(long, context_id="a", **{"continue": True}))
            first = await recv_json(ws)
            assert first["status"] == "chunk"
            await ws.send_json(msg("", context_id="a", cancel_request=True))
            frames = await collect_until_complete(ws)
            await ws.send_json(msg("Next.", context_id="b"))
            nxt = await collect_until_complete(ws)
            assert all(f["context_id"] == "b" for f in nxt)
        rec = emu.tts_log[0]
        assert rec.cancelled and rec.bytes_sent_before_cancel is not None
        assert rec.chunks_sent - (rec.bytes_sent_before_cancel // 1024) <= 3
        assert len(rec.pcm) > rec.bytes_sent
        assert frames[-1]["status"] == "complete"


async def test_validation_errors(emu: Emulator, http: aiohttp.ClientSession) -> None:
    async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
        await ws.send_json(msg("x", voice_id="nobody"))
        assert (await recv_json(ws)) == {
            "status": "error",
            "message": "Invalid Voice ID",
            "session_id": (await _sid(ws)),
        }


async def _sid(ws: aiohttp.ClientWebSocketResponse) -> str:
    await ws.send_json(msg("Hi."))
    frames = await collect_until_complete(ws)
    return str(frames[0]["session_id"])


@pytest.mark.parametrize("shape", [1, 2, 3, 4])
async def test_error_shapes_match_fixtures(http: aiohttp.ClientSession, shape: int) -> None:
    from emulator_kit import fast_config

    names = {
        1: "error-shape1-message",
        2: "error-shape2-error-object",
        3: "error-shape3-error-string",
        4: "error-shape4-message-errors",
    }
    fx = {
        f["name"]: json.loads(f["raw"])
        for f in fixture_frames("tts_ws_server_frames.json")
        if f["expect"]["type"] != "malformed"
    }
    async with Emulator(fast_config(error_shape=shape)) as emu:  # noqa: SIM117
        async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
            await ws.send_json(msg("x", voice_id="nobody"))
            frame = await recv_json(ws)
    want = fx[names[shape]]
    assert set(want) - {"request_id"} <= set(frame)
    assert type(frame.get("error")) is type(want.get("error"))


async def test_frames_match_fixture_keys(emu: Emulator, http: aiohttp.ClientSession) -> None:
    fx = {
        f["name"]: json.loads(f["raw"])
        for f in fixture_frames("tts_ws_server_frames.json")
        if f["expect"]["type"] != "malformed"
    }
    async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
        await ws.send_json(msg("Hello.", context_id="ctx1", word_timestamps=True))
        frames = await collect_until_complete(ws)
    by = {f["status"]: f for f in frames}
    assert set(by["chunk"]) == set(fx["chunk-with-context-id"])
    assert set(by["word_timestamp"]) - {"context_id"} == set(fx["word-timestamp"])
    assert set(by["complete"]) == set(fx["complete-current-with-context-id"])


async def test_idle_timeout_query(emu: Emulator, http: aiohttp.ClientSession) -> None:
    emu.config.idle_timeout_s = 60
    async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live?timeout=1", headers=AUTH) as ws:
        frame = await recv_json(ws, wait_s=5)
        assert frame == {
            "status": "error",
            "message": "Connection timed out after 1 seconds of inactivity",
        }
        m = await ws.receive(timeout=5)
        assert m.type == aiohttp.WSMsgType.CLOSE


async def test_per_model_ws_and_retired(emu: Emulator, http: aiohttp.ClientSession) -> None:
    url = emu.ws_url + "/waves/v1/lightning-v3.1/get_speech/stream"
    async with http.ws_connect(url, headers=AUTH) as ws:
        await ws.send_json(msg("Hi.", model="lightning-v3.1"))
        await collect_until_complete(ws)
    with pytest.raises(aiohttp.WSServerHandshakeError) as ei:
        await http.ws_connect(emu.ws_url + "/waves/v1/lightning-v2/get_speech/stream", headers=AUTH)
    assert ei.value.status == 410


@pytest.mark.parametrize("fmt", ["ulaw", "alaw", "wav"])
async def test_ws_output_formats(emu: Emulator, http: aiohttp.ClientSession, fmt: str) -> None:
    from smallest_emulator.audio import decode_g711, parse_wav

    async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
        await ws.send_json(msg("Hello there.", output_format=fmt))
        data = audio_of(await collect_until_complete(ws))
    pcm = emu.tts_log[0].pcm
    if fmt == "wav":
        parsed = parse_wav(data)
        assert parsed is not None and parsed[0] == pcm
    else:
        assert len(decode_g711(data, fmt)) == len(pcm)


@pytest.mark.parametrize("profile", PROFILES)
async def test_every_profile_serves_a_context(http: aiohttp.ClientSession, profile: str) -> None:
    from emulator_kit import fast_config

    cfg = fast_config().apply_profile(profile)
    async with Emulator(cfg) as emu:
        async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
            await ws.send_json(msg("Hello. ", context_id="c", **{"continue": True}))
            await ws.send_json(msg("Bye.", context_id="c", **{"continue": False}))
            completes = 2 if cfg.complete_mode == "per-release" else 1
            frames = await collect_until_complete(ws, completes=completes)
        assert audio_of(frames) == emu.tts_log[0].pcm


async def test_per_burst_single_complete(http: aiohttp.ClientSession) -> None:
    from emulator_kit import fast_config

    async with Emulator(fast_config(complete_mode="per-burst", complete_backoff_ms=300)) as emu:  # noqa: SIM117
        async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
            for s in ["One.", "Two.", "Three."]:
                await ws.send_json(msg(s, complete_backoff_ms=300))
            frames = await collect_until_complete(ws)
            assert len({f["request_id"] for f in frames if f["status"] == "chunk"}) == 3
            with pytest.raises(asyncio.TimeoutError):
                await ws.receive(timeout=0.5)


async def test_traced_connections_report_when_each_chunk_was_sent(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    import time

    headers = {"Authorization": "Bearer sk_x;trace=run1-a"}
    before = time.monotonic()
    async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=headers) as ws:
        await ws.send_json(msg("Hello, world. How are you?", context_id="c1"))
        frames = await collect_until_complete(ws)
    after = time.monotonic()
    async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
        await ws.send_json(msg("Not traced.", context_id="c2"))
        await collect_until_complete(ws)
    async with http.get(emu.base_url + "/_emulator/traces?prefix=run1-", headers=AUTH) as resp:
        body = await resp.json()
    assert list(body["tts"]) == ["run1-a"] and body["stt"] == {}
    (sends,) = body["tts"]["run1-a"]
    chunks = [f for f in frames if f["status"] == "chunk"]
    assert len(sends) == len(chunks)
    assert [n for n, _ in sends] == sorted({n for n, _ in sends})  # strictly growing
    assert sends[-1][0] == len(audio_of(frames)) == len(emu.tts_log[0].pcm)
    assert all(before <= t <= after for _, t in sends)
    assert emu.tts_log[1].sends == []  # untraced connections keep nothing


async def test_a_contexts_audio_is_its_releases_resynthesized(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    from smallest_emulator.engines.deterministic import releases_pcm

    async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
        await ws.send_json(msg("One sentence. ", context_id="c", **{"continue": True}))
        await ws.send_json(msg("And another.", context_id="c", **{"continue": False}))
        frames = await collect_until_complete(ws)
    (rec,) = emu.tts_log
    assert len(rec.releases) == 2
    expected = releases_pcm(rec.releases, rec.sample_rate, voice_id=rec.voice_id)
    assert audio_of(frames) == expected == bytes(rec.pcm)
