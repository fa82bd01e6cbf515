"""The GeneLab text-LLM track through the real graph (SPEC §10): demo folds -> prompts -> the real
anthropic client on a mock transport -> a Category A submission scored by the Category A evaluator."""

from __future__ import annotations

import re

import pytest

from genebench_assets.defs.llm.resources import AnthropicResource
from genebench_assets_tests.defs.gating.refusals import assert_refused
from genebench_assets_tests.defs.demo_graph import DemoGraph, check_results, materialized
from genebench_assets_tests.science.llm.mock_api import ScriptedApi, message

pytestmark = pytest.mark.slow


def scripted_model(body):
    """Answers from the prompt's own gene list, like a model that learnt one marker, plus noise."""
    prompt = body["messages"][-1]["content"]
    prompt = prompt if isinstance(prompt, str) else " ".join(b.get("text", "") for b in prompt)
    last = prompt.rsplit("Genes", 1)[-1]
    n = len(re.findall(r"Simg00[0-4]\d", last))
    return message(f"Reasoning...\nAnswer: {'A' if n % 2 else 'B'} 0.{6 + n % 4}")


API = ScriptedApi(scripted_model)


class MockAnthropic(AnthropicResource):
    def client(self):
        return API.client()


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    g = DemoGraph(tmp_path_factory.mktemp("textllm"))
    g.resources["anthropic"] = MockAnthropic(model="claude-test")
    assert g.catalog().success
    for m in ("RR-1", "RR-5", "RR-9"):
        assert g.study("gastrocnemius", m).success
    assert g.tissue("gastrocnemius", ["lomo_folds"]).success
    return g


def test_text_llm_submission_is_scored_by_the_category_a_evaluator(graph, monkeypatch):
    monkeypatch.setenv("GENEBENCH_TEXT_LLM_SHOTS", "2")
    API.requests.clear()
    result = graph.run(["text_llm_predictions"], "gastrocnemius")
    assert result.success and materialized(result) == ["text_llm_predictions"]
    assert check_results(result) == {"text_llm_examples_from_training_only": True}
    store = graph.settings.table_store()  # tissue-level tables live under tables/<protocol>/
    submission = store.read_json("text_llm_predictions", "gastrocnemius", "submission")
    folds = {f["fold_id"]: f for f in store.read_json("lomo_folds", "gastrocnemius")}
    assert submission["task_id"] == "A2" and set(submission["predictions"]) == set(folds)
    for fold_id, preds in submission["predictions"].items():
        assert set(preds) == set(folds[fold_id]["test_ids"])
        assert all(0.0 <= p <= 1.0 for p in preds.values())
    # One request per test sample; every prompt lists genes as `Symbol (ENSMUSG...)`, with 2 examples.
    assert len(API.requests) == sum(len(f["test_ids"]) for f in folds.values())
    first = API.requests[0]["messages"][-1]["content"]
    first = first if isinstance(first, str) else " ".join(b.get("text", "") for b in first)
    assert re.search(r"Simg\d+ \(ENSMUSG9\d{10}\)", first)
    scored = store.read_json("text_llm_predictions", "gastrocnemius")
    assert scored["n_unparsed"] == 0
    assert 0.0 <= scored["score"]["summary"]["mean_auroc"] <= 1.0
    for fold_id, ids in scored["few_shot_examples"].items():
        assert len(ids) == 2 and set(ids) <= set(folds[fold_id]["train_ids"])
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    assert "Simg" in meta["prompts_first_fold"].value


def test_without_a_key_it_fails_with_what_to_set(graph, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    graph.resources["anthropic"] = AnthropicResource(model="claude-test")
    try:
        result = graph.run(["text_llm_predictions"], "gastrocnemius")
    finally:
        graph.resources["anthropic"] = MockAnthropic(model="claude-test")
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "ANTHROPIC_API_KEY" in str(failure.event_specific_data.error)


# ------------------------------------------------------------- failures fail (issue 10, item 3)
def _outputs(graph):
    return [p for p in graph.data_dir.rglob("*") if "text_llm_predictions" in str(p) and p.is_file()]


def _failure_text(result) -> str:
    failures = [e for e in result.all_events if e.is_step_failure]
    assert len(failures) == 1
    return str(failures[0].event_specific_data.error.message)


@pytest.fixture
def failing_api(graph):
    """The graph with its text-track outputs removed and the API replaced by `api` for one test."""
    import shutil

    for p in {q.parent for q in _outputs(graph)}:
        shutil.rmtree(p, ignore_errors=True)
    api = ScriptedApi([])

    class Failing(AnthropicResource):
        def client(self):
            return api.client(max_retries=2)

    graph.resources["anthropic"] = Failing(model="claude-test")
    yield api
    graph.resources["anthropic"] = MockAnthropic(model="claude-test")


def test_bad_key_fails_at_the_first_call_and_writes_no_submission(graph, failing_api):
    from genebench_assets_tests.science.llm.mock_api import error

    failing_api.replies = [error(401, "authentication_error")]
    result = graph.run(["text_llm_predictions"], "gastrocnemius")
    assert not result.success
    why = _failure_text(result)
    assert "text_llm_predictions gastrocnemius (claude-test): stopped at the first hard API error after 1 of" in why
    assert "HTTP 401 AuthenticationError" in why and why.count("mock 401") == 1
    assert len(failing_api.requests) == 1
    assert _outputs(graph) == [] and not result.get_asset_materialization_events()


def test_unparsed_replies_fail_instead_of_scoring_auroc_one_half(graph, failing_api):
    failing_api.replies = [message("I cannot tell from a gene list.")]
    result = graph.run(["text_llm_predictions"], "gastrocnemius")
    assert not result.success
    why = _failure_text(result)
    assert "stopped after 1 of" in why and "1 failed" in why and "allowed 0.0% by GENEBENCH_LLM_MAX_FAILURE_SHARE" in why
    assert "unparsed: no 'A 0.7'-style answer (reply 'I cannot tell from a gene list.')" in why
    assert len(failing_api.requests) == 1 and _outputs(graph) == []


def test_a_later_run_refuses_folds_whose_leakage_check_failed(graph, failing_api, monkeypatch):
    """Planted: lomo_folds plan the model fit on training and test samples, so the blocking
    leakage_fitted_steps_saw_training_only fails; a later, separate run of only text_llm_predictions is
    refused by the read gate in one line, asks the model nothing and writes/records nothing. The module's
    folds are re-materialized cleanly afterwards."""
    import dataclasses

    import dagster as dg

    from genebench_assets.science.tasks import folds

    check, original = "leakage_fitted_steps_saw_training_only", folds.build_lomo_folds

    def build(*args, **kwargs):
        built = original(*args, **kwargs)
        return folds.FoldList([dataclasses.replace(f, fitted_steps={**f.fitted_steps,
                                                                    folds.STEP_MODEL_FIT: f.train_ids + f.test_ids})
                               for f in built], built.skipped)

    key = dg.AssetKey("text_llm_predictions")
    before = len(graph.instance.fetch_materializations(key, limit=100).records)
    monkeypatch.setattr(folds, "build_lomo_folds", build)
    try:
        assert check_results(graph.tissue("gastrocnemius", ["lomo_folds"]))[check] is False
        later = graph.run(["text_llm_predictions"], "gastrocnemius")
        assert_refused(later, "text_llm_predictions", "lomo_folds", "gastrocnemius", check)
        assert not failing_api.requests and _outputs(graph) == []
        assert len(graph.instance.fetch_materializations(key, limit=100).records) == before
    finally:
        monkeypatch.setattr(folds, "build_lomo_folds", original)
        assert graph.tissue("gastrocnemius", ["lomo_folds"]).success
