"""Voice listing, voice cloning and pronunciation dictionaries, kept in memory (§7)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from smallest_emulator.checks import read_json_object
from smallest_emulator.config import EmulatorConfig
from smallest_emulator.frames import (
    bad_request,
    clone_created,
    clone_deleted,
    clone_list,
    items_invalid,
    plain_error,
    pronunciation_dict,
    pronunciation_dict_deleted,
    retired_model_body,
)
from smallest_emulator.state import CFG_KEY, STATE_KEY, EmulatorState
from smallest_emulator.tts_common import LANGUAGES
from smallest_emulator.voices import (
    RETIRED_MODELS,
    VOICE_POOLS,
    get_voices_body,
    voice_catalog_body,
)

CLONE_MODELS = ("lightning-v3.1", "lightning-v3.1-pro")
CLONE_MAX_BYTES = 5 * 1024 * 1024
#: Language codes a clone may be created for (the TTS language enum, §3.1).
CLONE_LANGUAGES = frozenset(LANGUAGES) - {"auto"}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


async def get_voices(request: web.Request) -> web.Response:
    """``GET /waves/v1/{model}/get_voices``: one pool (or Standard + Pro, ``union``)."""
    cfg: EmulatorConfig = request[CFG_KEY]
    model = request.match_info["model"]
    if model in RETIRED_MODELS:
        return web.json_response(retired_model_body(model), status=410)
    pool = VOICE_POOLS.get(model)
    if pool is None:
        return web.json_response(bad_request("Unsupported model"), status=400)
    return web.json_response(get_voices_body(pool, union=cfg.get_voices_scope == "union"))


async def voice_catalog(request: web.Request) -> web.Response:
    """``GET /waves/v1/voice/get-all-models``: every current model's voices."""
    return web.json_response(voice_catalog_body())


async def create_clone(request: web.Request) -> web.Response:
    """``POST /waves/v1/voice-cloning`` (and legacy ``lightning-large/add_voice``), multipart."""
    state: EmulatorState = request.app[STATE_KEY]
    try:
        form = await request.post()
    except ValueError:
        form = None
    if form is None:
        return web.json_response(plain_error("Expected multipart/form-data"), status=400)
    name = form.get("displayName")
    upload = form.get("file")
    if not isinstance(name, str) or not 1 <= len(name) <= 500:
        return web.json_response(plain_error("displayName is required (1-500 chars)"), status=400)
    if not isinstance(upload, web.FileField):
        return web.json_response(plain_error("file is required"), status=400)
    audio = upload.file.read(CLONE_MAX_BYTES + 1)
    if len(audio) > CLONE_MAX_BYTES:
        return web.json_response(plain_error("file exceeds 5MB"), status=400)
    model = str(form.get("model") or "lightning-v3.1")
    if model not in CLONE_MODELS:
        return web.json_response(plain_error(f"Unsupported model: {model}"), status=400)
    language = str(form.get("language") or "en")
    if language not in CLONE_LANGUAGES:
        return web.json_response(plain_error(f"Unsupported language: {language}"), status=400)
    voice_id = f"voice_{uuid.uuid4().hex[:10]}"
    tags = [t.strip() for t in str(form.get("tags") or "").split(",") if t.strip()]
    clone: dict[str, Any] = {
        "_id": uuid.uuid4().hex[:24],
        "voiceId": voice_id,
        "displayName": name,
        "description": str(form.get("description") or ""),
        "accent": str(form.get("accent") or ""),
        "tags": tags,
        "language": language,
        "status": "completed",
        "cloningType": "instant",
        "modelIds": [model],
        "createdAt": _now(),
    }
    state.clones[voice_id] = clone
    data = {
        "voiceId": voice_id,
        "displayName": name,
        "model": model,
        "status": "completed",
        "language": language,
        "audioFileNames": [upload.filename],
        "createdAt": clone["createdAt"],
        "organizationId": "org_emulator",
        "samples": [],
    }
    return web.json_response(clone_created(data))


async def list_clones(request: web.Request) -> web.Response:
    """``GET /waves/v1/voice-cloning`` (and legacy ``lightning-large/get_cloned_voices``)."""
    state: EmulatorState = request.app[STATE_KEY]
    return web.json_response(clone_list(list(state.clones.values())))


async def delete_clone(request: web.Request) -> web.Response:
    """``DELETE /waves/v1/lightning-large`` with ``{"voiceId"}`` (how-to page reading)."""
    state: EmulatorState = request.app[STATE_KEY]
    body = await read_json_object(request)
    voice_id = body.get("voiceId") if body else None
    if not isinstance(voice_id, str):
        return web.json_response(plain_error("voiceId is required"), status=400)
    if state.clones.pop(voice_id, None) is None:
        return web.json_response(plain_error("Voice not found"), status=404)
    return web.json_response(clone_deleted(voice_id))


def _valid_items(items: Any) -> bool:
    return (
        isinstance(items, list)
        and len(items) > 0
        and all(
            isinstance(i, dict)
            and isinstance(i.get("word"), str)
            and isinstance(i.get("pronunciation"), str)
            for i in items
        )
    )


async def pronunciation_dicts(request: web.Request) -> web.Response:
    """``GET/POST/PUT/DELETE /waves/v1/pronunciation-dicts`` (§7.3)."""
    state: EmulatorState = request.app[STATE_KEY]
    dicts = state.pronunciation_dicts
    if request.method == "GET":
        return web.json_response(list(dicts.values()))
    body = await read_json_object(request)
    if body is None:
        return web.json_response(plain_error("Invalid JSON body"), status=400)
    if request.method == "POST":
        if not _valid_items(body.get("items")):
            return web.json_response(items_invalid(), status=400)
        entry = pronunciation_dict(uuid.uuid4().hex[:24], body["items"], created_at=_now())
        dicts[entry["id"]] = entry
        return web.json_response(entry)
    dict_id = body.get("id")
    if not isinstance(dict_id, str) or dict_id not in dicts:
        return web.json_response(plain_error("Pronunciation dictionary not found"), status=404)
    if request.method == "PUT":
        if not _valid_items(body.get("items")):
            return web.json_response(items_invalid(), status=400)
        dicts[dict_id]["items"] = body["items"]
        return web.json_response(pronunciation_dict(dict_id, body["items"]))
    del dicts[dict_id]
    return web.json_response(pronunciation_dict_deleted(dict_id))


def add_routes(router: web.UrlDispatcher) -> None:
    """Register the catalogue, cloning and dictionary routes."""
    router.add_get("/waves/v1/voice/get-all-models", voice_catalog)
    router.add_post("/waves/v1/voice-cloning", create_clone)
    router.add_get("/waves/v1/voice-cloning", list_clones)
    router.add_post("/waves/v1/lightning-large/add_voice", create_clone)
    router.add_get("/waves/v1/lightning-large/get_cloned_voices", list_clones)
    router.add_delete("/waves/v1/lightning-large", delete_clone)
    router.add_route("*", "/waves/v1/pronunciation-dicts", pronunciation_dicts)
    router.add_get("/waves/v1/{model}/get_voices", get_voices)
