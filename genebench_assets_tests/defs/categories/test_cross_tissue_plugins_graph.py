"""Model plug-ins on Category C methods A and B (gene features) through the real graph (issue 20), on the small
demo catalog of test_cross_tissue_genes_graph (C4 thymus -> kidney): a plug-in in a temporary module is fitted
on the training tissue beside PCA-LR, for both methods and protocols, behind the gene folds' blocking checks;
PCA-LR's numbers are the ones a run without plug-ins gives; results records (built-in and plug-in) are written
and `genebench results --task C4` lists the plug-in. A plug-in returning NaN ends the run in one line with no
result file and no record."""

from __future__ import annotations

import json

import pytest

from genebench_assets.defs.models.resources import ModelSettings
from genebench_assets.defs.runtime.run_report import run_outcome
from genebench_assets.science.results.record import read_records
from genebench_assets_tests.defs.categories.test_cross_tissue_genes_graph import C_ASSETS, baseline  # noqa: F401
from genebench_assets_tests.defs.categories.test_cross_tissue_genes_graph import graph_at
from genebench_assets_tests.defs.demo_graph import check_results, cloned_graph, materialized
from genebench_assets_tests.defs.models.plugin_sources import plugin_module  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow


@pytest.fixture
def clone(baseline, tmp_path):  # noqa: F811
    with cloned_graph(baseline, tmp_path, make_graph=graph_at) as g:
        yield g


def settings(*specs, seeds=()):
    return ModelSettings(models=["pca_lr"], feature_sets=["genes"], n_jobs=1, model_specs=list(specs),
                         entry_points=False, fit_timeout=600.0, seeds=list(seeds))


def _doc(g):
    return json.loads((g.data_dir / "categories" / "cross_tissue_gene_transfer" / "C4.json").read_text())


def test_a_plugin_runs_on_both_methods_and_protocols_beside_pca_lr(clone, plugin_module, monkeypatch, capsys):
    from genebench_assets.cli import main
    from genebench_assets.science.models.plugins import plugin_code_version

    clone.resources["model_settings"] = settings()
    assert clone.run(C_ASSETS, "C4").success
    without = _doc(clone)
    assert "plugins" not in without
    spec = f"tmp_c={plugin_module}:good"
    clone.resources["model_settings"] = settings(spec)
    result = clone.run(C_ASSETS, "C4")
    assert result.success and materialized(result) == C_ASSETS and all(check_results(result).values())
    doc = _doc(clone)
    assert {k: v for k, v in doc.items() if k != "plugins"} == without  # PCA-LR's numbers do not move
    version = plugin_code_version(spec)
    assert doc["plugins"]["tmp_c"]["code_version"] == version
    computed = [(p, m) for p in ("seed", "strict") for m in ("method_a", "method_b") if doc[p][m]["auroc"] is not None]
    assert ("strict", "method_a") in computed
    for p, m in computed:
        assert 0.0 <= doc["plugins"]["tmp_c"][p][m]["auroc"] <= 1.0
    meta = result.asset_materializations_for_node("cross_tissue_gene_transfer")[0]
    assert meta.metadata["label_blind"].value["tmp_c"]["rows_reordered_scores_follow"] is True
    # the plug-in's positive control (Category A's): one planted-label fit on strict method A, beside its results
    control = doc["plugins"]["tmp_c"]["positive_control"]
    assert control["fold"] == "strict/method_a" and control["model"] == "positive_control:tmp_c"
    assert meta.metadata["positive_control"].value["tmp_c"] == {"auroc": control["auroc"], "min": 0.9, "passed": True}
    records = read_records(clone.data_dir, benchmark="genelab", task="C4")
    plug = {(r["protocol"], r["feature_set"]) for r in records if r["model"] == "tmp_c" and r["kind"] == "plug-in"}
    assert plug == set(computed) and all(r["code_version"] == version for r in records if r["model"] == "tmp_c")
    monkeypatch.setenv("GENEBENCH_DATA_DIR", str(clone.data_dir))
    assert main(["results", "--task", "C4", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert any(r["model"] == "tmp_c" and r["kind"] == "plug-in" for r in rows)


def test_two_seeds_give_mean_and_sd_over_seeds_on_c_and_seed_42_is_the_default_run(clone, plugin_module):
    """`--seeds 42,43` on C4: PCA-LR and the plug-in fitted once per seed for each method and protocol; the file
    and the records give the mean ± sd over seeds with each seed's AUROC; seed 42's is the default run's."""
    clone.resources["model_settings"] = settings()
    assert clone.run(C_ASSETS, "C4").success
    default = _doc(clone)
    default_records = read_records(clone.data_dir, benchmark="genelab", task="C4")
    assert default_records and all(r["seeds"] == [42] and "sd_over_seeds" not in r["summary"] for r in default_records)

    clone.resources["model_settings"] = settings(f"tmp_c={plugin_module}:good", seeds=(42, 43))
    result = clone.run(C_ASSETS, "C4")
    assert result.success and all(check_results(result).values())
    doc = _doc(clone)
    records = {(r["model"], r["protocol"], r["feature_set"]): r for r in read_records(clone.data_dir, benchmark="genelab",
                                                                                      task="C4") if r["seeds"] == [42, 43]}
    computed = [(p, m) for p in ("seed", "strict") for m in ("method_a", "method_b") if doc[p][m]["auroc"] is not None]
    assert ("strict", "method_a") in computed
    for p, m in computed:
        for model, r in (("pca_lr", doc[p][m]), ("tmp_c", doc["plugins"]["tmp_c"][p][m])):
            aurocs = [x["auroc"] for x in r["per_seed"]]
            assert [x["seed"] for x in r["per_seed"]] == [42, 43] and r["n_seeds"] == 2 and r["seeds"] == "42,43"
            assert r["auroc"] == pytest.approx(sum(aurocs) / 2)
            assert r["sd_auroc_over_seeds"] == pytest.approx(abs(aurocs[0] - aurocs[1]) / 2 ** 0.5)
            rec = records[(model, p, m)]
            assert rec["summary"]["mean"] == pytest.approx(r["auroc"])
            assert rec["summary"]["sd_over_seeds"] == pytest.approx(r["sd_auroc_over_seeds"])
            assert [f["seed"] for f in rec["folds"]] == [42, 43]
        # PCA-LR's seed 42 is the default run's number
        for key in ("auroc", "ci_low", "ci_high", "perm_p"):
            assert doc[p][m]["per_seed"][0][key] == default[p][m][key]
    cost = result.asset_materializations_for_node("cross_tissue_gene_transfer")[0].metadata
    assert cost["seeds"].value == [42, 43]


def test_a_nan_plugin_ends_in_one_line_with_no_result_or_record(clone, plugin_module):
    clone.resources["model_settings"] = settings()
    assert clone.run(["cross_tissue_gene_folds"], "C4").success
    clone.resources["model_settings"] = settings(f"bad_nan={plugin_module}:nan")
    result = clone.run(["cross_tissue_gene_transfer"], "C4")
    ok, _, report = run_outcome(clone.instance, result)
    assert not ok and materialized(result) == []
    line = next(x for x in report if "cross_tissue_gene_transfer" in x)
    assert "model bad_nan, fold C4_method_" in line and "scores are NaN or inf" in line and "\n" not in line, report
    assert not (clone.data_dir / "categories" / "cross_tissue_gene_transfer" / "C4.json").exists()
    assert read_records(clone.data_dir, benchmark="genelab", task="C4") == []
