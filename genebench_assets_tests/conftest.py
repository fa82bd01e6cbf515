"""Shared fixtures. Real reference data lives at ../shared/data beside the repo; tests that need it
skip with a clear reason when it is absent (it is never copied into the repo)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# pytest-xdist already keeps both cores busy with one test file each: model fits inside a test run
# in-process, so a test does not also spawn a fit pool of its own (tests that are about the pool or
# n_jobs parity set n_jobs explicitly).
os.environ.setdefault("GENEBENCH_JOBS", "1")
SHARED_DATA = Path(os.environ.get("GENEBENCH_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def shared_path(*parts: str) -> Path:
    """Path inside ../shared/data; skips the calling test with the reason when it is missing."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference data not found at {path} (expected ../shared/data beside the repo)")
    return path


# Published result files of the original benchmarks (from their public repositories) are data: they
# reach the project through shared/, never through a commit here. GENEBENCH_PUBLISHED_RESULTS points
# elsewhere (e.g. a local copy).
PUBLISHED_RESULTS = Path(os.environ.get("GENEBENCH_PUBLISHED_RESULTS", SHARED_DATA / "published_results"))


def published_path(*parts: str) -> Path:
    """A published result file or folder; skips the calling test with the reason when it is missing."""
    path = PUBLISHED_RESULTS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"published results not found at {path} (expected in ../shared/data/published_results, "
                    "or set GENEBENCH_PUBLISHED_RESULTS)")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return shared_path()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Under xdist `--dist loadgroup`: each file on one worker (module fixtures build a demo graph
    once), and the two e2e files together, since they share one webserver.

    tryfirst: xdist's worker plugin turns `xdist_group` marks into node-id suffixes in its own
    pytest_collection_modifyitems, and it registers after this conftest (so, hooks being LIFO, it ran
    first and saw no marks): every module fixture was then built on both workers."""
    for item in items:
        path = item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group("e2e" if "/e2e/" in path else path))
