"""Load the project's shared protocol fixtures (``shared/fixtures``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures"


def frames(name: str) -> list[dict[str, Any]]:
    """The ``frames`` list of ``shared/fixtures/<name>.json``."""
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    items: list[dict[str, Any]] = data["frames"]
    assert items, f"{name}.json has no frames"
    return items


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["name"] for item in items]
