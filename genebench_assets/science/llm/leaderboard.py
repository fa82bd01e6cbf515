"""Leaderboard of the question-bank scores (SPEC §12), with the statistics the published one lacks.

Input: the judge-scores table, one row per (model, question), as built by replay.py or the live
assets: ``model, question_id, modality, difficulty, judge_success, weighted_score, <five dimensions>,
flag_*, output_tokens, truncated, answer_success``.

Per model: mean weighted score over the scored questions with a percentile bootstrap CI (questions
resampled with replacement), means per difficulty, modality and dimension, flag counts, and the
failures (answer failed, judgement failed, truncated answers) counted and shown next to the mean; a
failed question is never dropped silently: ``n_questions = n_scored + n_failed`` always holds.

Length bias: the published leaderboard rewards long answers, so we report Spearman's rho between
output tokens and weighted score pooled over all scored answers, within each model, and across
models (per-model mean output tokens vs mean score).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from genebench_assets.science.llm.judging import FLAGS
from genebench_assets.science.llm.question_bank import DIFFICULTIES
from genebench_assets.science.markdown_tables import markdown_table as _markdown_table

N_BOOT = 2000
SEED = 42


def bootstrap_mean_ci(values: Sequence[float], *, n_boot: int = N_BOOT, seed: int = SEED, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean (`scipy.stats.bootstrap`, questions resampled with replacement);
    a fresh default_rng(seed) per call (reproducible per model). One value: (value, value); none: NaN."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return (float("nan"), float("nan"))
    if x.size == 1:  # every resample is the value itself (scipy asks for two or more observations)
        return float(x[0]), float(x[0])
    res = stats.bootstrap((x,), np.mean, n_resamples=n_boot, confidence_level=level, method="percentile",
                          vectorized=True, rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def _spearman(x, y) -> dict[str, float | int]:
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    n = int(ok.sum())
    if n < 3 or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
        return {"rho": float("nan"), "p": float("nan"), "n": n}
    res = stats.spearmanr(x[ok], y[ok])
    return {"rho": float(res.statistic), "p": float(res.pvalue), "n": n}


def model_row(df: pd.DataFrame, dimensions: Sequence[str], *, n_boot: int = N_BOOT, seed: int = SEED) -> dict:
    scored = df[df["judge_success"].astype(bool)]
    ws = scored["weighted_score"].astype(float)
    lo, hi = bootstrap_mean_ci(ws.to_numpy(), n_boot=n_boot, seed=seed)
    answer_ok = df["answer_success"].astype(bool) if "answer_success" in df else pd.Series(True, index=df.index)
    row = {
        "model": df["model"].iloc[0],
        "n_questions": int(len(df)),
        "n_scored": int(len(scored)),
        "n_failed": int(len(df) - len(scored)),
        "n_answer_failed": int((~answer_ok).sum()),
        "n_judge_failed": int((answer_ok & ~df["judge_success"].astype(bool)).sum()),
        "n_truncated": int(df["truncated"].fillna(False).astype(bool).sum()) if "truncated" in df else 0,
        "mean_weighted_score": float(ws.mean()) if len(ws) else float("nan"),
        "ci_low": lo,
        "ci_high": hi,
        "mean_output_tokens": float(df.loc[answer_ok, "output_tokens"].astype(float).mean()) if "output_tokens" in df else float("nan"),
    }
    for d in DIFFICULTIES:
        sub = scored.loc[scored["difficulty"] == d, "weighted_score"]
        row[f"difficulty_{d}"] = float(sub.mean()) if len(sub) else float("nan")
    for m in sorted(df["modality"].unique()):
        sub = scored.loc[scored["modality"] == m, "weighted_score"]
        row[f"modality_{m}"] = float(sub.mean()) if len(sub) else float("nan")
    for d in dimensions:
        row[f"dim_{d}"] = float(scored[d].astype(float).mean()) if len(scored) else float("nan")
    for f in FLAGS:
        row[f"flag_{f}"] = int(scored[f"flag_{f}"].astype(bool).sum()) if f"flag_{f}" in scored else 0
    if "output_tokens" in scored:
        sp = _spearman(scored["output_tokens"], scored["weighted_score"])
        row["length_rho"], row["length_p"] = sp["rho"], sp["p"]
    return row


def length_bias(scores: pd.DataFrame, table: pd.DataFrame) -> dict:
    """Spearman(output tokens, weighted score): pooled over scored answers, and across model means."""
    scored = scores[scores["judge_success"].astype(bool)]
    return {
        "pooled": _spearman(scored["output_tokens"], scored["weighted_score"]),
        "across_models": _spearman(table["mean_output_tokens"], table["mean_weighted_score"]),
    }


def build_leaderboard(scores: pd.DataFrame, dimensions: Sequence[str], *, n_boot: int = N_BOOT, seed: int = SEED) -> tuple[pd.DataFrame, dict]:
    """(table, length_bias): one row per model, best first, ranks 1..n."""
    rows = [model_row(g, dimensions, n_boot=n_boot, seed=seed) for _, g in scores.groupby("model", sort=True)]
    table = pd.DataFrame(rows).sort_values(["mean_weighted_score", "model"], ascending=[False, True])
    table.insert(0, "rank", range(1, len(table) + 1))
    table = table.reset_index(drop=True)
    return table, length_bias(scores, table)


def markdown_table(table: pd.DataFrame, columns: Sequence[str], *, digits: int = 3) -> str:
    """A small markdown table: floats with `digits` decimals."""
    cols = [c for c in columns if c in table.columns]
    return _markdown_table(cols, [[f"{v:.{digits}f}" if isinstance(v, float) else str(v) for v in (r[c] for c in cols)]
                                 for _, r in table[cols].iterrows()])
