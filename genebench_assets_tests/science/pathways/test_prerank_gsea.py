"""Prerank GSEA (gseapy) on the release's DESeq2 rankings vs the published fgsea NES, the sign
conventions of both, and NES conservation (SPEC §8) reproducing the published per-tissue means."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from genebench_assets.science.pathways.gene_sets import read_gmt, read_symbol_map
from genebench_assets.science.pathways.prerank_gsea import (
    _bh_adjust,
    nes_conservation,
    pair_table,
    prerank_nes,
    published_fgsea_nes,
    published_fgsea_tissue,
    ranking_from_dge,
)
from genebench_assets_tests.conftest import shared_path

RELEASE = ("genelab_release", "processed")
# Every liver and thymus mission with a DESeq2 table in the release (listed, so that a missing file
# skips with a reason instead of silently testing fewer missions).
DGE_MISSIONS = [
    ("liver", "MHU-2"), ("liver", "RR-1"), ("liver", "RR-3"), ("liver", "RR-6"), ("liver", "RR-8"),
    ("liver", "RR-9"), ("thymus", "MHU-2"), ("thymus", "RR-6"), ("thymus", "RR-9"),
]
# SPEC §8 / issue 3: published per-tissue Hallmark NES conservation means.
PUBLISHED_MEANS = {"thymus": 0.619, "eye": 0.335, "skin": 0.147, "liver": 0.059, "kidney": 0.048}


@pytest.fixture(scope="module")
def hallmark():
    return read_gmt(shared_path("gene_sets", "mouse_hallmark_v7.0.gmt"))


@pytest.fixture(scope="module")
def symbol_map():
    return read_symbol_map(shared_path(*RELEASE, "ensembl_symbol_map.csv"))


def _ranking(tissue, mission, symbol_map):
    dge = pd.read_csv(shared_path(*RELEASE, "dge", tissue, f"{mission}_deseq2_dge.csv"))
    return ranking_from_dge(dge, symbol_map)


def test_the_release_has_no_other_dge_files():
    folder = shared_path(*RELEASE, "dge")
    found = sorted((p.parent.name, p.name.split("_deseq2_dge.csv")[0]) for p in folder.glob("*/*_deseq2_dge.csv"))
    assert found == sorted(DGE_MISSIONS)


@pytest.mark.slow
@pytest.mark.parametrize(("tissue", "mission"), DGE_MISSIONS)
def test_prerank_nes_agrees_with_published_fgsea(tissue, mission, hallmark, symbol_map):
    ranking = _ranking(tissue, mission, symbol_map)
    ours = prerank_nes(ranking, hallmark, permutations=1000, seed=42)
    published = published_fgsea_nes(shared_path(*RELEASE, "fgsea", tissue, f"{mission}_fgsea_hallmark.csv"))
    shared = ours.index.intersection(published.index)
    assert len(shared) == 50
    rho = spearmanr(ours.loc[shared, "NES"], published.loc[shared])[0]
    print(f"\nprerank NES vs published fgsea (sign reconciled), {tissue} {mission}: Spearman {rho:.3f} "
          f"({len(ranking)} ranked genes)")
    assert rho >= 0.6, f"{tissue} {mission}: Spearman {rho:.3f}"


@pytest.mark.parametrize(("tissue", "task", "mission"), [("liver", "A1", "RR-9"), ("thymus", "A4", "RR-6")])
def test_sign_conventions_against_per_sample_gsva(tissue, task, mission, hallmark, symbol_map):
    """The DGE stat is Flight-vs-Ground and the published NES are control-positive.

    Independent evidence: the published per-sample GSVA scores and the task labels give each
    pathway's Flight - Ground difference; our NES (on the DGE stat) must rank pathways like it, the
    published NES as they are in the file must rank them the other way round."""
    labels = pd.read_csv(
        shared_path("genelab_release", "tasks", f"{task}_{tissue}_lomo", f"fold_{mission}_test", "test_y.csv"),
        index_col=0,
    ).iloc[:, 0]
    gsva = pd.read_csv(shared_path(*RELEASE, "pathway_scores", tissue, f"{mission}_gsva_hallmark.csv"), index_col=0)
    gsva = gsva.loc[gsva.index.intersection(labels.index)]
    y = labels.reindex(gsva.index)
    flight_minus_ground = gsva[y == 1.0].mean() - gsva[y == 0.0].mean()

    ours = prerank_nes(_ranking(tissue, mission, symbol_map), hallmark, permutations=200, seed=42)["NES"]
    as_in_file = published_fgsea_nes(
        shared_path(*RELEASE, "fgsea", tissue, f"{mission}_fgsea_hallmark.csv"), convention="flight_positive"
    )
    rho_ours = spearmanr(ours, flight_minus_ground.reindex(ours.index))[0]
    rho_file = spearmanr(as_in_file, flight_minus_ground.reindex(as_in_file.index))[0]
    print(f"\n{tissue} {mission}: Spearman with GSVA Flight - Ground: our NES {rho_ours:.3f}, "
          f"published NES as filed {rho_file:.3f}")
    assert rho_ours > 0.5 and rho_file < -0.5


def test_prerank_sign_and_columns_on_a_synthetic_ranking():
    genes = [f"Gene{i}" for i in range(400)]
    ranking = pd.Series(np.linspace(5, -5, 400), index=genes)  # Gene0 most up in Flight
    sets = {"UP_IN_FLIGHT": genes[:30], "DOWN_IN_FLIGHT": genes[-30:], "TOO_SMALL": genes[:3]}
    res = prerank_nes(ranking.sample(frac=1.0, random_state=1), sets, permutations=100, seed=1)
    assert list(res.index) == ["UP_IN_FLIGHT", "DOWN_IN_FLIGHT"]
    assert list(res.columns) == ["NES", "ES", "pval", "padj", "size", "leading_edge"]
    assert res.loc["UP_IN_FLIGHT", "NES"] > 1 and res.loc["DOWN_IN_FLIGHT", "NES"] < -1
    assert res["size"].tolist() == [30, 30]
    assert set(res.loc["UP_IN_FLIGHT", "leading_edge"]) <= set(genes[:30])
    assert len(res.loc["UP_IN_FLIGHT", "leading_edge"]) > 0
    with pytest.raises(ValueError, match="duplicate symbols"):
        prerank_nes(pd.concat([ranking, ranking.iloc[:2]]), sets)


def test_ranking_from_dge_collapses_duplicates_by_largest_abs_stat():
    dge = pd.DataFrame(
        {"ENSEMBL": ["E1", "E2", "E3", "E4", "E5"], "stat": [1.0, -3.0, 2.0, np.nan, 0.5]}
    )
    symbol_map = pd.Series({"E1": "A", "E2": "A", "E3": "B", "E4": "C"})  # E5 unmapped, E4 NA stat
    ranking = ranking_from_dge(dge, symbol_map)
    assert ranking.to_dict() == {"B": 2.0, "A": -3.0}
    assert list(ranking.index) == ["B", "A"]  # sorted, largest first
    # ids in the index (our own differential_expression tables)
    by_index = ranking_from_dge(dge.set_index("ENSEMBL"), symbol_map, id_column=None)
    pd.testing.assert_series_equal(by_index, ranking)


def test_published_fgsea_nes_flips_to_flight_positive(tmp_path):
    path = tmp_path / "x_fgsea_hallmark.csv"
    pd.DataFrame({"pathway": ["P1", "P2", "P3"], "NES": [1.5, -0.5, np.nan]}).to_csv(path, index=False)
    assert published_fgsea_nes(path).to_dict() == {"P1": -1.5, "P2": 0.5}
    assert published_fgsea_nes(path, convention="flight_positive").to_dict() == {"P1": 1.5, "P2": -0.5}
    with pytest.raises(ValueError, match="convention"):
        published_fgsea_nes(path, convention="up")


def test_nes_conservation_reproduces_published_tissue_means():
    fgsea = shared_path(*RELEASE, "fgsea")
    results = {t: nes_conservation(published_fgsea_tissue(fgsea / t, "hallmark")) for t in PUBLISHED_MEANS}
    for tissue, expected in PUBLISHED_MEANS.items():
        res = results[tissue]
        print(f"\nNES conservation {tissue}: mean r = {res['mean']:.4f} over {res['n_pairs']} pairs "
              f"(published JSON arithmetic: {res['mean_published_rounding']:.3f})")
        assert round(res["mean"], 3) == expected, (tissue, res["mean"])
        assert all(p["n_shared"] == 50 for p in res["pairs"])
    # Skin MHU-2 counts as two sources (dorsal, femoral), as published: 3 pairs.
    assert [p["pair"] for p in results["skin"]["pairs"]] == [
        "MHU-2_dorsal_MHU-2_femoral", "MHU-2_dorsal_RR-6", "MHU-2_femoral_RR-6",
    ]
    # The published JSON rounded each pair r before averaging: liver 0.060 there, 0.0595 unrounded.
    assert results["liver"]["mean_published_rounding"] == 0.06
    assert results["liver"]["n_pairs"] == 15
    table = pair_table(results["thymus"]).set_index("pair")["spearman_r"].round(3)
    assert table.to_dict() == {"MHU-2_RR-6": 0.493, "MHU-2_RR-9": 0.744, "RR-6_RR-9": 0.619}


def test_nes_conservation_skips_pairs_with_few_shared_pathways():
    a = pd.Series(np.arange(12.0), index=[f"P{i}" for i in range(12)])
    b = pd.Series(np.arange(12.0) ** 2, index=[f"P{i}" for i in range(12)])
    c = pd.Series(np.arange(5.0), index=[f"P{i}" for i in range(5)])
    d = a.copy()
    d.iloc[:3] = np.nan  # 9 non-missing shared with a: skipped
    res = nes_conservation({"B": b, "A": a, "C": c, "D": d}, min_shared=10)
    assert [p["pair"] for p in res["pairs"]] == ["A_B"]
    assert res["pairs"][0]["spearman_r"] == pytest.approx(1.0)
    assert res["mean"] == pytest.approx(1.0)
    assert {s["pair"] for s in res["skipped"]} == {"A_C", "A_D", "B_C", "B_D", "C_D"}
    empty = nes_conservation({"A": a})
    assert empty["mean"] is None and empty["n_pairs"] == 0


def test_bh_adjust_matches_r_p_adjust():
    # R: p.adjust(c(0.01, 0.04, 0.03, 0.2, NA), "BH") -> 0.04 0.05333333 0.05333333 0.2 NA
    out = _bh_adjust(np.array([0.01, 0.04, 0.03, 0.2, np.nan]))
    np.testing.assert_allclose(out[:4], [0.04, 0.05333333, 0.05333333, 0.2], rtol=1e-6)
    assert np.isnan(out[4])

