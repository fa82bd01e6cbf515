"""NES conservation vs Category B transfer, fed by OUR assets, through the real Dagster graph (issue 11):
nes_conservation_vs_b_transfer reads every tissue's transfer_evaluation and nes_conservation, and
reports Spearman with n, p and every tissue; nothing is hard-coded.

A small demo catalog (3 tissues x 2 missions, 6,000 genes). The DESeq2 step is replaced by a Welch
t-statistic stand-in (same columns): pydeseq2 takes minutes per study on 2 shared cores, and what is
under test is the wiring after it (prerank NES -> nes_conservation -> this asset <- transfer_evaluation),
which runs for real."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets_tests.defs.demo_graph import DemoGraph, materialized

STUDIES = {("gastrocnemius", "RR-1"), ("gastrocnemius", "RR-9"), ("eye", "RR-1"), ("eye", "RR-3"),
           ("kidney", "RR-1"), ("kidney", "RR-3")}
TISSUES = ["gastrocnemius", "eye", "kidney"]
B_ASSETS = ["transfer_pair_folds", "transfer_predictions", "transfer_evaluation"]
NES_STUDY = ["differential_expression", "pathway_nes"]


def small_catalog(path, studies=STUDIES, tissues=TISSUES):
    from genebench_assets.science.osdr.study_catalog import PACKAGED_CATALOG

    raw = yaml.safe_load(PACKAGED_CATALOG.read_text())
    missions = {m for _, m in studies}
    raw["tissues"] = list(tissues)
    raw["task_ids"] = {t: raw["task_ids"][t] for t in tissues}
    raw["studies"] = [s for s in raw["studies"] if (s["tissue"], s["mission"]) in studies]
    raw["missions"] = {m: v for m, v in raw["missions"].items() if m in missions}
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def welch_wald_stand_in(counts: pd.DataFrame, condition: pd.Series, *, test, reference, n_cpus=1):
    """DESeq2's result columns from a Welch t on log2(count + 1): fast, same shape, same sign convention."""
    from scipy.stats import ttest_ind

    x = np.log2(counts.astype(float) + 1)
    a, b = x.loc[:, condition == test], x.loc[:, condition == reference]
    t, p = ttest_ind(a, b, axis=1, equal_var=False)
    lfc = a.mean(axis=1) - b.mean(axis=1)
    return pd.DataFrame({"baseMean": counts.mean(axis=1), "log2FoldChange": lfc, "lfcSE": lfc / np.where(t == 0, 1, t),
                         "stat": t, "pvalue": p, "padj": np.minimum(p * len(p), 1.0)}, index=counts.index)


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    from genebench_assets.science.expression import differential_expression

    root = tmp_path_factory.mktemp("nes_vs_transfer")
    mp = pytest.MonkeyPatch()
    mp.setattr(differential_expression, "deseq2_wald", welch_wald_stand_in)
    g = DemoGraph(root / "data", models=("pca_lr",))
    g.settings = GenebenchSettings(data_dir=str(root / "data"), protocol="strict",
                                   catalog_path=str(small_catalog(root / "catalog.yaml")))
    g.resources["settings"] = g.settings
    assert g.run(["osdr_catalog", "gene_sets"]).success
    for tissue, mission in sorted(STUDIES):
        result = g.study(tissue, mission, ["raw_counts", "sample_metadata", "normalized_expression", *NES_STUDY])
        assert result.success, (tissue, mission)
    for tissue in TISSUES:
        assert g.tissue(tissue, [*B_ASSETS, "nes_conservation"]).success, tissue
    yield g
    mp.undo()
    g.instance.dispose()


def _summary(g):
    result = g.run(["nes_conservation_vs_b_transfer"])
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    assert materialized(result) == ["nes_conservation_vs_b_transfer"]
    return result, g.settings.table_store().read_json("nes_conservation_vs_b_transfer")


def test_rank_correlation_over_every_tissue_from_our_b_and_nes_assets(graph):
    from scipy.stats import spearmanr

    from genebench_assets.science.storage.table_store import TableStore

    result, doc = _summary(graph)
    store, plain = graph.settings.table_store(), TableStore(graph.settings.data_dir)
    rows = {r["tissue"]: r for r in doc["tissues"]}
    assert list(rows) == TISSUES
    for tissue in TISSUES:
        b = next(r for r in store.read_json("transfer_evaluation", tissue)
                 if r["feature_set"] == "genes" and r["model"] == "pca_lr")
        assert rows[tissue]["transfer_auroc"] == b["mean_auroc"] and rows[tissue]["n_transfer_pairs"] == 2
        assert rows[tissue]["nes_mean_r"] == plain.read_json("nes_conservation", tissue)["demo"]["mean"]
    rc = doc["rank_correlation"]
    assert rc["n"] == 3 and rc["tissues"] == TISSUES and rc["excluded"] == {}
    rho, p = spearmanr([rows[t]["nes_mean_r"] for t in TISSUES], [rows[t]["transfer_auroc"] for t in TISSUES])
    assert rc["rho"] == pytest.approx(rho) and rc["p"] == pytest.approx(p)
    meta = result.asset_materializations_for_node("nes_conservation_vs_b_transfer")[0].metadata
    assert meta["n_tissues"].value == 3 and "n = 3 tissues" in meta["rank_correlation"].value
    assert all(t in meta["tissues"].value for t in TISSUES)


def test_the_correlation_follows_our_b_evaluation_not_a_table(graph, monkeypatch):
    """Planted change in our B assets: transfer_evaluation re-run with kidney's pair scores negated
    (its AUROCs become 1 - AUROC). The summary must follow, and a tissue whose B evaluation is gone is
    listed as excluded with the reason, never silently dropped."""
    from genebench_assets.science.evaluation import transfer_evaluation as te

    store = graph.settings.table_store()
    before = {r["tissue"]: r["transfer_auroc"] for r in _summary(graph)[1]["tissues"]}
    original = te.evaluate_pairs
    monkeypatch.setattr(te, "evaluate_pairs", lambda preds, folds, **kw: original(preds.assign(score=-preds["score"]), folds, **kw))
    try:
        assert graph.tissue("kidney", ["transfer_evaluation"]).success
        after = {r["tissue"]: r["transfer_auroc"] for r in _summary(graph)[1]["tissues"]}
        assert after["kidney"] == pytest.approx(1 - before["kidney"])
        assert after["eye"] == before["eye"]
        # a tissue without its B evaluation: excluded with what it lacks
        path = store.path("transfer_evaluation", "eye", ext="json")
        path.rename(path.with_suffix(".moved"))
        _, doc = _summary(graph)
        rc = doc["rank_correlation"]
        assert rc["n"] == 2 and rc["rho"] is None and "needs >= 3 tissues" in rc["note"]
        assert rc["excluded"] == {"eye": "no transfer AUROC"}
        assert next(r for r in doc["tissues"] if r["tissue"] == "eye")["transfer_missing"].startswith(
            "transfer_evaluation not materialized")
    finally:
        moved = store.path("transfer_evaluation", "eye", ext="json").with_suffix(".moved")
        if moved.exists():
            moved.rename(moved.with_suffix(".json"))
        monkeypatch.undo()
        assert graph.tissue("kidney", ["transfer_evaluation"]).success
