"""The benchmark path on a real dask.distributed cluster (issue 14): a `dask scheduler` and two
`dask worker` processes on 127.0.0.1 run every step of one tissue (catalog -> studies -> folds ->
predictions -> evaluation) through the code location's `genebench_executor` configured by
deploy/dask/run_config.yaml; tables and data versions equal an in-process run of the same jobs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg
import pytest
import yaml

from genebench_assets.defs.execution import execute_job_by_name
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
#   folder names, the fold inputs' `study_versions`) and the pointer CURRENT.json (which also holds
#   the promotion time and run ids) differ a second apart; the snapshots' contents are compared;
# - model_fit_times holds wall-clock fit times (kept beside the predictions for that reason).
RUN_SPECIFIC_FIELDS = {"fetched_at", "study_versions"}


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

    dask_data, home = data, root / "dask_home"
    with dask_processes(2, log_dir=root) as (address, worker_pids):
        os.environ["GENEBENCH_DASK_SCHEDULER"] = address  # read by run_config.yaml's {env: ...}
        try:
            with dg.DagsterInstance.local_temp(str(home)) as instance:
                config = {**run_config, "resources": resources_config(dask_data)}
                dask_results = tissue_runs(lambda job, pk: execute_job_by_name(instance, job, config, pk))
                step_pids = {e.pid for r in dask_results for e in r.all_events if e.is_step_start}
                dask_versions = data_versions(instance)
        finally:
            del os.environ["GENEBENCH_DASK_SCHEDULER"]
    return dict(local=local_results, dask=dask_results, local_data=local_data, dask_data=dask_data,
                local_versions=local_versions, dask_versions=dask_versions, worker_pids=worker_pids,
                step_pids=step_pids)


def test_every_step_ran_on_a_dask_worker_process(runs):
    assert all(r.success for r in runs["local"])
    assert all(r.success for r in runs["dask"]), [r.job_def.name for r in runs["dask"] if not r.success]
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
    assert sorted(runs["dask_versions"]) == sorted(runs["local_versions"])
    assert [k for k, v in runs["local_versions"].items() if runs["dask_versions"][k] != v] == []
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
