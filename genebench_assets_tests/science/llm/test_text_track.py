"""GeneLab text-LLM track (SPEC §10): prompt format, reply parsing, few-shot leakage, submission shape."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.llm import text_track as tt
from genebench_assets_tests.science.llm.mock_api import ScriptedApi, message


def fold(n_genes=60, seed=0):
    rng = np.random.default_rng(seed)
    genes = [f"ENSMUSG{i:011d}" for i in range(n_genes)]
    X_train = pd.DataFrame(rng.normal(size=(8, n_genes)), index=[f"RR1_{i}" for i in range(8)], columns=genes)
    y_train = pd.Series([1.0, 0.0] * 4, index=X_train.index)
    X_test = pd.DataFrame(rng.normal(size=(3, n_genes)), index=["RR9_a", "RR9_b", "RR9_c"], columns=genes)
    symbols = {g: f"Gene{i}" for i, g in enumerate(genes) if i % 10}  # every 10th gene unmapped
    return X_train, y_train, X_test, symbols


def test_top_genes_are_highest_z_first_with_symbol_and_id():
    X_train, y_train, X_test, symbols = fold()
    row = X_test.iloc[0]
    top = tt.top_genes(row, 50)
    assert len(top) == 50 and top[0] == row.idxmax()
    assert list(row[top]) == sorted(row[top], reverse=True)
    text = tt.gene_list_text(row, symbols, 50)
    items = text.split(", ")
    assert len(items) == 50
    for g, item in zip(top, items):
        assert item == (f"{symbols[g]} ({g})" if g in symbols else g)


def test_zero_shot_prompt_format():
    X_train, y_train, X_test, symbols = fold()
    fp = tt.build_fold_prompts(X_train, y_train, X_test, symbols, n_genes=5, tissue="liver")
    assert set(fp.prompts) == set(X_test.index) and fp.example_ids == []
    p = fp.prompts["RR9_a"]
    assert p.startswith("Mouse liver tissue, bulk RNA-seq. The genes below are the 5 most highly expressed")
    assert "A = Flight, B = Ground." in p and p.endswith("\nAnswer:")
    assert p.count("Genes: ") == 1 and "(ENSMUSG" in p


@pytest.mark.parametrize("reply, parsed", [
    ("A 0.85", ("A", 0.85)),
    ("B 1.0", ("B", 1.0)),
    ("A 1", ("A", 1.0)),
    ("B 0", ("B", 0.0)),
    ("I first thought A 0.6, but on reflection:\nB 0.7", ("B", 0.7)),  # the LAST match wins
    ("Answer: A 0.9.", ("A", 0.9)),
    ("HBA 0.3 is high; Answer: B 0.55", ("B", 0.55)),  # 'HBA 0.3' is a gene, not an answer
    ("Scores: CD 0.2", None),
    ("A 10 samples suggest... B 0.65", ("B", 0.65)),  # 'A 10' is not 'A 1'
    ("A 1.5", None),
    ("Flight, confidence high", None),
    ("", None),
])
def test_parser_on_tricky_replies(reply, parsed):
    assert tt.parse_answer(reply) == parsed


def test_probability_of_flight():
    assert tt.probability_of_flight(("A", 0.8)) == 0.8
    assert tt.probability_of_flight(("B", 0.8)) == pytest.approx(0.2)
    assert tt.probability_of_flight(None) == tt.UNPARSED_PROBABILITY == 0.5


def test_few_shot_examples_come_from_training_samples_only():
    X_train, y_train, X_test, symbols = fold()
    fp = tt.build_fold_prompts(X_train, y_train, X_test, symbols, n_genes=5, k_shot=4, seed=7)
    assert len(fp.example_ids) == 4 and set(fp.example_ids) <= set(X_train.index)
    assert not set(fp.example_ids) & set(X_test.index)
    assert sorted(y_train[fp.example_ids]) == [0.0, 0.0, 1.0, 1.0]  # balanced
    p = fp.prompts["RR9_b"]
    assert p.count("Example ") == 4 and p.count("Answer: A 1.0") == 2 and p.count("Answer: B 1.0") == 2
    assert p.index("Now this sample") > p.index("Example 4")
    assert fp.example_ids == tt.build_fold_prompts(X_train, y_train, X_test, symbols, k_shot=4, seed=7).example_ids


def test_leakage_assertion_fires_on_a_test_sample():
    with pytest.raises(AssertionError, match="training samples only"):
        tt.assert_no_test_leakage(["RR9_a"], train_ids=["RR1_0", "RR9_a"], test_ids=["RR9_a"])
    with pytest.raises(AssertionError):
        tt.assert_no_test_leakage(["X"], train_ids=["RR1_0"], test_ids=[])


def test_predict_fold_through_the_mocked_api_and_submission_shape():
    from genebench_assets.science.llm.anthropic_calls import text_track_asker

    X_train, y_train, X_test, symbols = fold()
    replies = iter(["A 0.9", "Reasoning... B 0.8", "no idea"])
    api = ScriptedApi(lambda body: message(next(replies)))
    preds = tt.predict_fold(X_train, y_train, X_test, symbols, text_track_asker(api.client(), model="m"), k_shot=2)
    assert len(api.requests) == 3
    assert preds.probabilities == {"RR9_a": 0.9, "RR9_b": pytest.approx(0.2), "RR9_c": 0.5}
    assert preds.n_unparsed == 1
    sub = tt.make_submission("A1", "claude-text-zero", {"fold_RR-9_test": preds.probabilities})
    assert set(sub) == {"task_id", "model_name", "predictions"}
    assert sub["task_id"] == "A1" and set(sub["predictions"]["fold_RR-9_test"]) == set(X_test.index)
    assert all(0 <= p <= 1 for p in sub["predictions"]["fold_RR-9_test"].values())


def test_submission_rejects_bad_name_and_values():
    with pytest.raises(ValueError, match="model_name"):
        tt.make_submission("A1", "bad name!", {})
    with pytest.raises(ValueError, match="outside"):
        tt.make_submission("A1", "ok", {"f": {"s": float("nan")}})


def test_gene_columns_must_match():
    X_train, y_train, X_test, symbols = fold()
    with pytest.raises(ValueError, match="same genes"):
        tt.build_fold_prompts(X_train, y_train, X_test.iloc[:, ::-1], symbols)


def test_prompts_markdown_for_metadata():
    X_train, y_train, X_test, symbols = fold()
    fp = tt.build_fold_prompts(X_train, y_train, X_test, symbols, n_genes=3)
    md = tt.prompts_markdown(fp.prompts, limit=2)
    assert md.startswith("**RR9_a**\n\n```text\n") and md.endswith("... and 1 more test samples")
