"""Composite score math (SPEC §12): analytic chance levels, normalization, category means."""

from __future__ import annotations

import numpy as np
import pytest

from genebench_assets.science.spaceomicsbench.composite import analytic_chance, composite_scores, normalized


def test_analytic_chance_levels():
    assert analytic_chance("auroc", [np.array([0, 1, 1])]) == 0.5
    assert analytic_chance("auprc", [np.array([0, 0, 0, 1]), np.array([1, 1, 0, 0])]) == pytest.approx(0.375)
    # uniform guesser over K=2 balanced classes: per-class F1 = 2p/(1+Kp) = 1/2
    assert analytic_chance("macro_f1", [np.array([0, 1, 0, 1])], n_classes=2) == pytest.approx(0.5)
    # K=3, shares 1/2, 1/4, 1/4 -> mean of 2p/(1+3p)
    expected = np.mean([2 * .5 / 2.5, 2 * .25 / 1.75, 2 * .25 / 1.75])
    assert analytic_chance("macro_f1", [np.array([0, 0, 1, 2])], n_classes=3) == pytest.approx(expected)
    assert analytic_chance("micro_f1", [np.array([[1, 0], [0, 0]])]) == pytest.approx(2 * .25 / 1.5)


def test_uniform_guesser_expectation_matches_simulation():
    rng = np.random.default_rng(0)
    y = np.array([0] * 50 + [1] * 30 + [2] * 20)
    from sklearn.metrics import f1_score

    sims = [f1_score(y, rng.integers(0, 3, len(y)), average="macro", labels=[0, 1, 2]) for _ in range(3000)]
    assert analytic_chance("macro_f1", [y], n_classes=3) == pytest.approx(np.mean(sims), abs=0.01)


def test_normalized_floors_at_zero():
    assert normalized(0.75, 0.5) == pytest.approx(0.5)
    assert normalized(0.4, 0.5) == 0.0
    assert normalized(0.9, 1.0) == 0.0


def test_composite_is_mean_over_categories_of_task_means_and_lists_unavailable():
    scores = {"A1": {"logreg": 0.6}, "A2": {"logreg": 0.2}, "D1": {"logreg": 0.75},
              "E2": {"logreg": 0.9},             # supplementary: never in the composite
              "B2": {"multilabel_logreg": 0.5}}
    chance = {"A1": 0.2, "A2": 0.3, "D1": 0.5, "E2": 0.001, "B2": 0.5}
    out = composite_scores(scores, chance, {"B1": "unavailable: cfrna_3group_de_noleak.csv",
                                            "F3": "unavailable: microbiome_human_taxonomy_cpm.csv"})
    lr = out["logreg"]
    a = np.mean([(0.6 - 0.2) / 0.8, 0.0])
    assert lr["category_scores"] == {"A_clinical": round(a, 4), "D_metabolomics": 0.5, "B_cfrna": 0.0}
    assert lr["composite"] == pytest.approx(np.mean([round(a, 4), 0.5, 0.0]), abs=1e-4)
    assert "E2" not in lr["tasks_used"] and "B2" in lr["tasks_used"]       # multilabel_logreg -> logreg family
    assert out["_unavailable"]["categories_without_data"] == ["F_source"]
    assert "B1" in out["_unavailable"]["tasks"]
    seed_style = composite_scores(scores, chance, {}, families=False)
    assert "multilabel_logreg" in seed_style
