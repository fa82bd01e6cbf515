"""A shared Dagster instance in a real PostgreSQL server (issue 14): `genebench materialize` runs as a
separate process with DAGSTER_HOME holding deploy/postgres/dagster.yaml unchanged; a fresh
DagsterInstance then reads the runs, the materializations and the lineage back from PostgreSQL, and
the refresh sensor registers a new mission there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from genebench_assets.defs.lineage import lineage_from_instance
from genebench_assets.science.storage.atomic_files import sha256_file
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
    assert {r.job_name for r in runs} == {"catalog_job", "study_job", "tissue_job"}
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
    assert n_runs == len(pg["instance"].get_runs()) == 5
    assert n_mats >= 2 + 3 * 4 + 3  # catalog + gene sets, 4 assets x 3 studies, 3 tissue assets


def test_lineage_reads_back_from_postgres_to_the_raw_files(pg):
    chain = lineage_from_instance(pg["instance"], tissue=TISSUE, model="lr")
    assert {"model_predictions", "lomo_folds", "normalized_expression", "raw_counts"} <= {s["asset"] for s in chain["steps"]}
    assert {f["osd"] for f in chain["raw_files"]} == {"OSD-101", "OSD-401", "OSD-326"}
    demo = pg["data"] / "demo_osdr"
    for f in chain["raw_files"]:
        assert sha256_file(demo / f["osd"] / f["file_name"]) == f["sha256"]


def test_refresh_sensor_registers_the_new_mission_in_postgres(pg):
    """The sensor path on the shared instance: `genebench demo-publish` publishes the held-back thymus
    mission, the refresh sensor's tick (evaluated here, as the daemon would) asks for the new
    partition and its runs; the partition is stored in PostgreSQL and seen by another instance."""
    from genebench_assets.defs.refresh.sensors import osdr_new_studies_sensor
    from genebench_assets.defs.settings import GenebenchSettings
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
    assert [r.partition_key for r in result.run_requests if r.job_name == "study_job"] == [
        dg.MultiPartitionKey({"tissue": "thymus", "mission": "RR-10"})]
    for request in result.dynamic_partitions_requests:  # what the daemon applies after a tick
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    with dg.DagsterInstance.from_config(str(pg["home"])) as other:
        assert "RR-10" in other.get_dynamic_partitions("mission")
