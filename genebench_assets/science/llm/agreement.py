"""Inter-judge agreement (issue 21): how far two judges of the same answers agree.

Input: two judge-scores tables (one row per (model, question), as llm_judge_scores builds them:
``model, question_id, judge_success, weighted_score, <dimensions>``), judge 1 and judge 2.

- Per dimension (and the weighted score), over the answers both judges scored: Spearman's rho
  (leaderboard._spearman: NaN when fewer than 3 pairs or a constant side), the mean of each judge,
  the mean difference (judge 2 - judge 1) and the mean absolute difference.
- Per model: each judge's leaderboard (mean weighted score over the answers that judge scored,
  ranked best first, ties by model name, as leaderboard.build_leaderboard ranks).
- Rank reversals: the pairs of models that one judge orders strictly one way and the other strictly
  the other way (a tie under either judge is not a reversal); with the number of model pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import pandas as pd

from genebench_assets.science.llm.leaderboard import _spearman

KEYS = ["model", "question_id"]


def _scored(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["judge_success"].astype(bool)]


def judge_ranking(scores: pd.DataFrame) -> pd.DataFrame:
    """model, mean_weighted_score, n_scored, rank (1 = best; ties by model name)."""
    ok = _scored(scores)
    table = (ok.assign(weighted_score=ok["weighted_score"].astype(float)).groupby("model", sort=True)["weighted_score"]
             .agg(mean_weighted_score="mean", n_scored="size").reset_index())
    table = table.sort_values(["mean_weighted_score", "model"], ascending=[False, True]).reset_index(drop=True)
    table["rank"] = range(1, len(table) + 1)
    return table


def dimension_agreement(first: pd.DataFrame, second: pd.DataFrame, dimensions: Sequence[str]) -> pd.DataFrame:
    both = _scored(first)[KEYS + [*dimensions, "weighted_score"]].merge(
        _scored(second)[KEYS + [*dimensions, "weighted_score"]], on=KEYS, suffixes=("_1", "_2"))
    rows = []
    for d in [*dimensions, "weighted_score"]:
        a, b = both[f"{d}_1"].astype(float), both[f"{d}_2"].astype(float)
        sp = _spearman(a, b)
        diff = b - a
        rows.append({"dimension": d, "n": sp["n"], "spearman_rho": sp["rho"], "spearman_p": sp["p"],
                     "mean_judge1": float(a.mean()) if len(a) else float("nan"),
                     "mean_judge2": float(b.mean()) if len(b) else float("nan"),
                     "mean_difference": float(diff.mean()) if len(diff) else float("nan"),
                     "mean_abs_difference": float(diff.abs().mean()) if len(diff) else float("nan")})
    return pd.DataFrame(rows)


def rank_reversals(ranking1: pd.DataFrame, ranking2: pd.DataFrame) -> list[dict]:
    """Pairs of models (present in both rankings) ordered strictly oppositely by the two judges."""
    m1 = dict(zip(ranking1["model"], ranking1["mean_weighted_score"]))
    m2 = dict(zip(ranking2["model"], ranking2["mean_weighted_score"]))
    out = []
    for a, b in combinations(sorted(set(m1) & set(m2)), 2):
        d1, d2 = m1[a] - m1[b], m2[a] - m2[b]
        if d1 * d2 < 0:
            above, below = (a, b) if d1 > 0 else (b, a)
            out.append({"judge1_above": above, "judge2_above": below,
                        "judge1_difference": abs(d1), "judge2_difference": abs(d2)})
    return out


def judge_agreement(first: pd.DataFrame, second: pd.DataFrame, dimensions: Sequence[str]) -> dict:
    """{dimensions, models (tables), reversals, n_reversals, n_model_pairs, n_paired_answers}."""
    dims = dimension_agreement(first, second, dimensions)
    r1, r2 = judge_ranking(first), judge_ranking(second)
    models = r1.merge(r2, on="model", how="outer", suffixes=("_judge1", "_judge2")).sort_values(
        ["rank_judge1", "model"], na_position="last").reset_index(drop=True)
    models["rank_change"] = models["rank_judge2"] - models["rank_judge1"]
    reversals = rank_reversals(r1, r2)
    n_common = len(set(r1["model"]) & set(r2["model"]))
    return {"dimensions": dims, "models": models, "reversals": reversals, "n_reversals": len(reversals),
            "n_model_pairs": n_common * (n_common - 1) // 2,
            "n_paired_answers": int(dims["n"].iloc[-1]) if len(dims) else 0}
