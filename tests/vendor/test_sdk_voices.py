"""smallestai 5.14: voice listing, the voice catalogue, cloning, pronunciation dictionaries."""

from __future__ import annotations

import datetime as dt

import pytest
from smallestai.core.api_error import ApiError
from smallestai.waves import (
    CreateVoiceCloneWavesResponse,
    DeletePronunciationDictResponse,
    GetVoicesWavesResponse,
    GetVoicesWavesResponseVoicesItem,
    ListVoiceClonesWavesResponse,
    PronunciationDict,
    PronunciationItem,
    UpdatePronunciationDictResponse,
)
from smallestai.waves.errors import UnauthorizedError
from smallestai.waves.types import HealthResponse
from smallestai.waves.voices import GetAllVoiceModelsResponse
from vendor_kit import BAD_KEY, RATE, VOICE, async_sdk, read_wav, speech, write_wav

from smallest_emulator import Emulator


def _names(text: str) -> list[str]:
    return text.split()


# Voices the model cards and the plugins name (protocol notes §9.1).
STANDARD = _names(
    "magnus olivia daniel quinn mia rachel nicole elizabeth jordan devansh sunidhi "
    "maithili sameera neel mihir aarush daniella marcos jeevan rajeshwari sophia kartik "
    "liam avery"
)
PRO = _names(
    "rhea zariya kareena mishka inaaya saira meher aarini aviraj vyom zoravar reyansh "
    "ahan sophie ellie cressida ottilie elowen seraphina sam henry benedict cormac rupert "
    "finley kaitlyn savannah amelia zoe ruby leah jenna kate molly sara fiona blake "
    "austin jack leo luke owen"
)


async def test_get_voices_is_typed(emu: Emulator) -> None:
    """``waves.get_voices``: typed voices with ids, names and full-name language tags."""
    async with async_sdk(emu) as client:
        listing = await client.waves.get_voices(model="lightning-v3.1")
    assert isinstance(listing, GetVoicesWavesResponse)
    assert listing.voices
    for voice in listing.voices:
        assert isinstance(voice, GetVoicesWavesResponseVoicesItem)
        assert voice.voice_id and voice.display_name
        assert voice.tags is not None and voice.tags.language
        assert all(lang.isalpha() and len(lang) > 2 for lang in voice.tags.language)


async def test_get_voices_lists_the_documented_catalogue(emu: Emulator) -> None:
    """Each pool's route lists its own catalogue (model cards; get-voices changelog of
    2026-08-28: a route lists only its pool's voices)."""
    async with async_sdk(emu) as client:
        standard = await client.waves.get_voices(model="lightning-v3.1")
        pro = await client.waves.get_voices(model="lightning-v3.1-pro")
    standard_ids = {v.voice_id for v in standard.voices or []}
    pro_ids = {v.voice_id for v in pro.voices or []}
    assert sorted(set(STANDARD) - standard_ids) == []
    assert sorted(set(PRO) - pro_ids) == []
    assert not set(PRO) & standard_ids - set(STANDARD)


async def test_every_listed_voice_synthesizes(emu: Emulator) -> None:
    """Each listed voice is accepted by ``synthesize_tts`` (mismatched pools are not rejected)."""
    async with async_sdk(emu) as client:
        listing = await client.waves.get_voices(model="lightning-v3.1")
        for voice in listing.voices or []:
            data = b"".join(
                [
                    c
                    async for c in client.waves.synthesize_tts(
                        text="Hi.", voice_id=voice.voice_id, sample_rate=RATE, output_format="wav"
                    )
                ]
            )
            assert read_wav(data)[3] == bytes(emu.tts_log[-1].pcm), voice.voice_id


async def test_get_voices_bad_key(emu: Emulator) -> None:
    """A rejected key on the listing is the SDK's ``UnauthorizedError``."""
    async with async_sdk(emu, BAD_KEY) as client:
        with pytest.raises(UnauthorizedError):
            await client.waves.get_voices(model="lightning-v3.1")


async def test_voice_catalogue(emu: Emulator) -> None:
    """``waves.voices.get_all_voice_models`` (``GET /waves/v1/voice/get-all-models``)."""
    async with async_sdk(emu) as client:
        catalogue = await client.waves.voices.get_all_voice_models()
    assert isinstance(catalogue, GetAllVoiceModelsResponse)
    voices = catalogue.voices or []
    assert {v.voice_id for v in voices} >= set(STANDARD)
    for voice in voices:
        assert voice.voice_id and voice.display_name
        assert voice.audio_preview and voice.audio_preview.startswith("http")
        assert voice.tags is not None and voice.tags.language


async def test_voice_clone_create_list_and_speak(emu: Emulator) -> None:
    """``create_voice_clone`` → a ``voice_*`` id that is listed and speaks on ``/waves/v1/tts``."""
    sample = write_wav(speech(6.0), rate=16000)
    async with async_sdk(emu) as client:
        created = await client.waves.create_voice_clone(
            display_name="Vendor Test", file=("sample.wav", sample, "audio/wav"), language="en"
        )
        assert isinstance(created, CreateVoiceCloneWavesResponse)
        assert created.data is not None
        voice_id = created.data.voice_id
        assert voice_id and voice_id.startswith("voice_")
        assert created.data.display_name == "Vendor Test"
        assert created.data.status in ("pending", "processing", "completed", "failed")

        listed = await client.waves.list_voice_clones()
        assert isinstance(listed, ListVoiceClonesWavesResponse)
        assert voice_id in [c.voice_id for c in listed.data or []]

        data = b"".join(
            [
                c
                async for c in client.waves.synthesize_tts(
                    text="Cloned.", voice_id=voice_id, sample_rate=RATE, output_format="pcm"
                )
            ]
        )
    assert data == bytes(emu.tts_log[-1].pcm) and data


async def test_pronunciation_dictionary_lifecycle(emu: Emulator) -> None:
    """Create, list, update, use in ``synthesize_tts``, delete a pronunciation dictionary."""
    items = [PronunciationItem(word="mysql", pronunciation="my sequel")]
    async with async_sdk(emu) as client:
        created = await client.waves.create_pronunciation_dict(items=items)
        assert isinstance(created, PronunciationDict)
        assert created.id and created.items == items
        assert isinstance(created.created_at, dt.datetime)

        listed = await client.waves.get_pronunciation_dicts()
        assert [d.id for d in listed] == [created.id]

        new_items = [*items, PronunciationItem(word="nginx", pronunciation="engine x")]
        updated = await client.waves.update_pronunciation_dict(id=created.id, items=new_items)
        assert isinstance(updated, UpdatePronunciationDictResponse)
        assert (updated.id, updated.items) == (created.id, new_items)

        data = b"".join(
            [
                c
                async for c in client.waves.synthesize_tts(
                    text="Hello.",
                    voice_id=VOICE,
                    sample_rate=RATE,
                    pronunciation_dicts=[created.id],
                )
            ]
        )
        assert data == bytes(emu.tts_log[-1].pcm) and data

        deleted = await client.waves.delete_pronunciation_dict(id=created.id)
        assert isinstance(deleted, DeletePronunciationDictResponse)
        assert (deleted.id, deleted.deleted) == (created.id, True)
        assert await client.waves.get_pronunciation_dicts() == []


async def test_get_voices_retired_model_is_410(emu: Emulator) -> None:
    """A retired catalogue (``lightning-v2``): ``ApiError`` 410 ``MODEL_DEPRECATED``."""
    async with async_sdk(emu) as client:
        with pytest.raises(ApiError) as err:
            await client.waves.get_voices(model="lightning-v2")
    assert err.value.status_code == 410
    assert err.value.body["error_code"] == "MODEL_DEPRECATED"


async def test_health(emu: Emulator) -> None:
    """``waves.ops.get_waves_health``: the typed health answer."""
    async with async_sdk(emu) as client:
        health = await client.waves.ops.get_waves_health()
    assert isinstance(health, HealthResponse)
    assert health.status == "ok"
