"""The leaderboards' job and a plug-in's lineage (issue 20): after a tissue run with a plug-in, `results_job`
(what `genebench materialize` runs last, defs/runtime/jobs.END_OF_RUN_JOBS) materializes the GeneLab
leaderboard with the user's row beside the published ones; `genebench lineage --model NAME` traces the
plug-in when it is named (--model-spec or GENEBENCH_MODEL_SPECS) and refuses it in one line otherwise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from genebench_assets.defs.models.resources import ModelSettings
from genebench_assets.defs.results.refresh import refresh_leaderboards
from genebench_assets.defs.runtime.jobs import END_OF_RUN_JOBS
from genebench_assets_tests.defs.demo_graph import DemoGraph

pytestmark = pytest.mark.slow   # a demo tissue through the graph
TISSUE, TASK = "gastrocnemius", "A2"
SPEC = "my_rf=examples.plugin_model:make_model"   # the example plug-in (importable from the repository root)
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    root = tmp_path_factory.mktemp("results_job")
    g = DemoGraph(root / "data")
    (root / "home").mkdir()
    (root / "home" / "dagster.yaml").touch()
    g.instance = dg.DagsterInstance.local_temp(tempdir=str(root / "home"))
    g.root = root
    sys.path.insert(0, str(REPO))
    assert g.catalog().success
    for t, m in g.settings.catalog().pairs():
        if t == TISSUE:
            assert g.study(t, m).success, m
    g.resources["model_settings"] = ModelSettings(models=["lr", "negative_control"], feature_sets=["genes"], n_jobs=1,
                                                  model_specs=[SPEC], entry_points=False)
    assert g.tissue(TISSUE).success
    yield g
    sys.path.remove(str(REPO))


def test_results_job_materializes_the_leaderboard_with_the_users_rows(graph, monkeypatch):
    monkeypatch.setenv("GENEBENCH_SPACEOMICSBENCH_DIR", str(graph.root / "no_published"))   # GeneLab rows only
    assert END_OF_RUN_JOBS == (("results_job", "leaderboards"),)
    result = refresh_leaderboards(graph.instance, run_config={
        "resources": {"settings": {"config": {"data_dir": str(graph.data_dir)}}}})
    assert result.success
    mat = graph.instance.get_latest_materialization_event(dg.AssetKey("genelab_leaderboard"))
    assert mat is not None and mat.run_id == result.run_id
    rows = mat.asset_materialization.metadata["rows"].value[TASK]
    kinds = {(r["model"], r["kind"]) for r in rows}
    assert {("my_rf", "plug-in"), ("lr", "built-in")} <= kinds
    assert any(k == "published" for _, k in kinds)
    assert graph.instance.get_latest_materialization_event(dg.AssetKey("spaceomicsbench_results_leaderboard"))


def _lineage(graph, *args, env=None):
    base = {"DAGSTER_HOME": str(graph.root / "home"), "GENEBENCH_DATA_DIR": str(graph.data_dir),
            "PATH": str(Path(sys.executable).parent), "HOME": str(graph.root)}
    return subprocess.run([sys.executable, "-m", "genebench_assets.cli", "lineage", "--task", TASK, *args],
                          env={**base, **(env or {})}, cwd=graph.root, capture_output=True, text=True, timeout=300)


def test_lineage_of_a_plugin_named_by_model_spec_or_the_environment(graph):
    for args, env in ((["--model-spec", SPEC], None), ([], {"GENEBENCH_MODEL_SPECS": SPEC})):
        proc = _lineage(graph, "--model", "my_rf", "--json", *args, env=env)
        assert proc.returncode == 0, proc.stderr[-2000:]
        chain = json.loads(proc.stdout[proc.stdout.index("{"):])
        assert chain["model_code"]["plugin"] == SPEC and len(chain["model_code"]["code_version"]) == 16


def test_lineage_of_an_unnamed_plugin_is_refused_in_one_line(graph):
    proc = _lineage(graph, "--model", "my_rf")
    assert proc.returncode == 2 and proc.stdout == ""
    line = proc.stderr.strip()
    assert "\n" not in line and "'my_rf' is not a model; known: ['lr', 'pca_lr', 'rf', 'xgb'" in line
    assert "--model-spec NAME=MODULE:FACTORY" in line and "GENEBENCH_MODEL_SPECS" in line
    proc = _lineage(graph, "--model", "my_rf", "--model-spec", "my_rf=no colon")
    assert proc.returncode == 2 and "\n" not in proc.stderr.strip() and "expected NAME=MODULE:FACTORY" in proc.stderr
