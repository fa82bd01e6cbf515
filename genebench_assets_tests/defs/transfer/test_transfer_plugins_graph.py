"""Model plug-ins on Category B through the real graph (issue 20), on the demo mirror (gastrocnemius RR-1 /
RR-5 / RR-9): a plug-in in a temporary module runs on every mission pair beside the built-ins, behind the pair
folds' blocking checks, with its code version in the predictions' data version and the evaluation's provenance,
and a results record that `genebench results --task B2` shows beside the published rows; the built-ins' numbers
are the ones a run without plug-ins gives. A plug-in returning NaN or peeking at the test labels ends the run in
one line naming model, pair and problem, with nothing written and no record left."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from genebench_assets.defs.models.resources import ModelSettings
from genebench_assets.defs.runtime.run_report import run_outcome
from genebench_assets.science.results.record import read_records
from genebench_assets_tests.conftest import published_path
from genebench_assets_tests.defs.demo_graph import check_results, cloned_graph, materialized, mirror_baseline
from genebench_assets_tests.defs.models.plugin_sources import plugin_module  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow
TISSUE, MISSIONS = "gastrocnemius", ["RR-1", "RR-5", "RR-9"]
B_ASSETS = ["transfer_pair_folds", "transfer_predictions", "transfer_evaluation"]


def settings(*specs, seeds=()):
    return ModelSettings(models=["pca_lr"], feature_sets=["genes"], n_jobs=1, model_specs=list(specs),
                         entry_points=False, fit_timeout=600.0, seeds=list(seeds))


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    return mirror_baseline(tmp_path_factory.mktemp("transfer_plugins"), TISSUE, MISSIONS)


@pytest.fixture
def clone(baseline, tmp_path):
    with cloned_graph(baseline, tmp_path) as g:
        yield g


def test_a_plugin_runs_on_every_pair_with_a_record_beside_the_published_rows(clone, plugin_module, monkeypatch, capsys):
    from genebench_assets.cli import main
    from genebench_assets.science.models.plugins import plugin_code_version

    clone.resources["model_settings"] = settings()
    assert clone.tissue(TISSUE, B_ASSETS).success
    store = clone.settings.table_store()
    without = store.read_json("transfer_evaluation", TISSUE)
    without_preds = store.read_frame("transfer_predictions", TISSUE)

    spec = f"tmp_b={plugin_module}:good"
    clone.resources["model_settings"] = settings(spec)
    result = clone.tissue(TISSUE, B_ASSETS)
    assert result.success and materialized(result) == B_ASSETS
    assert all(check_results(result).values())  # the pair folds' blocking checks gate the plug-in too
    pairs = store.read_frame("transfer_evaluation_pairs", TISSUE)
    expected = {f"pair_{a}_{b}" for a in MISSIONS for b in MISSIONS if a != b}
    assert set(pairs.loc[pairs["model"] == "tmp_b", "fold_id"]) == expected
    summary = {r["model"]: r for r in store.read_json("transfer_evaluation", TISSUE)}
    # the built-ins' numbers and scores do not move when a plug-in runs beside them
    assert [summary[r["model"]] for r in without] == without
    preds = store.read_frame("transfer_predictions", TISSUE)
    pd.testing.assert_frame_equal(preds[~preds["model"].str.endswith("tmp_b")].reset_index(drop=True), without_preds)
    # the plug-in's positive control (Category A's): one planted-label fit on one pair, reported beside its rows
    assert preds.loc[preds["model"] == "positive_control:tmp_b", "fold_id"].nunique() == 1
    assert summary["positive_control:tmp_b"]["mean_auroc"] >= 0.9

    version = plugin_code_version(spec)
    mat = result.asset_materializations_for_node("transfer_predictions")[0]
    assert mat.metadata["plugins"].value["tmp_b"]["code_version"] == version
    assert mat.metadata["label_blind"].value["tmp_b"]["rows_reordered_scores_follow"] is True
    assert mat.tags["dagster/data_version"] != store.sha256("transfer_predictions", TISSUE)[:16]
    ev = result.asset_materializations_for_node("transfer_evaluation")[0].metadata
    assert ev["positive_control"].value["tmp_b"]["passed"] is True
    assert ev["provenance"].value["plugins"]["tmp_b"]["code_version"] == version

    records = {(r["model"], r["kind"]): r for r in read_records(clone.settings.data_dir, benchmark="genelab", task="B2")}
    assert {("tmp_b", "plug-in"), ("pca_lr", "built-in"), ("lfc_direction", "built-in")} == set(records)
    rec = records[("tmp_b", "plug-in")]
    assert rec["code_version"] == version and rec["summary"]["mean"] == pytest.approx(summary["tmp_b"]["mean_auroc"])
    assert len(rec["folds"]) == 6 and rec["seeds"] == [42] and rec["cpu_seconds"] > 0

    monkeypatch.setenv("GENEBENCH_DATA_DIR", str(clone.settings.data_dir))
    assert main(["results", "--task", "B2", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert any(r["model"] == "tmp_b" and r["kind"] == "plug-in" for r in rows)
    published_path("genelab_evaluation", "B_cross_mission_summary.json")
    assert {r["model"] for r in rows if r["kind"] == "published"} >= {"pca_lr"}


def test_two_seeds_give_mean_and_sd_over_seeds_on_b_and_seed_42_is_the_default_run(clone, plugin_module):
    """`--seeds 42,43`: each seed a full run of the built-ins' and the plug-in's fits; the tissue rows and the
    results records give the mean ± sd over seeds and list both seeds; seed 42's pairs are the default run's."""
    clone.resources["model_settings"] = settings()
    assert clone.tissue(TISSUE, B_ASSETS).success
    store = clone.settings.table_store()
    default_pairs = store.read_frame("transfer_evaluation_pairs", TISSUE)
    default_records = read_records(clone.settings.data_dir, benchmark="genelab", task="B2")
    assert default_records and all(r["seeds"] == [42] and "sd_over_seeds" not in r["summary"] for r in default_records)
    assert "seed" not in store.read_frame("transfer_predictions", TISSUE).columns

    clone.resources["model_settings"] = settings(f"tmp_b={plugin_module}:good", seeds=(42, 43))
    result = clone.tissue(TISSUE, B_ASSETS)
    assert result.success and all(check_results(result).values())
    assert sorted(store.read_frame("transfer_predictions", TISSUE)["seed"].unique()) == [42, 43]
    pairs = store.read_frame("transfer_evaluation_pairs", TISSUE)
    seed42 = pairs[(pairs["seed"] == 42) & pairs["model"].isin(["pca_lr", "lfc_direction"])]
    pd.testing.assert_frame_equal(seed42.drop(columns="seed").reset_index(drop=True), default_pairs, check_dtype=False)
    summary = {r["model"]: r for r in store.read_json("transfer_evaluation", TISSUE)}
    records = {r["model"]: r for r in read_records(clone.settings.data_dir, benchmark="genelab", task="B2")
               if r["seeds"] == [42, 43]}
    for model in ("pca_lr", "lfc_direction", "tmp_b"):
        per_seed = pairs[pairs["model"] == model].groupby("seed")["auroc"].mean()
        row, rec = summary[model], records[model]
        assert row["n_seeds"] == 2 and row["seeds"] == "42,43" and row["n_pairs"] == 6
        assert row["mean_auroc"] == pytest.approx(per_seed.mean())
        assert row["sd_auroc_over_seeds"] == pytest.approx(per_seed.std(ddof=1))
        assert rec["summary"]["mean"] == pytest.approx(per_seed.mean())
        assert rec["summary"]["sd_over_seeds"] == pytest.approx(row["sd_auroc_over_seeds"])
        assert len(rec["folds"]) == 12 and {f["seed"] for f in rec["folds"]} == {42, 43}
    assert summary["lfc_direction"]["sd_auroc_over_seeds"] == 0.0  # deterministic: every seed gives the same scores
    costs = result.asset_materializations_for_node("transfer_predictions")[0].metadata["fit_cost"].value
    assert costs["tmp_b"]["seeds"] == [42, 43] and costs["tmp_b"]["fits"] == 12
    # its positive control (one fit, first seed) is counted apart, as Category A counts it
    assert costs["positive_control:tmp_b"]["fits"] == 1 and costs["positive_control:tmp_b"]["seeds"] == [42]


@pytest.mark.parametrize("factory, problem", [
    ("nan", "scores are NaN or inf"),
    ("peek_labels", "reads test labels or row order through a side channel"),
])
def test_a_bad_plugin_ends_in_one_line_and_leaves_no_record(clone, plugin_module, monkeypatch, tmp_path, factory, problem):
    from genebench_assets.science.tasks.folds import Fold

    clone.resources["model_settings"] = settings()
    assert clone.run(["transfer_pair_folds"], TISSUE).success
    store = clone.settings.table_store()
    folds = [Fold.from_dict(d) for d in store.read_json("transfer_pair_folds", TISSUE)["folds"]]
    peek = tmp_path / "labels.json"  # the side channel: every pair's test labels in row order
    peek.write_text(json.dumps([list(f.y_test) for f in folds]))
    monkeypatch.setenv("GB_PEEK_LABELS", str(peek))
    clone.resources["model_settings"] = settings(f"bad_{factory}={plugin_module}:{factory}")
    result = clone.run(["transfer_predictions", "transfer_evaluation"], TISSUE)
    ok, _, report = run_outcome(clone.instance, result)
    assert not ok and materialized(result) == []
    line = next(x for x in report if "transfer_predictions" in x)
    assert f"model bad_{factory}, fold pair_" in line and "(genes)" in line and problem in line, report
    assert "\n" not in line and "Traceback" not in " ".join(report)
    assert not store.exists("transfer_predictions", TISSUE)
    assert read_records(clone.settings.data_dir, benchmark="genelab", task="B2") == []
