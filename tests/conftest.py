"""Cross-package suite: framework drivers importable, the conformance matrix written at the end."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
for path in (HERE, HERE.parent / "shared" / "harness"):  # the shared drivers and harness
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from matrix import Matrix  # noqa: E402  (needs the path above)

_matrix = Matrix(HERE.parent / "docs" / "conformance.md")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _matrix.collected(items, full=not config.option.keyword and not config.option.deselect)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _matrix.record(report)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = _matrix.write()
    if path is not None:
        session.config.pluginmanager.get_plugin("terminalreporter").write_line(
            f"conformance matrix written to {path}"
        )
