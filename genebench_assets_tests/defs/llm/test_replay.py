"""`genebench llm replay`: the nine stored SpaceOmicsBench runs -> leaderboard in ONE Dagster run, with
per-model materializations and per-model check results; a tampered stored file fails its model's check
and no leaderboard.json is written."""

from __future__ import annotations

import json
import shutil

import dagster as dg
import pytest
from dagster._core.events import DagsterEventType

from genebench_assets.cli import main
from genebench_assets.science.llm.replay import label_from_filename
from genebench_assets_tests.conftest import shared_path


@pytest.fixture
def env(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").touch()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("GENEBENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("GENEBENCH_LLM_MODE", raising=False)
    return tmp_path


def _stored_summaries(results_dir):
    return {label_from_filename(p.name): json.loads(p.read_text())["summary"] for p in results_dir.glob("*.json")}


def _events(instance, run_id, event_type):
    return [e.dagster_event for e in instance.all_logs(run_id, of_type=event_type)]


def test_llm_replay_writes_the_leaderboard_of_the_nine_stored_models_in_one_run(env, monkeypatch, capsys):
    data = shared_path("spaceomicsbench")
    monkeypatch.setenv("GENEBENCH_SPACEOMICSBENCH_DIR", str(data))
    assert main(["llm", "replay", "--out", str(env / "out")]) == 0
    printed = capsys.readouterr().out
    assert "| 1 | claude-sonnet-4-6 |" in printed and "in 1 Dagster run(s)" in printed

    board = json.loads((env / "out" / "leaderboard.json").read_text())
    stored = _stored_summaries(data / "llm" / "results")
    assert len(board["models"]) == 9 and {e["model"] for e in board["models"]} == set(stored)
    for e in board["models"]:
        s = stored[e["model"]]
        assert e["avg_weighted_score_published_rounding"] == s["avg_weighted_score"], e["model"]  # exact
        assert abs(e["mean_weighted_score"] - s["avg_weighted_score"]) <= 5e-4 + 1e-12
        assert e["ci_low"] < e["mean_weighted_score"] < e["ci_high"] and e["n_scored"] == 100
    assert [e["rank"] for e in board["models"]] == list(range(1, 10))
    assert "valid" not in board  # only a valid leaderboard is written, and the file lists the models

    instance = dg.DagsterInstance.get()
    runs = instance.get_runs()
    assert len(runs) == 1 and runs[0].job_name == "llm_replay_job" and runs[0].is_success
    # every model keeps its own materializations (with its own metadata) and its own check results
    for asset in ("llm_answers", "llm_judge_scores"):
        mats = _events(instance, runs[0].run_id, DagsterEventType.ASSET_MATERIALIZATION)
        by_partition = {m.partition: m.event_specific_data.materialization.metadata
                        for m in mats if m.asset_key == dg.AssetKey(asset)}
        assert set(by_partition) == set(stored), asset
        assert all(md["n_questions"].value == 100 for md in by_partition.values())
    judged = {m.partition: m.event_specific_data.materialization.metadata["mean_weighted_score"].value
              for m in _events(instance, runs[0].run_id, DagsterEventType.ASSET_MATERIALIZATION)
              if m.asset_key == dg.AssetKey("llm_judge_scores")}
    assert round(judged["gpt-4o"], 3) == stored["gpt-4o"]["avg_weighted_score"]
    evals = [e.event_specific_data for e in _events(instance, runs[0].run_id, DagsterEventType.ASSET_CHECK_EVALUATION)]
    for name in ("llm_judge_failures_counted", "llm_weighted_scores_recomputed"):
        per_model = {e.partition: e.passed for e in evals if e.check_name == name and e.partition}
        assert per_model == {m: True for m in stored}, name


def test_a_tampered_stored_score_fails_that_models_check_and_writes_no_leaderboard(env, monkeypatch, capsys):
    src = shared_path("spaceomicsbench", "llm")
    llm = env / "soma" / "llm"
    shutil.copytree(src, llm)  # a temp copy: the reference data itself is never modified
    path = next(llm.glob("results/*_gpt-4o_judged-by-*.json"))
    doc = json.loads(path.read_text())
    doc["results"][0]["scores"]["weighted_score"] += 1.0  # planted: stored score != integers x weights
    path.write_text(json.dumps(doc))
    monkeypatch.setenv("GENEBENCH_SPACEOMICSBENCH_DIR", str(env / "soma"))

    assert main(["llm", "replay", "--out", str(env / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]  # (Dagster may print a telemetry notice before)
    assert err.startswith("genebench llm replay: failed") and "check llm_weighted_scores_recomputed failed for gpt-4o" in err
    assert not (env / "out" / "leaderboard.json").exists()
    instance = dg.DagsterInstance.get()
    run_id = instance.get_runs()[0].run_id
    evals = {e.event_specific_data.partition: e.event_specific_data.passed
             for e in _events(instance, run_id, DagsterEventType.ASSET_CHECK_EVALUATION)
             if e.event_specific_data.check_name == "llm_weighted_scores_recomputed" and e.event_specific_data.partition}
    assert evals["gpt-4o"] is False and sum(evals.values()) == 8
    # The check does not stop the leaderboard (WARN), but it ran before it in the same run: the
    # leaderboard is built and says it is not valid, naming the model and the check.
    board = [e.event_specific_data.materialization.metadata for e in
             _events(instance, run_id, DagsterEventType.ASSET_MATERIALIZATION) if e.asset_key == dg.AssetKey("llm_leaderboard")]
    assert len(board) == 1 and board[0]["valid"].value is False
    assert "llm_weighted_scores_recomputed (gpt-4o)" in board[0]["invalid_because"].value


def test_llm_replay_job_is_in_the_code_location():
    from genebench_assets.definitions import defs

    job = defs.resolve_job_def("llm_replay_job")
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert keys == {"llm_question_bank", "llm_answers", "llm_judge_scores", "llm_leaderboard"}
    graph = defs.resolve_asset_graph()
    for asset in ("llm_answers", "llm_judge_scores"):
        assert graph.get(dg.AssetKey(asset)).backfill_policy == dg.BackfillPolicy.single_run()
