"""Shared fixtures. Real reference data lives at ../shared/data beside the repo; tests that need it
skip with a clear reason when it is absent (it is never copied into the repo)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("GENEBENCH_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def shared_path(*parts: str) -> Path:
    """Path inside ../shared/data; skips the calling test with the reason when it is missing."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference data not found at {path} (expected ../shared/data beside the repo)")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return shared_path()


def pytest_collection_modifyitems(items):
    """Under xdist `--dist loadgroup`: each file on one worker (module fixtures build a demo graph
    once), and the two e2e files together, since they share one webserver."""
    for item in items:
        path = item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group("e2e" if "/e2e/" in path else path))
