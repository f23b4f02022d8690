"""Every package in the workspace ships what users and type checkers need."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

PACKAGES = sorted(p for p in (Path(__file__).parents[1] / "packages").iterdir() if p.is_dir())


def test_the_workspace_has_the_core_and_the_emulator():
    names = {p.name for p in PACKAGES}
    assert {"smallest-core", "smallest-emulator"} <= names


@pytest.mark.parametrize("package", PACKAGES, ids=[p.name for p in PACKAGES])
def test_package_metadata_is_complete(package: Path):
    meta = tomllib.loads((package / "pyproject.toml").read_text())["project"]
    module = package.name.replace("-", "_")
    assert meta["name"] == package.name
    assert meta["requires-python"] == ">=3.11,<3.14"
    assert meta["license"] == "Apache-2.0"
    assert meta["readme"] == "README.md"
    assert (package / "README.md").stat().st_size > 500, "the README explains the package"
    assert "version" in meta["dynamic"]
    assert {"3.11", "3.12", "3.13"} <= {
        c.rsplit(" :: ", 1)[-1] for c in meta["classifiers"] if "Python :: 3." in c
    }
    assert (package / "src" / module / "py.typed").exists()
    assert {"Homepage", "Source", "Changelog"} <= set(meta["urls"])


@pytest.mark.parametrize("package", PACKAGES, ids=[p.name for p in PACKAGES])
def test_single_sourced_version_matches_the_installed_module(package: Path):
    module = importlib.import_module(package.name.replace("-", "_"))
    version_file = package / "src" / package.name.replace("-", "_") / "_version.py"
    namespace: dict[str, str] = {}
    exec(version_file.read_text(), namespace)
    assert module.__version__ == namespace["__version__"]


def test_the_core_has_no_third_party_runtime_dependency():
    core = tomllib.loads(
        (Path(__file__).parents[1] / "packages/smallest-core/pyproject.toml").read_text()
    )
    assert core["project"]["dependencies"] == []
