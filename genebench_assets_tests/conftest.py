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


# e2e files that do not use the session webserver (e2e/conftest.py): test_materialize_all runs its own
# small-catalog server, test_progress_wait none. Each is a group of its own, so the session server's group
# and the materialize-all server's group can run on both workers at once.
E2E_OWN_SERVER_FILES = ("test_materialize_all.py", "test_progress_wait.py")

# Under `--dist loadgroup`, xdist hands the groups out in order, by default sorted by number of tests (most
# first): the few-test groups that take minutes (PostgreSQL + daemon, J3, reproduce analyses) came last, and
# one worker ran them while the other sat idle. The order is set here instead (pytest_configure turns xdist's
# reordering off; LongGroupsFirst sorts): the groups known to be long first, longest first (seconds: CI's
# --durations on 2 cores, setup + calls, rounded; a stale or missing entry only costs balance), then groups
# with `slow` tests, then the rest by number of tests, as xdist would.
LONG_GROUPS = {
    "e2e": 200,
    "genebench_assets_tests/defs/batch_correction/test_batch_correction_graph.py": 200,
    "genebench_assets_tests/defs/test_postgres_instance.py": 180,
    "genebench_assets_tests/e2e/test_materialize_all.py": 160,
    "genebench_assets_tests/defs/test_dask_executor.py": 130,
    "genebench_assets_tests/defs/lineage/test_tracing.py": 90,
    "genebench_assets_tests/test_cli_materialize_progress.py": 90,
    "genebench_assets_tests/defs/analyses/test_reproduce_analyses.py": 80,
    "genebench_assets_tests/defs/categories/test_category_assets.py": 60,
    "genebench_assets_tests/science/spaceomicsbench/test_seed_reproduction.py": 60,
    "genebench_assets_tests/science/expression/test_differential_expression.py": 50,
    "genebench_assets_tests/defs/test_protocol_tables.py": 40,
    "genebench_assets_tests/defs/transfer/test_materialize_categories.py": 40,
    "genebench_assets_tests/test_cli_materialize.py": 40,
}


def xdist_group(item) -> str:
    """Each file one group (module fixtures build a demo graph once), except the e2e files that share the
    session webserver: one group "e2e"."""
    path = item.nodeid.split("::")[0]
    if "/e2e/" in path and path.rsplit("/", 1)[-1] not in E2E_OWN_SERVER_FILES:
        return "e2e"
    return path


class LongGroupsFirst:
    """Sorts the collected items by group: LONG_GROUPS, longest first; then groups with `slow` tests; then by
    number of tests. Stable, so the order within a group stays (e2e/conftest.py's). trylast: after every
    other reordering."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items):
        groups: dict[str, list] = {}
        for item in items:
            groups.setdefault(xdist_group(item), []).append(item)

        def key(name: str):
            members = groups[name]
            return (-LONG_GROUPS.get(name, 0), not any(i.get_closest_marker("slow") for i in members), -len(members))

        items[:] = [i for name in sorted(groups, key=key) for i in groups[name]]


def pytest_configure(config):
    # the controller sees dist == "loadgroup"; an xdist worker (which collects) dist "no" and loadgroup True
    if getattr(config.option, "dist", "no") == "loadgroup" or getattr(config.option, "loadgroup", False):
        config.option.loadscopereorder = False  # xdist keeps the order LongGroupsFirst sets
        config.pluginmanager.register(LongGroupsFirst(), "genebench_long_groups_first")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Under xdist `--dist loadgroup`: the groups of xdist_group() above.

    tryfirst: xdist's worker plugin turns `xdist_group` marks into node-id suffixes in its own
    pytest_collection_modifyitems, and it registers after this conftest (so, hooks being LIFO, it ran
    first and saw no marks): every module fixture was then built on both workers."""
    for item in items:
        item.add_marker(pytest.mark.xdist_group(xdist_group(item)))
