"""Session fixtures for the end-to-end tests: ONE real webserver + daemon for the files of the xdist group "e2e"
(genebench_assets_tests/conftest.py; test_materialize_all runs its own, in a group of its own), the
catalog materialized once, and one backfill of the gastrocnemius study partitions from raw counts to
the evaluation. The GraphQL tests run before the browser tests (see pytest_collection_modifyitems), so
the screenshots show the materialized partitions."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest

from genebench_assets_tests.conftest import E2E_OWN_SERVER_FILES
from genebench_assets_tests.e2e.dagster_server import DagsterServer, DagsterServerError, dagster_server
from genebench_assets_tests.e2e.graphql_client import DagsterGraphQL, DagsterTimeout

TISSUE = "gastrocnemius"  # the smallest tissue: 3 studies, 40 samples
REAL_MISSIONS = ["RR-1", "RR-5", "RR-9"]
ABSENT_MISSION = "MHU-1"  # a mission of the catalog without a gastrocnemius study
STUDY_ASSETS = ["raw_counts", "sample_metadata", "normalized_expression", "pathway_scores",
                "differential_expression", "pathway_nes"]
TISSUE_ASSETS = ["lomo_folds", "model_predictions", "evaluation_summary", "nes_conservation"]
# What the backfill materializes: the path from raw counts to the AUROCs. Left out:
# differential_expression (pydeseq2 on the demo's 6,000 genes took ~4 min per pair on 2 shared cores)
# and what only it feeds (pathway_nes -> nes_conservation); evaluation_summary does not read them.
BACKFILL_STUDY_ASSETS = ["raw_counts", "sample_metadata", "normalized_expression", "pathway_scores"]
BACKFILL_TISSUE_ASSETS = ["lomo_folds", "model_predictions", "evaluation_summary"]

# No wall-clock limits: every wait below follows progress (progress.py) and fails only after
# GENEBENCH_E2E_IDLE_SECONDS (default 300) without any, naming the stuck run and its last event.


def study_key(tissue: str, mission: str) -> str:
    """The string form of a (tissue, mission) MultiPartitionKey: dimensions in name order, '|'-joined."""
    import dagster as dg

    return str(dg.MultiPartitionKey({"tissue": tissue, "mission": mission}))


@dataclass
class Timings:
    marks: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.marks[name] = round(seconds, 1)


@dataclass
class BackfillOutcome:
    backfill_id: str
    status: str
    runs: list[dict[str, Any]]
    diagnostics: str
    absent_run_id: str
    absent_run_status: str
    absent_run_diagnostics: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.status == "COMPLETED_SUCCESS" and all(r["status"] == "SUCCESS" for r in self.runs)


TIMINGS = Timings()


def pytest_collection_modifyitems(config, items):
    """Within the e2e directory: GraphQL (which materializes) first, then the browser, order kept otherwise."""
    here = Path(__file__).parent

    def rank(item) -> int:
        path = Path(str(item.fspath))
        if path.parent != here or path.name in E2E_OWN_SERVER_FILES:
            return 0  # its own small-catalog server (or none), in an xdist group of its own: not between the others
        return 2 if "browser" in item.keywords else 1

    e2e = [i for i in items if Path(str(i.fspath)).parent == here]
    if not e2e:
        return
    first = items.index(e2e[0])
    rest = [i for i in items if i not in e2e]
    items[:] = rest[:first] + sorted(e2e, key=rank) + rest[first:]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if TIMINGS.marks:
        terminalreporter.write_sep("-", "e2e timings (s)")
        for k, v in TIMINGS.marks.items():
            terminalreporter.write_line(f"  {k:38s} {v:7.1f}")


@pytest.fixture(scope="session")
def dagster_e2e(tmp_path_factory) -> Iterator[DagsterServer]:
    """The real `dagster-webserver` + `dagster-daemon` serving the repo's workspace.yaml.

    The daemon's backfill loop runs every 3 s (fast_daemon.py) instead of Dagster's fixed 30 s: the
    backfills here (study -> tissue; LLM answers -> leaderboard) need 4-5 loop iterations each, and with the
    stock interval about two of the four minutes were spent waiting for the next one. The stock
    `dagster-daemon run` is still what defs/test_postgres_instance.py runs."""
    tmp = tmp_path_factory.mktemp("dagster_e2e")
    t0 = time.monotonic()
    with dagster_server(tmp, backfill_interval_seconds=3) as server:
        TIMINGS.add("server startup", time.monotonic() - t0)
        yield server
    TIMINGS.add("server total (incl. shutdown)", time.monotonic() - t0)


@pytest.fixture(scope="session")
def gql(dagster_e2e: DagsterServer) -> DagsterGraphQL:
    return dagster_e2e.client


@pytest.fixture(scope="session")
def catalog_materialized(dagster_e2e: DagsterServer) -> str:
    """Run catalog_job (osdr_catalog registers the mission partitions; gene_sets) and return its run id."""
    gql = dagster_e2e.client
    t0 = time.monotonic()
    run_id = gql.launch_run(job_name="catalog_job")
    info = gql.wait_for_run(run_id, check=dagster_e2e.check_alive)
    TIMINGS.add("catalog_job run", time.monotonic() - t0)
    if info.status != "SUCCESS":
        pytest.fail(f"catalog_job failed:\n{gql.describe_runs([run_id])}\n\n{dagster_e2e.logs_tail(40)}")
    return run_id


@pytest.fixture(scope="session")
def gastrocnemius_backfill(dagster_e2e: DagsterServer, catalog_materialized: str) -> BackfillOutcome:
    """One asset backfill of the real gastrocnemius pairs, raw_counts -> normalized_expression ->
    pathway_scores, then lomo_folds -> model_predictions -> evaluation_summary.

    The tissue-level assets get the partition `gastrocnemius` through their by-tissue partition mapping.
    Alongside, one run asks for the absent pair (gastrocnemius, MHU-1) of raw_counts: it must succeed and
    materialize nothing. (It is not part of the backfill: Dagster counts a targeted partition that a
    successful run did not materialize as failed, and would then not request the tissue-level assets.)
    """
    gql = dagster_e2e.client
    t0 = time.monotonic()
    absent_run = gql.launch_run(assets=["raw_counts"], partition_key=study_key(TISSUE, ABSENT_MISSION))
    backfill_id = gql.launch_backfill(
        assets=BACKFILL_STUDY_ASSETS + BACKFILL_TISSUE_ASSETS,
        partition_names=[study_key(TISSUE, m) for m in REAL_MISSIONS],
        title=f"e2e: {TISSUE} raw -> evaluation",
    )
    try:
        bf = gql.wait_for_backfill(backfill_id, check=dagster_e2e.check_alive)
    except DagsterServerError as exc:  # the webserver or the daemon exited (its log tail is in exc)
        pytest.fail(str(exc), pytrace=False)
    except DagsterTimeout as exc:
        runs = gql.backfill(backfill_id)["runs"]
        pytest.fail(f"{exc}\n{gql.describe_runs(r['runId'] for r in runs)}\n\n{dagster_e2e.logs_tail(30)}",
                    pytrace=False)
    seconds = time.monotonic() - t0
    TIMINGS.add(f"backfill {TISSUE} raw -> evaluation", seconds)
    absent = gql.wait_for_run(absent_run, check=dagster_e2e.check_alive)
    outcome = BackfillOutcome(
        backfill_id=backfill_id,
        status=bf["status"],
        runs=bf["runs"],
        diagnostics="",
        absent_run_id=absent_run,
        absent_run_status=absent.status,
        absent_run_diagnostics="" if absent.status == "SUCCESS" else gql.describe_runs([absent_run]),
        seconds=seconds,
    )
    if not outcome.ok:
        outcome.diagnostics = (
            f"backfill {backfill_id}: {bf['status']}"
            + (f"\nbackfill error: {bf['error']['message']}" if bf.get("error") else "")
            + "\n" + gql.describe_runs(r["runId"] for r in bf["runs"])
        )
        print(outcome.diagnostics)
    return outcome


# ---------------------------------------------------------------- browser
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


# Package scope, not session: Playwright's sync API keeps an asyncio event loop running in this thread
# while it is open, and under xdist the same worker goes on to other files after the e2e group, where
# Dagster's `evaluate_automation_conditions` calls asyncio.run() ("cannot be called from a running event
# loop"). Closing it when the worker leaves the e2e package keeps that loop out of every other test.
@pytest.fixture(scope="package")
def chromium_browser():
    """Headless Debian chromium driven by Playwright's sync API (never a Playwright-downloaded browser)."""
    path = chromium_path()
    if path is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium); the browser tests need it")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the Python package playwright is not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium_browser):
    context = chromium_browser.new_context(viewport={"width": 1920, "height": 1080})
    context.set_default_timeout(30_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()
