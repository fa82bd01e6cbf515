"""Replay of the stored judged results: every per-question score, summary field and total, exactly."""

from __future__ import annotations

import json

import pytest

from genebench_assets.science.llm import replay
from genebench_assets_tests.conftest import shared_path

W = {"factual_accuracy": 0.25, "reasoning_quality": 0.25, "completeness": 0.20,
     "uncertainty_calibration": 0.15, "domain_integration": 0.15}
PUBLISHED = {  # avg_weighted_score in the stored summaries
    "claude-sonnet-4-6": 4.622, "haiku-4-5": 4.408, "deepseek-v3": 4.338, "claude-sonnet-4": 4.033,
    "gemini-2.5-flash": 3.995, "gpt-4o-mini": 3.322, "llama33-70b-groq": 3.307,
    "llama33-70b-together": 3.306, "gpt-4o": 3.302,
}


def test_labels_from_file_names():
    assert replay.label_from_filename("scored_eval_llama33-70b-groq_judged-by-sonnet46.json") == "llama33-70b-groq"
    assert replay.label_from_filename("scored_eval_gpt-4o_judged-by-sonnet46.json") == "gpt-4o"
    assert replay.label_from_filename("my_run.json") == "my_run"


def test_all_nine_stored_runs_reproduce_exactly():
    runs = replay.discover_stored_runs(shared_path("spaceomicsbench", "llm", "results"))
    assert set(runs) == set(PUBLISHED)
    for label, path in runs.items():
        r = replay.replay_run(path, W)
        assert r.exact, (label, r.mismatches[:5])
        assert r.summary["avg_weighted_score"] == PUBLISHED[label] == r.run.summary["avg_weighted_score"]
        # every stored summary field recomputed, and all 100 per-question scores
        assert set(r.run.summary) <= set(r.summary)
        assert len(r.scores) == 100 and r.scores["judge_success"].all()
        assert (r.scores["weighted_score"] == r.scores["stored_weighted_score"]).all()


def _synthetic_run(tmp_path, tamper=None):
    results = []
    for i, (scores, diff, mod) in enumerate([((5, 4, 5, 4, 3), "easy", "clinical"), ((3, 3, 3, 3, 3), "hard", "spatial"),
                                              ((1, 2, 1, 2, 1), "hard", "clinical")]):
        s = dict(zip(W, scores))
        s |= {"weighted_score": round(sum(s[d] * w for d, w in W.items()), 2), "success": True,
              "flags": {"hallucination": i == 2, "novel_insight": i == 0}, "judge_tokens": {"input": 10, "output": 5}}
        results.append({"question_id": f"Q{i}", "modality": mod, "difficulty": diff, "category": "x", "question": "?",
                        "success": True, "response": "ans", "input_tokens": 100, "output_tokens": 50 * (i + 1),
                        "response_time_sec": 1.0, "model": "m", "scores": s})
    # one failed judgement: counted, excluded from the means
    results.append({"question_id": "Q3", "modality": "spatial", "difficulty": "easy", "category": "x", "question": "?",
                    "success": True, "response": "ans", "input_tokens": 100, "output_tokens": 10,
                    "response_time_sec": 1.0, "model": "m", "scores": {"success": False, "error": "JSON parse error"}})
    summary = {"avg_weighted_score": round((4.3 + 3.0 + 1.4) / 3, 3), "n_scored": 3, "avg_easy": 4.3,
               "avg_hard": round((3.0 + 1.4) / 2, 3), "flag_hallucination": 1, "flag_novel_insight": 1,
               "avg_factual_accuracy": 3.0}
    meta = {"model": "m", "judge_model": "j", "total_questions": 4, "successful": 4, "failed": 0,
            "total_output_tokens": 310, "judge_tokens_input": 30}
    if tamper:
        tamper(results, summary, meta)
    p = tmp_path / "scored_eval_m_judged-by-j.json"
    p.write_text(json.dumps({"metadata": meta, "summary": summary, "results": results}))
    return p


def test_synthetic_run_with_a_failed_judgement(tmp_path):
    r = replay.replay_run(_synthetic_run(tmp_path), W)
    assert r.exact, r.mismatches
    assert r.summary["n_failed"] == 1 and r.summary["n_scored"] == 3
    failed = r.scores.set_index("question_id").loc["Q3"]
    assert not failed["judge_success"] and failed["judge_error"] == "JSON parse error"


@pytest.mark.parametrize("tamper, expect", [
    (lambda res, s, m: res[0]["scores"].update(weighted_score=4.0), "weighted_score Q0: stored 4.0, recomputed 4.3"),
    (lambda res, s, m: s.update(avg_hard=2.0), "summary avg_hard: stored 2.0"),
    (lambda res, s, m: s.update(flag_hallucination=2), "summary flag_hallucination: stored 2, recomputed 1"),
    (lambda res, s, m: m.update(total_output_tokens=1), "metadata total_output_tokens: stored 1, recomputed 310"),
])
def test_tampered_stored_values_are_reported(tmp_path, tamper, expect):
    r = replay.replay_run(_synthetic_run(tmp_path, tamper), W)
    assert not r.exact and any(m.startswith(expect) for m in r.mismatches), r.mismatches


def test_weighted_score_is_recomputed_from_integers_not_read(tmp_path):
    # the stored weighted score is wrong; ours comes from the integers, and the mismatch is reported
    r = replay.replay_run(_synthetic_run(tmp_path, lambda res, s, m: res[1]["scores"].update(weighted_score=5.0)), W)
    row = r.scores.set_index("question_id").loc["Q1"]
    assert row["weighted_score"] == 3.0 and row["stored_weighted_score"] == 5.0
