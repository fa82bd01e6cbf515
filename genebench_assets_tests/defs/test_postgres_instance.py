"""A shared Dagster instance in a real PostgreSQL server (issue 14): `genebench materialize` runs as a
separate process with DAGSTER_HOME holding deploy/postgres/dagster.yaml unchanged; a fresh
DagsterInstance then reads the runs, the materializations and the lineage back from PostgreSQL; a real
`dagster-daemon run` process on the same dagster.yaml ticks the automation sensor and launches the
tissue run after a study changed; and the refresh sensor registers a new mission there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from genebench_assets.defs.lineage.tracing import lineage_from_instance
from genebench_assets.science.storage.atomic_files import sha256_file
from genebench_assets_tests.defs.dagster_daemon_process import dagster_daemon, wait_for
from genebench_assets_tests.defs.postgres_server import postgres_bin, throwaway_postgres

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(postgres_bin() is None, reason="PostgreSQL binaries not found under /usr/lib/postgresql/*/bin "
                       "(Debian package `postgresql`; scripts/test.sh installs it when run as root)"),
]
REPO = Path(__file__).resolve().parents[2]
TISSUE = "gastrocnemius"


@pytest.fixture(scope="module")
def pg(tmp_path_factory):
    root = tmp_path_factory.mktemp("pg")
    home, data = root / "home", root / "data"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "postgres" / "dagster.yaml", home / "dagster.yaml")
    with throwaway_postgres() as pg_env:
        env = {**os.environ, **pg_env, "DAGSTER_HOME": str(home), "GENEBENCH_DATA_DIR": str(data),
               "GENEBENCH_SOURCE": "demo", "GENEBENCH_MODELS": "lr,negative_control", "GENEBENCH_JOBS": "1"}
        done = subprocess.run([str(Path(sys.executable).with_name("genebench")), "materialize", "--tissue", TISSUE],
                              env=env, capture_output=True, text=True, timeout=900)
        old = {k: os.environ.get(k) for k in pg_env}
        os.environ.update(pg_env)  # dagster.yaml reads the connection from {env: DAGSTER_PG_*}
        try:
            with dg.DagsterInstance.from_config(str(home)) as instance:  # fresh: nothing cached from the run
                yield dict(instance=instance, home=home, data=data, done=done, env=pg_env, proc_env=env)
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def test_materialize_records_its_runs_in_postgres(pg):
    assert pg["done"].returncode == 0, pg["done"].stdout[-3000:] + pg["done"].stderr[-3000:]
    instance = pg["instance"]
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
    runs = instance.get_runs()
    assert {r.job_name for r in runs} == {"catalog_job", "study_job", "tissue_job", "results_job"}
    assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    assert sum(r.job_name == "study_job" for r in runs) == 3
    # Nothing went to an embedded SQLite database beside dagster.yaml.
    assert not [p for p in pg["home"].rglob("*.db")]


def test_rows_are_in_postgres_itself(pg):
    import psycopg2

    env = pg["env"]
    with psycopg2.connect(host=env["DAGSTER_PG_HOST"], port=int(env["DAGSTER_PG_PORT"]), user=env["DAGSTER_PG_USER"],
                          password=env["DAGSTER_PG_PASSWORD"], dbname=env["DAGSTER_PG_DB"]) as conn:
        cur = conn.cursor()
        cur.execute("select count(*) from runs")
        n_runs = cur.fetchone()[0]
        cur.execute("select count(*) from event_logs where dagster_event_type = 'ASSET_MATERIALIZATION'")
        n_mats = cur.fetchone()[0]
    assert n_runs == len(pg["instance"].get_runs()) == 6  # catalog, 3 studies, the tissue, the leaderboards
    assert n_mats >= 2 + 3 * 4 + 3  # catalog + gene sets, 4 assets x 3 studies, 3 tissue assets


def test_lineage_reads_back_from_postgres_to_the_raw_files(pg):
    chain = lineage_from_instance(pg["instance"], tissue=TISSUE, model="lr")
    assert {"model_predictions", "lomo_folds", "normalized_expression", "raw_counts"} <= {s["asset"] for s in chain["steps"]}
    assert {f["osd"] for f in chain["raw_files"]} == {"OSD-101", "OSD-401", "OSD-326"}
    demo = pg["data"] / "demo_osdr"
    for f in chain["raw_files"]:
        assert sha256_file(demo / f["osd"] / f["file_name"]) == f["sha256"]


def _automation_ticks(instance: dg.DagsterInstance) -> list:
    """Ticks of the code location's automation sensor recorded in the instance (by the daemon)."""
    from dagster._core.definitions.run_request import InstigatorType

    return [tick for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
            if state.name == "genebench_automation"
            for tick in instance.get_ticks(state.instigator_origin_id, state.selector_id)]


def test_daemon_ticks_automation_and_launches_the_tissue_run(pg, tmp_path):
    """The daemon path for real: a `dagster-daemon run` process on the same dagster.yaml (PostgreSQL)
    serves the code location; its automation sensor's first tick only records its start (Dagster's
    `since_last_handled` ignores what was already there); a study of the tissue is re-processed; the
    next tick requests the tissue-level assets, the daemon launches that run in its own process, and
    a fresh instance reads the run, its materializations and the lineage back from PostgreSQL."""
    from dagster._core.scheduler.instigation import TickStatus

    from genebench_assets.definitions import defs
    from genebench_assets.defs.runtime.run_report import failure_lines
    from genebench_assets.science.osdr.study_catalog import load_catalog

    instance = pg["instance"]
    before = instance.get_latest_materialization_event(dg.AssetKey("evaluation_summary"))
    log = tmp_path / "daemon.log"
    # Runs the daemon launches carry no run config: the deployment picks their executor by
    # configuration (GENEBENCH_EXECUTOR_CONFIG). in_process here: one run worker process for the whole
    # run instead of one process per step and check (~20 on 2 shared cores).
    executor_file = tmp_path / "executor.yaml"
    executor_file.write_text("execution:\n  config:\n    in_process: {}\n")
    # Automation also puts the tissue's negative controls (NC1: refits per permutation) into the run; a
    # few permutations keep it cheap here (the count does not change what this test asserts).
    # Likewise within_mission_loo (one fit per animal, ~40 here) fits PCA-LR when it was run, else the first
    # model: pca_lr beside lr keeps it to seconds instead of a minute of saga LR fits (lr stays: the lineage
    # below follows it).
    env = {**pg["proc_env"], "GENEBENCH_EXECUTOR_CONFIG": str(executor_file), "GENEBENCH_NC1_PERMUTATIONS": "3",
           "GENEBENCH_MODELS": "lr,pca_lr,negative_control"}
    t0 = time.monotonic()
    with dagster_daemon(env, log, cwd=tmp_path) as daemon:
        first = wait_for(lambda: [t for t in _automation_ticks(instance) if t.status != TickStatus.STARTED], None,
                         "the daemon's first automation tick", daemon, log)
        assert all(not t.run_ids for t in first), [t.run_ids for t in first]  # nothing requested on the first tick
        first_tick = time.monotonic() - t0
        # A study of the tissue is re-processed (as when a source file is corrected).
        mission = next(m for t, m in load_catalog().pairs() if t == TISSUE)
        study = defs.resolve_job_def("study_job").execute_in_process(
            instance=instance, partition_key=dg.MultiPartitionKey({"tissue": TISSUE, "mission": mission}),
            run_config={"resources": {"settings": {"config": {"data_dir": str(pg["data"])}},
                                      "osdr_source": {"config": {"mode": "demo"}}}})
        assert study.success

        def tissue_runs():
            # (automation then follows on with the transfer assets in later runs: not waited for)
            automated = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/from_automation_condition": "true"}))
            return [r for r in automated if dg.AssetKey("evaluation_summary") in (r.asset_selection or ())]

        def tissue_run_finished():
            runs = tissue_runs()
            return runs if runs and all(r.is_finished for r in runs) else None

        # Waits while the run makes progress (new events), fails after a period without any (e2e/progress.py).
        [run] = wait_for(tissue_run_finished, None, "the tissue run the daemon launches", daemon, log,
                         runs=lambda: [r.run_id for r in tissue_runs()], instance=instance)
        elapsed = time.monotonic() - t0
    print(f"daemon: first tick {first_tick:.0f}s after start; tissue run finished {elapsed:.0f}s after start")
    events = [r.event_log_entry.dagster_event for r in instance.get_records_for_run(run.run_id).records
              if r.event_log_entry.dagster_event is not None]
    assert run.status == dg.DagsterRunStatus.SUCCESS, failure_lines(events)
    assert run.tags.get("dagster/partition") == TISSUE
    assert {"lomo_folds", "model_predictions", "evaluation_summary"} <= {k.to_user_string() for k in run.asset_selection}
    # The run executed in one process the daemon launched (the configured in_process executor), not in this one.
    step_pids = {r.event_log_entry.dagster_event.pid for r in instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.STEP_START).records}
    assert len(step_pids) == 1 and os.getpid() not in step_pids, step_pids

    with dg.DagsterInstance.from_config(str(pg["home"])) as fresh:  # read back from PostgreSQL
        assert fresh.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.SUCCESS
        latest = fresh.get_latest_materialization_event(dg.AssetKey("evaluation_summary"))
        assert latest.run_id == run.run_id != before.run_id
        chain = lineage_from_instance(fresh, tissue=TISSUE, model="lr")
        steps = {s["asset"]: s for s in chain["steps"]}
        assert steps["model_predictions"]["run_id"] == run.run_id
        assert steps["lomo_folds"]["run_id"] == run.run_id
        assert {f["osd"] for f in chain["raw_files"]} == {"OSD-101", "OSD-401", "OSD-326"}
        assert _automation_ticks(fresh)
    # The daemon and everything it launched are gone.
    assert daemon.poll() is not None


def test_refresh_sensor_registers_the_new_mission_in_postgres(pg):
    """The sensor path on the shared instance: `genebench demo-publish` publishes the held-back thymus
    mission, the refresh sensor's tick (evaluated here, as the daemon would) asks for the new
    partition and its runs; the partition is stored in PostgreSQL and seen by another instance."""
    from genebench_assets.defs.runtime.partitions import ABSENT_PAIR_RUN_TAG
    from genebench_assets.defs.refresh.sensors import osdr_new_studies_sensor
    from genebench_assets.defs.runtime.settings import GenebenchSettings
    from genebench_assets.defs.sources.resources import OsdrSource

    published = subprocess.run([str(Path(sys.executable).with_name("genebench")), "demo-publish"],
                               env=pg["proc_env"], capture_output=True, text=True, timeout=300)
    assert published.returncode == 0, published.stderr[-2000:]
    instance = pg["instance"]
    assert "RR-10" not in instance.get_dynamic_partitions("mission")
    ctx = dg.build_sensor_context(instance=instance, resources={
        "settings": GenebenchSettings(data_dir=str(pg["data"])), "osdr_source": OsdrSource(mode="demo")})
    result = osdr_new_studies_sensor(ctx)
    assert isinstance(result, dg.SensorResult), result
    # (the new mission's absent pairs are recorded by runs of their own, tagged ABSENT_PAIR_RUN_TAG)
    assert [r.partition_key for r in result.run_requests
            if r.job_name == "study_job" and ABSENT_PAIR_RUN_TAG not in r.tags] == [
        dg.MultiPartitionKey({"tissue": "thymus", "mission": "RR-10"})]
    for request in result.dynamic_partitions_requests:  # what the daemon applies after a tick
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    with dg.DagsterInstance.from_config(str(pg["home"])) as other:
        assert "RR-10" in other.get_dynamic_partitions("mission")
