"""J2: the seed's pair comparison and summary on planted tables, the three pipelines (pydeseq2, edgePython
QLF, pylimma voom with quality weights) on a small planted count matrix, and per_pipeline.deseq2 from the
release's DESeq2 tables against the published file (exact)."""

import json

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.analyses import dge_comparison as j2
from genebench_assets_tests.conftest import published_path, shared_path


def test_release_deseq2_tables_give_the_published_per_pipeline_counts():
    published = json.loads(published_path("genelab_evaluation", j2.FILENAME).read_text())["results"]
    ours = j2.release_deseq2_entries(shared_path("genelab_release"))
    assert {t: sorted(m) for t, m in ours.items()} == {t: sorted(m) for t, m in published.items()}
    for tissue, missions in published.items():
        for mission, entry in missions.items():
            assert ours[tissue][mission] == entry["per_pipeline"]["deseq2"], (tissue, mission)


def _table(fc, p):
    p = np.asarray(p, dtype=float)
    return pd.DataFrame({"log2FC": fc, "stat": fc, "pvalue": p, "adj_pvalue": p * 2},
                        index=[f"g{i}" for i in range(len(p))])


def test_compare_pair_on_planted_tables():
    rng = np.random.default_rng(0)
    fc, p = rng.normal(size=200), rng.uniform(0.1, 1, 200)
    p[:20] = 1e-4
    a = _table(fc, p)
    same = j2.compare_pair(a, a, "x", "y")
    assert same["deg_jaccard_005"] == 1.0 and same["n_deg_a"] == 20 and same["direction_concordance"] == 1.0
    assert same["top100_jaccard"] == 1.0 and same["log2fc_spearman_rho"] == pytest.approx(1.0)
    flipped = j2.compare_pair(a, _table(-fc, p), "x", "y")
    assert flipped["direction_concordance"] == 0.0 and flipped["log2fc_spearman_rho"] == pytest.approx(-1.0)
    none = j2.compare_pair(a, _table(fc, np.ones(200) * 0.9), "x", "y")
    assert none["deg_jaccard_005"] == 0.0 and none["direction_concordance"] is None
    assert j2.jaccard(set(), set()) == 1.0  # the seed: two empty DEG lists agree


def test_summary_and_document_layout():
    a = _table(np.linspace(-1, 1, 50), np.linspace(1e-5, 1, 50))
    entry = j2.mission_entry("liver", "RR-1", {"deseq2": a, "edger": a, "limma_voom": a})
    doc = j2.document({"liver": {"RR-1": entry}})
    assert list(doc) == ["timestamp", "description", "design_decisions", "method", "scope", "pipelines", "results",
                         "summary", "verdict", "evidence"]
    assert [c["pair"] for c in entry["pairwise_comparisons"]] == ["deseq2_vs_edger", "deseq2_vs_limma_voom",
                                                                  "edger_vs_limma_voom"]
    assert doc["summary"]["n_comparisons"] == 3 and doc["verdict"].startswith("DGE pipeline choice has minimal")


def test_seed_filter_keeps_genes_expressed_in_the_smaller_group():
    counts = pd.DataFrame({"a": [10, 0, 30.4], "b": [10, 0, 9], "c": [0, 50, 9], "d": [0, 50, 9], "e": [0, 50, 9]},
                          index=["g1", "g2", "g3"])
    group = pd.Series(["FLT", "FLT", "GC", "GC", "GC"], index=list("abcde"))
    kept = j2.seed_filter(counts, group)
    assert list(kept.index) == ["g1", "g2"] and kept.dtypes.eq("int64").all()


def test_three_pipelines_find_the_planted_genes():
    rng = np.random.default_rng(1)
    n_genes, n = 300, 8
    mu = rng.gamma(4, 60, size=n_genes)
    labels = pd.Series([1.0] * 4 + [0.0] * 4, index=[f"s{i}" for i in range(n)])
    fold = np.ones(n_genes)
    fold[:15] = 4.0
    scale = np.where(labels.to_numpy()[None, :] == 1.0, fold[:, None], 1.0) * mu[:, None]
    counts = pd.DataFrame(rng.negative_binomial(20, 20 / (20 + scale)), index=[f"ENSMUSG{i:011d}" for i in range(n_genes)],
                          columns=labels.index)
    tables = j2.run_pipelines(counts, labels)
    for name, table in tables.items():
        assert list(table.columns) == j2.COLUMNS, name
        top = set(table.nsmallest(15, "pvalue").index)
        assert len(top & set(counts.index[:15])) >= 12, name
        assert (table.loc[counts.index[:15], "log2FC"] > 0).all(), name  # FLT up is positive
    entry = j2.mission_entry("liver", "RR-1", tables)
    assert all(c["log2fc_spearman_rho"] > 0.8 for c in entry["pairwise_comparisons"])
    with pytest.raises(ValueError, match="J2 needs >= 2 Flight"):
        j2.run_pipelines(counts, labels.iloc[3:])


def test_the_published_results_give_the_published_file_under_seed_and_strict_leaves_out_empty_pairs():
    published = json.loads(published_path("genelab_evaluation", j2.FILENAME).read_text())
    seed = j2.document(j2.for_protocol(published["results"], "seed"), timestamp=published["timestamp"])
    assert seed == published  # every field, from the published per-mission entries
    strict = j2.document(j2.for_protocol(published["results"], "strict"))
    rr3 = strict["results"]["liver"]["RR-3"]["pairwise_comparisons"]  # 0 DEGs in all three pipelines
    assert [c["deg_jaccard_005"] for c in rr3] == [None, None, None]
    assert [c["deg_jaccard_005"] for c in published["results"]["liver"]["RR-3"]["pairwise_comparisons"]] == [1.0] * 3
    jac = strict["summary"]["deg_jaccard_005"]
    assert jac["mean"] == pytest.approx((27 * 0.599552356323683 - 3) / 24) and round(jac["mean"], 4) == 0.5495
    assert jac["max"] < 1.0 and strict["summary"]["log2fc_spearman"] == published["summary"]["log2fc_spearman"]
    assert strict["verdict"] == published["verdict"] and "DEG Jaccard(FDR<0.05): mean=0.549" in strict["evidence"]


def test_strict_leaves_out_the_samples_the_qc_excludes():
    meta = pd.DataFrame({"label": [1.0, 1.0, 0.0, 0.0, np.nan], "excluded": [False, True, False, False, True]},
                        index=list("abcde"))
    assert list(j2.j2_labels(meta, list("abcdx"), "seed").index) == list("abcd")
    assert list(j2.j2_labels(meta, list("abcdx"), "strict").index) == list("acd")
