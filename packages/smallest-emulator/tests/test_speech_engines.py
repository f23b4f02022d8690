"""Optional real-speech engines (extra ``speech``): espeak TTS and pocketsphinx STT."""

from __future__ import annotations

import itertools

import aiohttp
import pytest
from emulator_kit import AUTH, collect_until_complete, fast_config, msg, recv_json

from smallest_emulator import Emulator

pytest.importorskip("espeakng_loader")


async def test_espeak_engine_over_ws(http: aiohttp.ClientSession) -> None:
    async with Emulator(fast_config(engine="espeak")) as emu:  # noqa: SIM117
        async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
            await ws.send_json(msg("Hello world. How are you?", word_timestamps=True))
            frames = await collect_until_complete(ws)
    words = [f["data"] for f in frames if f["status"] == "word_timestamp"]
    assert [w["word"] for w in words] == ["Hello", "world.", "How", "are", "you?"]
    assert all(a["start"] <= b["start"] for a, b in itertools.pairwise(words))
    assert len(emu.tts_log[0].pcm) > 16000


async def test_pocketsphinx_recognizes_espeak(http: aiohttp.ClientSession) -> None:
    pytest.importorskip("pocketsphinx")
    from smallest_emulator.engines import espeak

    pcm = espeak.synthesize("hello world how are you", 16000).pcm
    cfg = fast_config(stt_engine="pocketsphinx", transcript=("hello world how are you", "goodbye"))
    async with Emulator(cfg) as emu:
        url = emu.ws_url + "/waves/v1/stt/live?model=pulse&language=en"
        async with http.ws_connect(url, headers=AUTH) as ws:
            for i in range(0, len(pcm), 3200):
                await ws.send_bytes(pcm[i : i + 3200])
            await ws.send_json({"type": "close_stream"})
            while not (f := await recv_json(ws, wait_s=30))["is_final"]:
                pass
    assert f["transcript"] == "hello world how are you"
