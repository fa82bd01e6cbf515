"""The LLM assets in Dagster: replay of the nine stored models end to end, fail-fast without data or
key, and the live path against the mocked API (with a synthetic two-question bank)."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from genebench_assets.defs.llm import assets, checks, defs
from genebench_assets.defs.llm.resources import AnthropicResource, SpaceOmicsBenchResource, default_spaceomicsbench_dir
from genebench_assets.science.llm.prompts import ANSWER_SYSTEM_PROMPT
from genebench_assets_tests.conftest import shared_path
from genebench_assets_tests.science.llm.mock_api import ScriptedApi, message

ALL = [assets.llm_question_bank, assets.llm_answers, assets.llm_judge_scores, assets.llm_leaderboard,
       checks.llm_question_bank_valid, checks.llm_judge_failures_counted, checks.llm_weighted_scores_recomputed]
PER_MODEL = [assets.llm_answers, assets.llm_judge_scores, checks.llm_judge_failures_counted, checks.llm_weighted_scores_recomputed]


def run_all(instance, resources):
    """bank (registers partitions) -> each model's answers + judge scores -> leaderboard."""
    r = dg.materialize(ALL, instance=instance, resources=resources, selection=[assets.llm_question_bank, checks.llm_question_bank_valid])
    results = {"bank": r}
    for key in instance.get_dynamic_partitions(assets.llm_model_partitions.name):
        results[key] = dg.materialize(ALL, instance=instance, resources=resources, partition_key=key, selection=PER_MODEL)
    results["leaderboard"] = dg.materialize(ALL, instance=instance, resources=resources, selection=[assets.llm_leaderboard])
    return results


def checks_of(result):
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_defs_load_without_key_or_data(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    graph = defs.resolve_asset_graph()
    assert {k.to_user_string() for k in graph.get_all_asset_keys()} == {"llm_question_bank", "llm_answers", "llm_judge_scores", "llm_leaderboard",
                                                                                  "llm_judge2_scores", "llm_judge_agreement"}
    assert all(graph.get(k).group_name == "llm" for k in graph.get_all_asset_keys())


def test_replay_materializes_the_nine_stored_models_and_reproduces_them(tmp_path):
    data = shared_path("spaceomicsbench")
    results_dir = data / "llm" / "results"
    instance = dg.DagsterInstance.ephemeral()
    resources = {"spaceomicsbench": SpaceOmicsBenchResource(data_dir=str(data), mode="auto"),
                 "anthropic": AnthropicResource(), "io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path))}
    out = run_all(instance, resources)
    assert all(r.success for r in out.values())
    bank_md = out["bank"].get_asset_materialization_events()[0].materialization.metadata
    assert bank_md["mode"].value == "replay" and bank_md["n_questions"].value == 100
    assert checks_of(out["bank"])["llm_question_bank_valid"].passed

    models = instance.get_dynamic_partitions(assets.llm_model_partitions.name)
    assert len(models) == 9
    for m in models:
        ev = checks_of(out[m])
        assert ev["llm_judge_failures_counted"].passed and ev["llm_weighted_scores_recomputed"].passed, m
        assert ev["llm_weighted_scores_recomputed"].metadata["n_mismatches"].value == 0

    board = out["leaderboard"].output_for_node("llm_leaderboard")
    stored = {}
    for p in results_dir.glob("*.json"):
        from genebench_assets.science.llm.replay import label_from_filename

        stored[label_from_filename(p.name)] = json.loads(p.read_text())["summary"]
    assert [r["model"] for r in board["models"]][:3] == ["claude-sonnet-4-6", "haiku-4-5", "deepseek-v3"]
    for model, s in stored.items():  # every summary field of every stored file, exactly
        mine = board["published_summaries"][model]
        assert {k: mine[k] for k in s} == s, model
    for row in board["models"]:
        s = stored[row["model"]]
        assert abs(row["mean_weighted_score"] - s["avg_weighted_score"]) <= 5e-4 + 1e-12
        assert row["n_failed"] == 0 and row["n_scored"] == s["n_scored"] == 100
        assert row["flag_hallucination"] == s["flag_hallucination"]
        assert row["ci_low"] < row["mean_weighted_score"] < row["ci_high"]
    assert board["length_bias"]["pooled"]["n"] == 900 and board["length_bias"]["pooled"]["rho"] > 0.3
    md = out["leaderboard"].get_asset_materialization_events()[0].materialization.metadata
    chart = md["chart"].value
    assert chart.startswith("![leaderboard](data:image/png;base64,") and len(chart) < 60_000
    assert "| rank | model | mean_weighted_score |" in md["leaderboard"].value


def _failure_message(result) -> str:
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failures
    return str(failures[0].event_specific_data.error)


def test_without_data_the_bank_fails_fast_saying_what_to_set(tmp_path, monkeypatch):
    monkeypatch.delenv("GENEBENCH_SPACEOMICSBENCH_DIR", raising=False)
    monkeypatch.delenv("GENEBENCH_LLM_MODE", raising=False)
    monkeypatch.chdir(tmp_path)  # no ../shared/data/spaceomicsbench from here
    assert default_spaceomicsbench_dir() == ""
    r = dg.materialize([assets.llm_question_bank], raise_on_error=False,
                       resources={"spaceomicsbench": SpaceOmicsBenchResource(), "anthropic": AnthropicResource(),
                                  "io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path))})
    assert not r.success
    msg = _failure_message(r)
    assert "GENEBENCH_SPACEOMICSBENCH_DIR" in msg and "ANTHROPIC_API_KEY" in msg


def test_live_mode_without_key_fails_fast(tmp_path, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    r = dg.materialize([assets.llm_question_bank], raise_on_error=False,
                       resources={"spaceomicsbench": SpaceOmicsBenchResource(data_dir=str(tmp_path), mode="live"),
                                  "anthropic": AnthropicResource(), "io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path))})
    assert not r.success and "ANTHROPIC_API_KEY is not set" in _failure_message(r)


# --- live mode against the mocked API ------------------------------------------------------------

GOOD = {"factual_accuracy": 5, "reasoning_quality": 4, "completeness": 4, "uncertainty_calibration": 3,
        "domain_integration": 4, "flags": {"novel_insight": True}, "justification": "ok"}
API = ScriptedApi([])


def _scripted(body):
    text = body["messages"][0]["content"]
    if body.get("system") == ANSWER_SYSTEM_PROMPT:
        if "QTRUNC" in text:
            return message("half an answ", stop_reason="max_tokens", output_tokens=2000)
        return message("An answer about N=4.", output_tokens=321)
    if "**Question ID:** Q2" in text:
        return message("I refuse to emit JSON.")  # -> failed judgement after the retries
    return message("```json\n" + json.dumps(GOOD) + "\n```", thinking="{scratch")


class MockAnthropic(AnthropicResource):
    def client(self):
        return API.client(max_retries=0)


def write_synthetic_bank(root):
    llm = root / "llm"
    (llm / "data_context").mkdir(parents=True)
    (llm / "data_context" / "overview.md").write_text("# Overview\nsynthetic\n")
    (llm / "data_context" / "ground_truth.md").write_text("# Facts\nN=4\n")
    qs = [{"id": f"Q{i}", "modality": "clinical", "category": "factual", "difficulty": "easy",
           "question": f"Question {i}{' QTRUNC' if i == 3 else ''}?", "data_context_files": ["overview.md"],
           "expected_reasoning": ["r"], "ground_truth_key_facts": ["f"], "rubric": {"completeness": "c"}}
          for i in (1, 2, 3)]
    (llm / "question_bank.json").write_text(json.dumps({"questions": qs}))
    (llm / "annotation_schema.json").write_text(json.dumps({"rating_dimensions": {
        d: {"weight": w} for d, w in [("factual_accuracy", 0.25), ("reasoning_quality", 0.25), ("completeness", 0.2),
                                      ("uncertainty_calibration", 0.15), ("domain_integration", 0.15)]}}))


def test_live_mode_against_mocked_api_with_cache(tmp_path):
    write_synthetic_bank(tmp_path / "sob")
    API.replies, API.requests = _scripted, []
    instance = dg.DagsterInstance.ephemeral()
    resources = {"spaceomicsbench": SpaceOmicsBenchResource(data_dir=str(tmp_path / "sob"), mode="live", cache_dir=str(tmp_path / "cache")),
                 # Q2's judgement fails by design: allow one failure in three (the default, 0, fails it)
                 "anthropic": MockAnthropic(api_key="test-key", model="claude-mock", judge_model="judge-mock",
                                            max_failure_share=0.34),
                 "io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path / "io"))}
    out = run_all(instance, resources)
    assert all(r.success for r in out.values())
    assert instance.get_dynamic_partitions(assets.llm_model_partitions.name) == ["claude-mock"]
    answers = out["claude-mock"].output_for_node("llm_answers")
    assert answers["answer_success"].all() and answers["truncated"].tolist() == [False, False, True]
    assert answers["prompt_sha256"].str.len().eq(64).all() and answers["stop_reason"].tolist()[-1] == "max_tokens"
    scores = out["claude-mock"].output_for_node("llm_judge_scores").set_index("question_id")
    assert scores.loc["Q1", "weighted_score"] == 4.1 and scores.loc["Q1", "judge_success"]
    assert not scores.loc["Q2", "judge_success"] and "after 2 attempts" in scores.loc["Q2", "judge_error"]
    ev = checks_of(out["claude-mock"])
    assert ev["llm_judge_failures_counted"].passed and ev["llm_judge_failures_counted"].metadata["n_failed"].value == 1
    assert ev["llm_weighted_scores_recomputed"].passed
    board = out["leaderboard"].output_for_node("llm_leaderboard")
    row = board["models"][0]
    assert (row["n_scored"], row["n_failed"], row["n_truncated"]) == (2, 1, 1)
    n_requests = len(API.requests)
    assert n_requests == 3 + 2 + 2  # 3 answers; Q1, Q3 judged once; Q2 twice (unparseable, retried)

    # rerun: everything successful comes from the cache; only the failed judgement is asked again
    dg.materialize(ALL, instance=instance, resources=resources, partition_key="claude-mock", selection=PER_MODEL)
    assert len(API.requests) == n_requests


def test_resource_defaults_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GENEBENCH_SPACEOMICSBENCH_DIR", str(tmp_path))
    assert SpaceOmicsBenchResource().root() == tmp_path
    monkeypatch.delenv("GENEBENCH_SPACEOMICSBENCH_DIR")
    (tmp_path / "shared" / "data" / "spaceomicsbench").mkdir(parents=True)
    (tmp_path / "main").mkdir()
    monkeypatch.chdir(tmp_path / "main")
    assert default_spaceomicsbench_dir() == str(tmp_path / "shared" / "data" / "spaceomicsbench")
    monkeypatch.setenv("GENEBENCH_LLM_MODE", "sometimes")
    with pytest.raises(dg.Failure, match="not one of"):
        SpaceOmicsBenchResource().requested_mode()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k-from-env")
    assert AnthropicResource().resolved_api_key() == "k-from-env"
    assert AnthropicResource(api_key="explicit").resolved_api_key() == "explicit"


def test_malformed_bank_fails_the_asset_naming_question_and_field(tmp_path):
    write_synthetic_bank(tmp_path / "sob")
    bank_file = tmp_path / "sob" / "llm" / "question_bank.json"
    bank = json.loads(bank_file.read_text())
    bank["questions"][1]["difficulty"] = "impossible"
    bank_file.write_text(json.dumps(bank))
    r = dg.materialize([assets.llm_question_bank], raise_on_error=False,
                       resources={"spaceomicsbench": SpaceOmicsBenchResource(data_dir=str(tmp_path / "sob"), mode="live"),
                                  "anthropic": AnthropicResource(api_key="k"),
                                  "io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path / "io"))})
    assert not r.success
    assert "invalid question bank: question Q2: field 'difficulty' must be one of" in _failure_message(r)
