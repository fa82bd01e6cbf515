"""The benchmark path on a real dask.distributed cluster (issue 14): a `dask scheduler` and two
`dask worker` processes on 127.0.0.1 run every step of one tissue (catalog -> studies -> folds ->
predictions -> evaluation), submitted by `genebench materialize --run-config FILE` (a separate
process) through the code location's `genebench_executor` configured by deploy/dask/run_config.yaml;
tables and data versions equal an in-process run of the same jobs. A bad run config file stops the
command before anything runs, in one line, exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from genebench_assets.defs.runtime.execution import execute_job_by_name
from genebench_assets.definitions import defs
from genebench_assets.science.osdr.study_catalog import load_catalog
from genebench_assets.science.storage.atomic_files import sha256_file
from genebench_assets_tests.defs.dask_processes import dask_processes

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
TISSUE = "gastrocnemius"  # as test_demo_pipeline: every study passes its checks
MISSIONS = [m for t, m in load_catalog().pairs() if t == TISSUE]


def resources_config(data_dir: Path) -> dict:
    """The same resource settings for both runs (and every worker), given as run config."""
    return {
        "settings": {"config": {"data_dir": str(data_dir), "protocol": "strict"}},
        "osdr_source": {"config": {"mode": "demo", "demo_n_genes": 6000, "demo_publish_held_back": False}},
        "gene_set_settings": {"config": {"collections": {}, "symbol_map": ""}},
        "model_settings": {"config": {"models": ["lr", "negative_control"], "feature_sets": ["genes", "pathways"],
                                      "n_jobs": 1}},
    }


def tissue_runs(run):
    """catalog_job, study_job for each of the tissue's missions, then tissue_job."""
    results = [run("catalog_job", None)]
    results += [run("study_job", dg.MultiPartitionKey({"tissue": TISSUE, "mission": m})) for m in MISSIONS]
    results.append(run("tissue_job", TISSUE))
    return results


# What differs between any two runs, in-process or not, and is therefore left out:
# - `fetched_at` in the raw-file provenance records is the time the files were read;
# - a promoted study version hashes its files including that record, so the version ids (snapshot
#   folder names, the fold inputs' `study_versions`, the fold features' `study_version`) and the
#   pointer CURRENT.json (which also holds the promotion time and run ids) differ a second apart; the
#   snapshots' contents are compared;
# - model_fit_times holds wall-clock fit times (kept beside the predictions for that reason).
RUN_SPECIFIC_FIELDS = {"fetched_at", "study_versions", "study_version"}


def _without_run_specific(obj):
    if isinstance(obj, dict):
        return {k: _without_run_specific(v) for k, v in obj.items() if k not in RUN_SPECIFIC_FIELDS}
    if isinstance(obj, list):
        return [_without_run_specific(v) for v in obj]
    return obj


def tables(data_dir: Path) -> dict[str, object]:
    """Every file under tables/: parquet by sha256, JSON by content minus run-specific fields."""
    out = {}
    for p in sorted((data_dir / "tables").rglob("*")):
        parts = p.relative_to(data_dir).parts
        if not p.is_file() or p.name == "CURRENT.json" or "model_fit_times" in parts:
            continue
        if parts[1] == "_promoted" and len(parts) == 6:  # tables/_promoted/<tissue>/<mission>/<version>/<file>
            parts = parts[:4] + parts[5:]
        out["/".join(parts)] = (_without_run_specific(json.loads(p.read_text())) if p.suffix == ".json"
                                else sha256_file(p))
    return out


def data_versions(instance: dg.DagsterInstance) -> dict[tuple[str, str | None], str]:
    out = {}
    for key in instance.get_asset_keys():
        for record in instance.fetch_materializations(key, limit=1000).records:
            mat = record.asset_materialization
            out[(key.to_user_string(), mat.partition)] = mat.tags.get("dagster/data_version")
    return out


def step_pids(instance: dg.DagsterInstance) -> set[int]:
    """The pid of the process that started each step of every run (recorded with the event)."""
    return {r.event_log_entry.dagster_event.pid for run in instance.get_runs()
            for r in instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.STEP_START).records}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("dask")
    run_config = yaml.safe_load((REPO / "deploy" / "dask" / "run_config.yaml").read_text())

    # Both runs write to the same data path (tables record the raw files' paths): first the
    # reference, in-process, in its own persistent instance, moved aside; then the dask run.
    data = root / "data"
    for d in ("local_home", "dask_home"):
        (root / d).mkdir()
    with dg.DagsterInstance.local_temp(str(root / "local_home")) as local:
        local_results = tissue_runs(lambda job, pk: defs.resolve_job_def(job).execute_in_process(
            instance=local, run_config={"resources": resources_config(data)}, partition_key=pk,
            raise_on_error=False))
        local_versions = data_versions(local)
    local_data = data.rename(root / "local_data")

    # The dask run is the command a user types: deploy/dask/run_config.yaml plus the same resource
    # settings, in one file; the CLI's own environment names the same data directory and protocol.
    dask_data, home = data, root / "dask_home"
    config_file = root / "dask_run_config.yaml"
    config_file.write_text(yaml.safe_dump({**run_config, "resources": resources_config(dask_data)}))
    with dask_processes(2, log_dir=root) as (address, worker_pids):
        env = {**os.environ, "GENEBENCH_DASK_SCHEDULER": address,  # read by run_config.yaml's {env: ...}
               "DAGSTER_HOME": str(home), "GENEBENCH_DATA_DIR": str(dask_data), "GENEBENCH_SOURCE": "demo",
               "GENEBENCH_JOBS": "1"}
        cli = subprocess.run([str(Path(sys.executable).with_name("genebench")), "materialize", "--tissue", TISSUE,
                              "--protocol", "strict", "--run-config", str(config_file)],
                             env=env, capture_output=True, text=True, timeout=900)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        dask_runs = list(reversed(instance.get_runs()))  # oldest first
        dask_versions, pids = data_versions(instance), step_pids(instance)
    return dict(local=local_results, cli=cli, dask_runs=dask_runs, local_data=local_data, dask_data=dask_data,
                local_versions=local_versions, dask_versions=dask_versions, worker_pids=worker_pids,
                step_pids=pids)


def test_every_step_ran_on_a_dask_worker_process(runs):
    assert all(r.success for r in runs["local"])
    cli = runs["cli"]
    assert cli.returncode == 0, cli.stdout[-3000:] + cli.stderr[-3000:]
    assert "done in" in cli.stdout and "0 failed" in cli.stdout, cli.stdout[-2000:]
    # The command's runs, all on the dask executor: catalog, one per study, the tissue, the leaderboards.
    assert [r.job_name for r in runs["dask_runs"]] == ["catalog_job", *["study_job"] * len(MISSIONS), "tissue_job",
                                                       "results_job"]
    assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs["dask_runs"])
    assert all("dask" in r.run_config["execution"]["config"] for r in runs["dask_runs"])
    assert all(r.tags.get("genebench/protocol") == "strict" for r in runs["dask_runs"])
    assert runs["step_pids"], "no step ran"
    # Steps ran in the worker processes, never in this (submitting) process.
    assert runs["step_pids"] <= set(runs["worker_pids"]), (runs["step_pids"], runs["worker_pids"])
    assert os.getpid() not in runs["step_pids"]


def test_tables_and_data_versions_equal_the_in_process_run(runs):
    local, remote = tables(runs["local_data"]), tables(runs["dask_data"])
    # Tables of every stage (layout is TableStore's: protocol-dependent assets sit under tables/strict/).
    for asset in ("raw_counts", "normalized_expression", "pathway_scores", "lomo_folds", "model_predictions",
                  "evaluation_summary"):
        assert any(f"/{asset}/" in k or k.endswith(f"/{asset}.parquet") for k in local), (asset, sorted(local))
    assert sorted(remote) == sorted(local)
    assert [k for k in local if remote[k] != local[k]] == []
    # The command ends with the leaderboards (results_job), which the in-process runs here do not make.
    from genebench_assets.defs.runtime.jobs import RESULTS_ASSETS

    dask_versions = {k: v for k, v in runs["dask_versions"].items() if k[0] not in RESULTS_ASSETS}
    assert sorted(dask_versions) == sorted(runs["local_versions"])
    assert [k for k, v in runs["local_versions"].items() if dask_versions[k] != v] == []
    assert any(asset == "evaluation_summary" for asset, _ in runs["dask_versions"])


def test_no_cluster_is_a_config_error_not_a_local_fallback():
    job = defs.resolve_job_def("catalog_job")
    # dagster-dask alone would start a LocalCluster for both of these; genebench's executor refuses them.
    for bad in ({"dask": {}}, {"dask": {"cluster": {"local": {}}}}):
        with pytest.raises(dg.DagsterInvalidConfigError):
            dg.validate_run_config(job, {"execution": {"config": bad}})


def test_unreachable_scheduler_fails_the_run_and_writes_nothing(tmp_path):
    import dask

    data = tmp_path / "data"
    config = {"execution": {"config": {"dask": {"cluster": {"existing": {"address": "tcp://127.0.0.1:9"}}}}},
              "resources": resources_config(data)}
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        (tmp_path / "home").mkdir()
    with dg.DagsterInstance.local_temp(str(tmp_path / "home")) as instance:
            result = execute_job_by_name(instance, "catalog_job", config)
            assert not result.success
            assert not any(e.is_step_start for e in result.all_events)
            assert instance.get_latest_materialization_event(dg.AssetKey("osdr_catalog")) is None
    assert not (data / "tables").exists()


def test_slurm_config_validates_and_renders_a_job_script():
    config = yaml.safe_load((REPO / "deploy" / "dask" / "slurm_run_config.yaml").read_text())
    dg.validate_run_config(defs.resolve_job_def("study_job"), {
        **config, "resources": resources_config(Path("/shared/genebench/data"))})
    jobqueue = pytest.importorskip("dask_jobqueue", reason="dask-jobqueue not installed (pip install dask-jobqueue)")
    kwargs = config["execution"]["config"]["dask"]["cluster"]["slurm"]
    # Render the job script the executor would submit; nothing reaches sbatch.
    cluster = jobqueue.SLURMCluster(**{**kwargs, "n_workers": 0}, scheduler_options={"host": "127.0.0.1"})
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH -A my-lab" in script and "#SBATCH -p normal" in script
    assert "GENEBENCH_DATA_DIR=/shared/genebench/data" in script
    assert "--nworkers 4" in script and "--nthreads 1" in script


BAD_RUN_CONFIGS = {
    # file content -> what the one line must name (field, value)
    "dask: {cluster: {local: {}}}": ("execution.config.dask.cluster", "unknown field 'local'"),
    "dask: {}": ("execution.config.dask", "missing required field 'cluster'"),
    "dask: {cluster: {existing: {address: {env: GENEBENCH_TEST_UNSET_SCHEDULER}}}}":
        ("execution.config.dask.cluster.existing.address", "GENEBENCH_TEST_UNSET_SCHEDULER is not set"),
    None: ("execution.config", "missing"),  # no executor chosen: would run locally without saying so
    "in_process: {}\nresources: {settings: {config: {data_dir: /somewhere/else}}}":
        ("resources.settings.config.data_dir", "'/somewhere/else' differs"),
}


@pytest.mark.parametrize("executor", list(BAD_RUN_CONFIGS), ids=["local-cluster", "no-cluster", "unset-env",
                                                               "no-executor", "other-data-dir"])
def test_bad_run_config_stops_materialize_in_one_line_before_anything_runs(executor, tmp_path, monkeypatch, capsys):
    from genebench_assets.cli import main

    data, home = tmp_path / "data", tmp_path / "home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("GENEBENCH_DATA_DIR", str(data))
    monkeypatch.delenv("GENEBENCH_TEST_UNSET_SCHEDULER", raising=False)
    bad = tmp_path / "bad_run_config.yaml"
    bad.write_text("resources: {}\n" if executor is None else
                   "execution:\n  config:\n" + "".join(f"    {ln}\n" for ln in executor.splitlines()[:1]) +
                   "".join(f"{ln}\n" for ln in executor.splitlines()[1:]))
    try:  # refused by the argument parser (SystemExit) or by the command (returns the exit code)
        code = main(["materialize", "--tissue", TISSUE, "--run-config", str(bad)])
    except SystemExit as exited:
        code = exited.code
    assert code == 2
    err = capsys.readouterr().err
    field, what = BAD_RUN_CONFIGS[executor]
    assert len(err.strip().splitlines()) == 1, err
    assert str(bad) in err and f": {field}: " in err and what in err, err
    assert "Traceback" not in err
    # Nothing ran: no run recorded (refused before the instance is even created), no table, no raw file.
    if home.exists():
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert instance.get_runs() == []
    assert not data.exists() or not any(data.rglob("*.parquet")), sorted(data.rglob("*"))


def test_missing_run_config_file_is_one_line(tmp_path, monkeypatch, capsys):
    from genebench_assets.cli import main

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GENEBENCH_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(SystemExit) as exited:
        main(["materialize", "--tissue", TISSUE, "--run-config", str(tmp_path / "nope.yaml")])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and len(err.strip().splitlines()) == 1 and "nope.yaml" in err, err
