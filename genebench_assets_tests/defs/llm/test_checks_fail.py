"""Every LLM check fails on a planted fault through the real assets (issue 19, item 5), and a failed
check keeps the leaderboard from being presented as valid: it is built, its value and metadata say
`valid: False` with the reason, and no leaderboard.json is written from it. Live mode on the mocked API
with the synthetic three-question bank (no network)."""

from __future__ import annotations

import json
import pickle

import dagster as dg
import pytest

from genebench_assets.defs.llm import assets, checks
from genebench_assets.defs.llm.replay import write_leaderboard_json
from genebench_assets_tests.defs.gating.refusals import assert_refused
from genebench_assets_tests.defs.llm.test_assets import ALL, GOOD, PER_MODEL, write_synthetic_bank
from genebench_assets_tests.defs.llm.test_failures_fail import SCRIPT, MODEL, Scripted, _answers_then_judge, ok_answer
from genebench_assets_tests.science.llm.mock_api import message
from genebench_assets.defs.llm.resources import SpaceOmicsBenchResource


def ok_judge(body):
    return message("```json\n" + json.dumps(GOOD) + "\n```")


@pytest.fixture
def env(tmp_path):
    write_synthetic_bank(tmp_path / "sob")
    SCRIPT.requests, SCRIPT.replies = [], _answers_then_judge(ok_answer, ok_judge)
    instance = dg.DagsterInstance.ephemeral()
    resources = {"spaceomicsbench": SpaceOmicsBenchResource(data_dir=str(tmp_path / "sob"), mode="live",
                                                            cache_dir=str(tmp_path / "cache")),
                 "anthropic": Scripted(api_key="test-key", model=MODEL, judge_model="judge-mock"),
                 "io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path / "io"))}
    bank = dg.materialize(ALL, instance=instance, resources=resources,
                          selection=[assets.llm_question_bank, checks.llm_question_bank_valid])
    assert bank.success and all(e.passed for e in bank.get_asset_check_evaluations())
    return instance, resources, tmp_path


def _run(instance, resources, selection, partition=MODEL):
    return dg.materialize(ALL, instance=instance, resources=resources, partition_key=partition,
                          selection=selection, raise_on_error=False)


def _checks(result) -> dict:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def _leaderboard(instance, resources):
    result = dg.materialize(ALL, instance=instance, resources=resources, selection=[assets.llm_leaderboard])
    md = result.get_asset_materialization_events()[0].materialization.metadata
    return result.output_for_node("llm_leaderboard"), md


def test_checks_pass_and_the_leaderboard_is_valid(env, tmp_path):
    instance, resources, _ = env
    assert all(e.passed for e in _run(instance, resources, PER_MODEL).get_asset_check_evaluations())
    board, md = _leaderboard(instance, resources)
    assert board["valid"] is True and board["invalid_because"] == [] and md["valid"].value is True
    assert write_leaderboard_json(board, tmp_path / "out").is_file()


def test_a_silently_dropped_question_fails_failures_counted_and_invalidates_the_leaderboard(env, monkeypatch, tmp_path):
    """Planted: the judge-score builder loses the last question's row (no failure recorded for it)."""
    instance, resources, _ = env
    original = assets._judge_scores_of_model

    def drops_a_row(*args, **kwargs):
        df, metadata = original(*args, **kwargs)
        return df.iloc[:-1].reset_index(drop=True), metadata

    monkeypatch.setattr(assets, "_judge_scores_of_model", drops_a_row)
    result = _run(instance, resources, PER_MODEL)
    ev = _checks(result)["llm_judge_failures_counted"]
    assert not ev.passed and "Q3" in ev.description and ev.severity == dg.AssetCheckSeverity.WARN
    assert _checks(result)["llm_weighted_scores_recomputed"].passed  # the rows that are there are right
    board, md = _leaderboard(instance, resources)
    assert board["valid"] is False and md["valid"].value is False
    assert any(r.startswith(f"llm_judge_failures_counted ({MODEL})") for r in board["invalid_because"])
    with pytest.raises(ValueError):
        write_leaderboard_json(board, tmp_path / "out")
    assert not (tmp_path / "out" / "leaderboard.json").exists()


def test_a_wrong_weighted_score_marks_the_leaderboard_invalid_until_fixed(env, monkeypatch):
    """Planted: one weighted score is not the integers x weights: the leaderboard built on that version
    is marked invalid; on a corrected version it is valid again. (In one run, the checks finish before
    the leaderboard starts: defs/llm/test_replay.py.)"""
    instance, resources, _ = env
    original = assets._judge_scores_of_model

    def off_by_one(*args, **kwargs):
        df, metadata = original(*args, **kwargs)
        df.loc[0, "weighted_score"] += 1.0
        return df, metadata

    monkeypatch.setattr(assets, "_judge_scores_of_model", off_by_one)
    result = _run(instance, resources, PER_MODEL)
    assert _checks(result)["llm_weighted_scores_recomputed"].passed is False
    board, md = _leaderboard(instance, resources)
    assert board["valid"] is False
    assert any(r.startswith(f"llm_weighted_scores_recomputed ({MODEL})") for r in board["invalid_because"])
    # re-materialized without the fault: checks pass on the new version and the leaderboard is valid again
    monkeypatch.setattr(assets, "_judge_scores_of_model", original)
    assert all(e.passed for e in _run(instance, resources, PER_MODEL).get_asset_check_evaluations())
    assert _leaderboard(instance, resources)[0]["valid"] is True


def _tamper_stored_bank(io_dir, change):
    path = io_dir / "llm_question_bank"
    value = pickle.loads(path.read_bytes())
    change(value)
    path.write_bytes(pickle.dumps(value))


def test_a_stored_bank_changed_after_the_asset_ran_fails_the_bank_check(env):
    """Planted: the stored bank (what downstream assets load) gets a duplicated question id."""
    instance, resources, tmp_path = env

    def duplicate_id(value):
        value["questions"][1]["id"] = value["questions"][0]["id"]

    _tamper_stored_bank(tmp_path / "io", duplicate_id)
    result = dg.materialize(ALL, instance=instance, resources=resources, raise_on_error=False,
                            selection=dg.AssetSelection.checks(checks.llm_question_bank_valid))
    ev = _checks(result)["llm_question_bank_valid"]
    assert not ev.passed and "Q1" in ev.description


def test_a_bank_file_edited_since_the_bank_was_stored_fails_the_check_and_blocks_answers(env):
    """Planted: a question's text changes in the source file after llm_question_bank ran. The stored
    bank is still valid on its own, but it is not the bank on disk: the check fails, and the answers
    in the same run are not produced from the stale bank."""
    instance, resources, tmp_path = env
    bank_file = tmp_path / "sob" / "llm" / "question_bank.json"
    doc = json.loads(bank_file.read_text())
    doc["questions"][0]["question"] = "A different question?"
    bank_file.write_text(json.dumps(doc))
    result = dg.materialize(ALL, instance=instance, resources=resources, raise_on_error=False, partition_key=MODEL,
                            selection=dg.AssetSelection.checks(checks.llm_question_bank_valid)
                            | dg.AssetSelection.assets(assets.llm_answers))
    ev = _checks(result)["llm_question_bank_valid"]
    assert not ev.passed and "questions" in ev.description and "content hash" in ev.description
    assert not result.get_asset_materialization_events()
    assert not (tmp_path / "io" / "llm_answers").exists()
    assert not SCRIPT.requests  # no model was asked anything


def _refused(result, reader: str) -> str:
    """The reader's step failure: one line naming the bank and its failed blocking check."""
    return assert_refused(result, reader, "llm_question_bank", None, "llm_question_bank_valid")


def _fail_bank_check(instance, resources, io_dir):
    def duplicate_id(value):
        value["questions"][1]["id"] = value["questions"][0]["id"]

    _tamper_stored_bank(io_dir, duplicate_id)
    result = dg.materialize(ALL, instance=instance, resources=resources, raise_on_error=False,
                            selection=dg.AssetSelection.checks(checks.llm_question_bank_valid))
    assert not _checks(result)["llm_question_bank_valid"].passed


def test_a_later_run_of_llm_answers_refuses_a_bank_whose_check_failed(env):
    """The bank check fails (planted: a duplicated question id in the stored bank); a later, separate run
    of only llm_answers (the UI's "Materialize selected") is refused by the read gate in one line, asks
    no model anything, and stores and records nothing."""
    instance, resources, tmp_path = env
    _fail_bank_check(instance, resources, tmp_path / "io")
    _refused(_run(instance, resources, [assets.llm_answers]), "llm_answers")
    assert not SCRIPT.requests
    assert not (tmp_path / "io" / "llm_answers").exists()
    assert not instance.fetch_materializations(assets.llm_answers.key, limit=1).records


def test_later_runs_of_judge_scores_and_leaderboard_refuse_a_bank_whose_check_failed(env):
    """Answers and scores made on a good bank; then the bank check fails: later, separate runs of
    llm_judge_scores and of llm_leaderboard are refused and record no new materialization."""
    instance, resources, tmp_path = env
    assert _run(instance, resources, PER_MODEL).success
    _fail_bank_check(instance, resources, tmp_path / "io")
    n_requests = len(SCRIPT.requests)
    before = {a.key: len(instance.fetch_materializations(a.key, limit=100).records)
              for a in (assets.llm_judge_scores, assets.llm_leaderboard)}
    _refused(_run(instance, resources, [assets.llm_judge_scores]), "llm_judge_scores")
    _refused(dg.materialize(ALL, instance=instance, resources=resources, selection=[assets.llm_leaderboard],
                            raise_on_error=False), "llm_leaderboard")
    assert len(SCRIPT.requests) == n_requests
    assert not (tmp_path / "io" / "llm_leaderboard").exists()
    assert before == {a.key: len(instance.fetch_materializations(a.key, limit=100).records)
                      for a in (assets.llm_judge_scores, assets.llm_leaderboard)}
