"""Inter-judge agreement on a small constructed pair of score tables (numbers checkable by hand)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from genebench_assets.science.llm.agreement import judge_agreement, rank_reversals, judge_ranking

DIMS = ["factual_accuracy"]


def table(rows):
    """rows: (model, question, score or None for a failed judgement); weighted score = the score."""
    return pd.DataFrame([{"model": m, "question_id": q, "judge_success": s is not None, "factual_accuracy": s,
                          "weighted_score": None if s is None else float(s)} for m, q, s in rows])


# judge 1 means: A 4.0, B 3.0, C 2.0 -> ranks A, B, C
J1 = table([("A", "q1", 5), ("A", "q2", 3), ("B", "q1", 4), ("B", "q2", 2), ("C", "q1", 1), ("C", "q2", 3)])
# judge 2 means: A 3.0, B 3.5, C 1.0 -> ranks B, A, C: one reversal (A/B) of 3 pairs
J2 = table([("A", "q1", 4), ("A", "q2", 2), ("B", "q1", 5), ("B", "q2", 2), ("C", "q1", 1), ("C", "q2", 1)])


def test_spearman_and_mean_difference_per_dimension():
    out = judge_agreement(J1, J2, DIMS)
    row = out["dimensions"].set_index("dimension").loc["factual_accuracy"]
    # pairs (j1, j2): (5,4) (3,2) (4,5) (2,2) (1,1) (3,1)
    # ranks j1: 5->6, 3->3.5, 4->5, 2->2, 1->1, 3->3.5 ; j2: 4->5, 2->3.5, 5->6, 2->3.5, 1->1.5, 1->1.5
    r1 = pd.Series([6, 3.5, 5, 2, 1, 3.5]); r2 = pd.Series([5, 3.5, 6, 3.5, 1.5, 1.5])
    assert row["n"] == 6
    assert row["spearman_rho"] == pytest.approx(r1.corr(r2))  # Pearson of the ranks
    assert row["mean_judge1"] == pytest.approx(18 / 6) and row["mean_judge2"] == pytest.approx(15 / 6)
    assert row["mean_difference"] == pytest.approx(-0.5)  # judge 2 - judge 1
    assert row["mean_abs_difference"] == pytest.approx((1 + 1 + 1 + 0 + 0 + 2) / 6)
    assert out["n_paired_answers"] == 6


def test_rank_reversals_between_the_two_leaderboards():
    out = judge_agreement(J1, J2, DIMS)
    assert out["n_model_pairs"] == 3 and out["n_reversals"] == 1
    assert out["reversals"] == [{"judge1_above": "A", "judge2_above": "B", "judge1_difference": 1.0, "judge2_difference": 0.5}]
    ranks = out["models"].set_index("model")
    assert ranks["rank_judge1"].to_dict() == {"A": 1, "B": 2, "C": 3}
    assert ranks["rank_judge2"].to_dict() == {"A": 2, "B": 1, "C": 3}
    assert ranks["rank_change"].to_dict() == {"A": 1, "B": -1, "C": 0}


def test_identical_judges_agree_perfectly_and_ties_are_not_reversals():
    out = judge_agreement(J1, J1, DIMS)
    assert out["dimensions"]["spearman_rho"].tolist() == pytest.approx([1.0, 1.0])
    assert out["dimensions"]["mean_difference"].tolist() == [0.0, 0.0] and out["n_reversals"] == 0
    tie = table([("A", "q1", 3), ("B", "q1", 3)])
    assert rank_reversals(judge_ranking(J1), judge_ranking(tie)) == []


def test_failed_judgements_are_left_out_of_the_pairs():
    j2 = table([("A", "q1", 4), ("A", "q2", None), ("B", "q1", 5), ("B", "q2", 2), ("C", "q1", 1), ("C", "q2", 1)])
    out = judge_agreement(J1, j2, DIMS)
    assert out["n_paired_answers"] == 5
    # judge 2's leaderboard uses what it scored: A = 4.0 (q1 only), B 3.5, C 1.0 -> no reversal
    assert out["n_reversals"] == 0


def test_too_few_pairs_give_nan_not_an_error():
    out = judge_agreement(table([("A", "q1", 3)]), table([("A", "q1", 4)]), DIMS)
    assert math.isnan(out["dimensions"]["spearman_rho"].iloc[0]) and out["n_model_pairs"] == 0
