"""Model plug-ins through the real graph (issue 20): a plug-in defined in a temporary module is registered,
a tissue materialized, and the plug-in found in the predictions, the evaluation (mean ± sd over seeds), its
lineage, code version and seeds; a plug-in that peeks at test labels, one returning NaN and one that hangs
each end in one line naming model, fold and problem, with no result written. The example plug-in
(examples/plugin_model.py) runs through the graph too."""

from __future__ import annotations

import json
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from genebench_assets.defs.lineage.tracing import lineage_from_instance
from genebench_assets.defs.models.resources import ModelSettings
from genebench_assets.defs.runtime.run_report import run_outcome
from genebench_assets_tests.defs.demo_graph import DemoGraph, check_results, materialized

pytestmark = pytest.mark.slow
TISSUE, MISSIONS = "gastrocnemius", ["RR-1", "RR-5", "RR-9"]
REPO = Path(__file__).resolve().parents[3]

PLUGINS = '''
import os
import time
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

def good(seed=42):
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.05, class_weight="balanced", max_iter=500,
                                                              random_state=seed))

class Fixed:
    def fit(self, X, y):
        return self
    def proba(self, p):
        p = np.asarray(p, dtype=float)
        return np.column_stack([1 - p, p])

class Nan(Fixed):
    def predict_proba(self, X):
        return self.proba(np.full(len(X), np.nan))

class Hang(Fixed):
    def fit(self, X, y):
        time.sleep(600)

class Peek(Fixed):
    """Reads the test labels, in the fold's order, from the stored folds (a side channel)."""
    def predict_proba(self, X):
        import json
        from genebench_assets.science.tasks.folds import Fold, fold_test_labels
        with open(os.environ["GB_PEEK_FOLDS"]) as f:
            stored = json.load(f)
        for f in map(Fold.from_dict, stored):
            y = fold_test_labels(f)
            if len(y) == len(X):
                return self.proba(0.1 + 0.8 * y.to_numpy(dtype=float))
        raise RuntimeError("no fold of this size")

def nan():
    return Nan()
def hang():
    return Hang()
def peek():
    return Peek()
'''


@pytest.fixture(scope="module")
def plugin_module(tmp_path_factory):
    root = tmp_path_factory.mktemp("plugin_src")
    name = f"gb_graph_plugins_{uuid.uuid4().hex[:8]}"
    (root / f"{name}.py").write_text(textwrap.dedent(PLUGINS))
    sys.path.insert(0, str(root))
    yield name
    sys.path.remove(str(root))


def settings(*specs, seeds=(42,), timeout=600.0):
    return ModelSettings(models=["pca_lr", "negative_control"], feature_sets=["genes"], n_jobs=1,
                         model_specs=list(specs), seeds=list(seeds), entry_points=False, fit_timeout=timeout)


@pytest.fixture(scope="module")
def graph(tmp_path_factory, plugin_module):
    g = DemoGraph(tmp_path_factory.mktemp("plugins") / "data")
    assert g.catalog().success
    for m in MISSIONS:
        assert g.study(TISSUE, m).success, m
    g.resources["model_settings"] = settings(f"tmp_plugin={plugin_module}:good", seeds=(42, 43))
    g.tissue_result = g.tissue(TISSUE)
    return g


def test_a_plugin_runs_through_the_graph_with_seeds_lineage_and_code_version(graph, plugin_module):
    from genebench_assets.science.models.plugins import plugin_code_version

    result = graph.tissue_result
    assert result.success and set(materialized(result)) == {"lomo_folds", "model_predictions", "evaluation_summary"}
    assert all(check_results(result).values()), check_results(result)  # every check, the controls bracket too
    store = graph.settings.table_store()
    preds = store.read_frame("model_predictions", TISSUE)
    assert sorted(preds["seed"].unique()) == [42, 43]
    assert {"tmp_plugin", "positive_control:tmp_plugin"} <= set(preds["model"])
    summary = store.read_frame("evaluation_summary", TISSUE).set_index("model")
    assert summary.loc["tmp_plugin", "n_seeds"] == 2 and summary.loc["tmp_plugin", "sd_auroc_over_seeds"] >= 0
    assert summary.loc["positive_control:tmp_plugin", "mean_auroc"] >= 0.9
    mat = next(e.event_specific_data.materialization for e in result.get_asset_materialization_events()
               if e.asset_key.to_user_string() == "model_predictions")
    version = plugin_code_version(f"tmp_plugin={plugin_module}:good")
    assert mat.metadata["plugin_code_versions"].value == {"tmp_plugin": version}
    assert mat.metadata["seeds"].value == [42, 43]
    assert mat.metadata["label_blind"].value["tmp_plugin"]["rows_reordered_scores_follow"] is True
    cost = mat.metadata["fit_cost"].value["tmp_plugin"]
    assert cost["seeds"] == [42, 43] and cost["cpu_seconds"] > 0 and cost["peak_rss_mb"] > 0
    assert mat.tags["dagster/data_version"] != store.sha256("model_predictions", TISSUE)[:16]  # plug-in version in it
    fit_times = store.read_json("model_fit_times", TISSUE)
    assert {"model", "seed", "cpu_seconds", "peak_rss_mb"} <= set(fit_times[0])
    assert {t.get("code_version") for t in fit_times if t["model"] == "tmp_plugin"} == {version}
    from genebench_assets.science.results.record import read_records

    [record] = [r for r in read_records(graph.settings.data_dir) if r["model"] == "tmp_plugin"]
    assert record["kind"] == "plug-in" and record["code_version"].endswith(f"; plug-in {version}")
    chain = lineage_from_instance(graph.instance, tissue=TISSUE, model="tmp_plugin")
    assert chain["evaluation"]["metrics"]["auroc_genes_tmp_plugin"] == pytest.approx(summary.loc["tmp_plugin", "mean_auroc"])
    assert chain["model_code"] == {"plugin": f"tmp_plugin={plugin_module}:good", "code_version": version}
    assert chain["seeds"] == [42, 43]
    from genebench_assets.defs.lineage.tracing import render_lineage_text

    assert f"version {version}, seeds [42, 43]" in render_lineage_text(chain)
    assert chain["raw_files"]


@pytest.mark.parametrize("factory, timeout, problem", [
    ("peek", 600.0, "reads test labels or row order through a side channel"),
    ("nan", 600.0, "NaN or inf"),
    ("hang", 3.0, "slower than the time limit (3 s, GENEBENCH_FIT_TIMEOUT)"),
])
def test_a_bad_plugin_ends_in_one_line_and_leaves_no_result(graph, plugin_module, monkeypatch, tmp_path, factory, timeout, problem):
    store = graph.settings.table_store()
    peek = tmp_path / "folds.json"  # the side channel: the stored folds, test labels included
    peek.write_text(json.dumps(store.read_json("lomo_folds", TISSUE)))
    monkeypatch.setenv("GB_PEEK_FOLDS", str(peek))
    before = store.sha256("model_predictions", TISSUE), store.sha256("evaluation_summary", TISSUE)
    graph.resources["model_settings"] = settings(f"bad_{factory}={plugin_module}:{factory}", timeout=timeout)
    result = graph.run(["model_predictions", "evaluation_summary"], TISSUE)
    ok, _, report = run_outcome(graph.instance, result)
    assert not ok and materialized(result) == []
    line = next(x for x in report if "model_predictions" in x)
    assert f"model bad_{factory}, fold fold_" in line and problem in line and "\n" not in line, report
    assert "Traceback" not in " ".join(report)
    assert (store.sha256("model_predictions", TISSUE), store.sha256("evaluation_summary", TISSUE)) == before


def test_the_example_plugin_runs_through_the_graph(graph, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO))
    graph.resources["model_settings"] = settings("example_lr=examples.plugin_model:make_model")
    result = graph.run(["model_predictions", "evaluation_summary"], TISSUE)
    assert result.success, run_outcome(graph.instance, result)[2]
    summary = graph.settings.table_store().read_frame("evaluation_summary", TISSUE)
    assert "example_lr" in set(summary["model"]) and "seed" not in graph.settings.table_store().read_frame(
        "model_predictions", TISSUE).columns
