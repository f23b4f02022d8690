"""The layers stay apart: pure protocol modules, the asyncio I/O layer, the adapters."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import smallest_core

PACKAGES = Path(__file__).resolve().parents[2]
CORE_SRC = PACKAGES / "smallest-core" / "src" / "smallest_core"
ADAPTER_SRCS = [
    PACKAGES / name / "src"
    for name in ("smallest-livekit", "smallest-pipecat", "smallest-videosdk")
]
IO_LAYER = "smallest_core.aio"


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every module ``path`` imports (``from a.b import c`` yields ``a.b``)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def _pure_modules() -> list[Path]:
    return [p for p in CORE_SRC.rglob("*.py") if "aio" not in p.relative_to(CORE_SRC).parts]


def test_pure_modules_never_import_the_io_layer_or_an_event_loop() -> None:
    found = [
        f"{path.relative_to(CORE_SRC)}:{line}: {module}"
        for path in _pure_modules()
        for line, module in _imports(path)
        if module.split(".")[0] in {"asyncio", "aiohttp", "websockets"}
        or module.startswith(IO_LAYER)
    ]
    assert found == []


def test_importing_the_core_loads_no_event_loop_and_no_third_party_package() -> None:
    code = (
        "import sys, smallest_core\n"
        "bad = sorted(m for m in ('asyncio', 'aiohttp', 'websockets', 'smallest_core.aio')"
        " if m in sys.modules)\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""


def test_adapters_use_only_the_public_api() -> None:
    allowed = {"smallest_core", IO_LAYER}
    sources = [p for src in ADAPTER_SRCS if src.exists() for p in src.rglob("*.py")]
    assert sources, "adapter sources not found beside the core"
    found = [
        f"{path.relative_to(PACKAGES)}:{line}: {module}"
        for path in sources
        for line, module in _imports(path)
        if module.startswith("smallest_core") and module not in allowed
    ]
    assert found == []


def test_public_names_are_all_exported() -> None:
    missing = [name for name in smallest_core.__all__ if not hasattr(smallest_core, name)]
    assert missing == []
    assert len(set(smallest_core.__all__)) == len(smallest_core.__all__)
