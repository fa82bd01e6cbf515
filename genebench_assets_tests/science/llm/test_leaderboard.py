"""Leaderboard statistics: bootstrap CI, breakdowns, failures counted, length bias."""

from __future__ import annotations

import numpy as np
import pandas as pd

from genebench_assets.science.llm.leaderboard import bootstrap_mean_ci, build_leaderboard, markdown_table

DIMS = ["factual_accuracy", "reasoning_quality", "completeness", "uncertainty_calibration", "domain_integration"]


def scores_table(seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for model, base in (("long", 4.0), ("short", 3.0)):
        for i in range(40):
            tokens = (800 if model == "long" else 300) + int(rng.integers(0, 200))
            failed = model == "short" and i < 3
            ws = None if failed else float(np.clip(base + (tokens % 7) / 10 - 0.3, 1, 5))
            row = {"model": model, "question_id": f"Q{i}", "modality": "clinical" if i % 2 else "spatial",
                   "difficulty": ["easy", "medium", "hard", "expert"][i % 4], "answer_success": not (model == "short" and i == 0),
                   "judge_success": not failed, "weighted_score": ws, "output_tokens": tokens, "truncated": i == 5,
                   **{d: (None if failed else int(round(base))) for d in DIMS},
                   "flag_hallucination": i % 10 == 0, "flag_factual_error": False, "flag_harmful_recommendation": False,
                   "flag_exceeds_data_scope": False, "flag_novel_insight": True}
            rows.append(row)
    return pd.DataFrame(rows)


def test_bootstrap_ci_brackets_the_mean_and_is_reproducible():
    x = np.linspace(1, 5, 50)
    lo, hi = bootstrap_mean_ci(x)
    assert lo < x.mean() < hi
    assert (lo, hi) == bootstrap_mean_ci(x)
    assert np.isnan(bootstrap_mean_ci([])[0])


def test_leaderboard_rows_breakdowns_and_failures():
    table, bias = build_leaderboard(scores_table(), DIMS, n_boot=500)
    assert table["model"].tolist() == ["long", "short"] and table["rank"].tolist() == [1, 2]
    short = table.set_index("model").loc["short"]
    assert short["n_questions"] == 40 and short["n_scored"] == 37 and short["n_failed"] == 3
    assert short["n_answer_failed"] == 1 and short["n_judge_failed"] == 2 and short["n_truncated"] == 1
    assert short["n_scored"] + short["n_failed"] == short["n_questions"]  # never silently dropped
    assert short["ci_low"] <= short["mean_weighted_score"] <= short["ci_high"]
    for col in ("difficulty_easy", "difficulty_expert", "modality_clinical", "modality_spatial", "dim_completeness", "flag_hallucination"):
        assert col in table.columns
    assert short["dim_factual_accuracy"] == 3.0 and short["flag_novel_insight"] == 37
    # length bias: the long-answer model scores higher -> across-model rho positive
    assert bias["across_models"]["n"] == 2 or np.isnan(bias["across_models"]["rho"])
    assert bias["pooled"]["rho"] > 0.5 and bias["pooled"]["n"] == 77


def test_markdown_table_formats_floats():
    table, _ = build_leaderboard(scores_table(), DIMS, n_boot=100)
    md = markdown_table(table, ["rank", "model", "mean_weighted_score", "missing_col"])
    assert md.splitlines()[0] == "| rank | model | mean_weighted_score |"
    assert len(md.splitlines()) == 4
