"""Voice catalogue, cloning, pronunciation dictionaries (§7)."""

from __future__ import annotations

import aiohttp
import pytest
from emulator_kit import AUTH, VOICE

from smallest_emulator import Emulator

PRO_DOCUMENTED = [
    "rhea",
    "zariya",
    "kareena",
    "mishka",
    "inaaya",
    "saira",
    "meher",
    "aarini",
    "aviraj",
    "vyom",
    "zoravar",
    "reyansh",
    "ahan",
    "sophie",
    "ellie",
    "cressida",
    "ottilie",
    "elowen",
    "seraphina",
    "sam",
    "henry",
    "benedict",
    "cormac",
    "rupert",
    "finley",
    "kaitlyn",
    "savannah",
    "amelia",
    "zoe",
    "ruby",
    "leah",
    "jenna",
    "kate",
    "molly",
    "sara",
    "fiona",
    "blake",
    "austin",
    "jack",
    "leo",
    "luke",
    "owen",
]


def tts(voice: str, model: str = "lightning_v3.1_pro", **kw: object) -> dict[str, object]:
    return {**VOICE, "text": "Hi.", "voice_id": voice, "model": model, **kw}


async def test_every_documented_pro_voice_synthesizes(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    assert len(set(PRO_DOCUMENTED)) == 42
    for voice in (*PRO_DOCUMENTED, "malar", "hanna", "kai"):
        async with http.post(emu.base_url + "/waves/v1/tts", json=tts(voice), headers=AUTH) as r:
            assert r.status == 200, (voice, await r.text())
    for voice in ("kanik", "sophia", "vivaan", "nerea"):  # SDK example, Pipecat default, cards
        async with http.post(
            emu.base_url + "/waves/v1/tts", json=tts(voice, "lightning_v3.1"), headers=AUTH
        ) as r:
            assert r.status == 200, (voice, await r.text())


async def test_unknown_voice_refused_unless_accept_any_voice(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    url = emu.base_url + "/waves/v1/tts"
    async with http.post(url, json=tts("my-new-voice"), headers=AUTH) as r:
        assert r.status == 400
        assert (await r.json())["error"][0]["message"] == "Invalid Voice ID"
    emu.config.accept_any_voice = True
    async with http.post(url, json=tts("my-new-voice"), headers=AUTH) as r:
        assert r.status == 200


async def test_get_voices_pools_and_languages(emu: Emulator, http: aiohttp.ClientSession) -> None:
    base = emu.base_url + "/waves/v1/"
    emu.config.get_voices_scope = "union"  # the older reading; the default is one pool
    async with http.get(base + "lightning-v3.1/get_voices", headers=AUTH) as r:
        union = {v["voiceId"]: v for v in (await r.json())["voices"]}
    assert set(PRO_DOCUMENTED) <= set(union) and "magnus" in union
    assert union["malar"]["tags"]["language"] == ["tamil"]
    async with http.get(base + "lightning-v3.1-pro/get_voices", headers=AUTH) as r:
        pro = {v["voiceId"] for v in (await r.json())["voices"]}
    assert set(PRO_DOCUMENTED) <= pro and "magnus" not in pro
    emu.config.get_voices_scope = "pool"
    async with http.get(base + "lightning-v3.1/get_voices", headers=AUTH) as r:
        std = {v["voiceId"] for v in (await r.json())["voices"]}
    assert "magnus" in std and "zoe" not in std
    async with http.get(base + "lightning-v3.2/get_voices", headers=AUTH) as r:
        assert r.status == 200 and isinstance((await r.json())["voices"], list)


async def test_voice_catalog_route(emu: Emulator, http: aiohttp.ClientSession) -> None:
    async with http.get(emu.base_url + "/waves/v1/voice/get-all-models", headers=AUTH) as r:
        assert r.status == 200
        voices = (await r.json())["voices"]
    owen = next(v for v in voices if v["voiceId"] == "owen")
    assert set(owen) >= {"_id", "voiceId", "displayName", "description", "audioPreview", "tags"}


async def test_voice_cloning_create_list_use_delete(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    form = aiohttp.FormData()
    form.add_field("displayName", "My voice")
    form.add_field("file", b"RIFF....WAVE", filename="me.wav", content_type="audio/wav")
    form.add_field("model", "lightning-v3.1-pro")
    async with http.post(emu.base_url + "/waves/v1/voice-cloning", data=form, headers=AUTH) as r:
        assert r.status == 200, await r.text()
        created = (await r.json())["data"]
    vid = created["voiceId"]
    assert vid.startswith("voice_") and created["model"] == "lightning-v3.1-pro"
    async with http.get(emu.base_url + "/waves/v1/voice-cloning", headers=AUTH) as r:
        listed = (await r.json())["data"]
    assert [c["voiceId"] for c in listed] == [vid] and listed[0]["displayName"] == "My voice"
    async with http.post(emu.base_url + "/waves/v1/tts", json=tts(vid), headers=AUTH) as r:
        assert r.status == 200
    async with http.delete(
        emu.base_url + "/waves/v1/lightning-large", json={"voiceId": vid}, headers=AUTH
    ) as r:
        assert r.status == 200 and (await r.json()) == {"success": True, "voiceId": vid}
    async with http.get(emu.base_url + "/waves/v1/voice-cloning", headers=AUTH) as r:
        assert (await r.json())["data"] == []


async def test_voice_cloning_validation(emu: Emulator, http: aiohttp.ClientSession) -> None:
    form = aiohttp.FormData()
    form.add_field("displayName", "x")
    async with http.post(emu.base_url + "/waves/v1/voice-cloning", data=form, headers=AUTH) as r:
        assert r.status == 400 and "error" in await r.json()


@pytest.mark.parametrize("path", ["/waves/v1/pronunciation-dicts"])
async def test_pronunciation_dicts_crud(
    emu: Emulator, http: aiohttp.ClientSession, path: str
) -> None:
    url = emu.base_url + path
    items = [{"word": "mysql", "pronunciation": "my-sequel"}]
    async with http.post(url, json={"items": items}, headers=AUTH) as r:
        assert r.status == 200
        created = await r.json()
    assert created["items"] == items and created["id"] and created["createdAt"]
    async with http.get(url, headers=AUTH) as r:
        assert [d["id"] for d in await r.json()] == [created["id"]]
    new = [{"word": "nginx", "pronunciation": "engine x"}]
    async with http.put(url, json={"id": created["id"], "items": new}, headers=AUTH) as r:
        assert await r.json() == {"id": created["id"], "items": new}
    async with http.post(url, json={"items": []}, headers=AUTH) as r:
        assert r.status == 400 and "error" in await r.json()
    async with http.delete(url, json={"id": created["id"]}, headers=AUTH) as r:
        assert await r.json() == {"id": created["id"], "deleted": True}
    async with http.delete(url, json={"id": created["id"]}, headers=AUTH) as r:
        assert r.status == 404
