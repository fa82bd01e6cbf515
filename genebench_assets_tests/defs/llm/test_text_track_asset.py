"""The GeneLab text-LLM track through the real graph (SPEC §10): demo folds -> prompts -> the real
anthropic client on a mock transport -> a Category A submission scored by the Category A evaluator."""

from __future__ import annotations

import re

import pytest

from genebench_assets.defs.llm.resources import AnthropicResource
from genebench_assets.science.storage.table_store import TableStore
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
    store = TableStore(graph.data_dir)
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
