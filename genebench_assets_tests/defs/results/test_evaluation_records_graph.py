"""evaluation_summary writes one results record per (feature set, model) (issue 20), on the demo."""

import pytest

from genebench_assets.science.results.record import read_records
from genebench_assets_tests.defs.demo_graph import DemoGraph

pytestmark = pytest.mark.slow   # a demo tissue through the graph


def test_evaluation_summary_writes_records(tmp_path):
    g = DemoGraph(tmp_path, models=("lr", "negative_control"))
    tissue = "gastrocnemius"
    assert g.catalog().success
    for t, m in g.settings.catalog().pairs():
        if t == tissue:
            assert g.study(t, m).success, m
    result = g.tissue(tissue)
    assert result.success
    records = read_records(tmp_path, benchmark="genelab")
    assert [(r["task"], r["model"], r["kind"], r["feature_set"], r["protocol"]) for r in records] == [
        ("A2", "lr", "built-in", "genes", "strict")]   # controls are not leaderboard entries
    r = records[0]
    assert len(r["folds"]) >= 3 and r["roc"] and r["cpu_seconds"] is not None and r["seeds"] == [42]
    meta = result.asset_materializations_for_node("evaluation_summary")[0].metadata
    assert meta["results_records"].value.endswith("results/genelab/A2")
    assert r["summary"]["mean"] == meta["auroc_genes_lr"].value
