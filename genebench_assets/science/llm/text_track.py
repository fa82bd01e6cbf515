"""GeneLab text-LLM track (SPEC §10): Flight vs Ground from a sample's top genes, as text.

Inputs are one LOMO fold as plain DataFrames: ``X_train`` / ``X_test`` (samples x genes, already
z-scored with training mean and SD over the fold's variance-filtered genes), ``y_train`` (1.0 Flight,
0.0 Ground), and a gene id -> symbol map. Nothing of the test mission's labels is used.

Per test sample the prompt lists its top-N genes by standardized expression (highest z first; ties
by gene id so the prompt is deterministic) as ``Symbol (ENSMUSG...)`` and asks for ``A`` (Flight) or
``B`` (Ground) with a confidence in [0, 1]. The reply is parsed with the LAST match of
``([AB])\\s+(0\\.\\d+|1\\.0|0|1)``, guarded so the letter is not the tail of a word (``HBA 0.3``) and
the number is not the head of a longer one (``A 10``). P(Flight) = conf for A, 1 - conf for B; an
unparseable reply gets 0.5 (no information) and is counted.

Few-shot: k examples (as balanced between classes as the training set allows, seeded) drawn from
the *training* samples only, each shown with its true answer; ``assert_no_test_leakage`` fails if
any example id is a test sample.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

ANSWER_PATTERN = re.compile(r"(?<![A-Za-z0-9_])([AB])\s+(0\.\d+|1\.0|0|1)(?![\d]|\.\d)")
UNPARSED_PROBABILITY = 0.5
N_GENES = 50


def gene_label(gene_id: str, symbols: Mapping[str, str]) -> str:
    """``Symbol (ENSMUSG...)``; an unmapped gene is shown by its id alone."""
    sym = symbols.get(gene_id)
    if sym is None or (isinstance(sym, float) and np.isnan(sym)) or str(sym).strip() in ("", gene_id):
        return gene_id
    return f"{sym} ({gene_id})"


def top_genes(row: pd.Series, n: int = N_GENES) -> list[str]:
    """Gene ids of the n highest standardized values (NaN ignored), ties broken by gene id."""
    s = row.dropna().astype(float)
    order = sorted(s.index, key=lambda g: (-s[g], str(g)))
    return [str(g) for g in order[:n]]


def gene_list_text(row: pd.Series, symbols: Mapping[str, str], n: int = N_GENES) -> str:
    return ", ".join(gene_label(g, symbols) for g in top_genes(row, n))


INSTRUCTIONS = (
    "Mouse {tissue}tissue, bulk RNA-seq. The genes below are the {n} most highly expressed genes of one "
    "sample relative to the other samples (expression standardized gene by gene), highest first.\n"
    "Was this sample from a spaceflight animal or a ground control?\n"
    "Answer with one letter and a confidence between 0 and 1 on the last line, e.g. `A 0.7`:\n"
    "A = Flight, B = Ground."
)


def answer_line(label: float) -> str:
    return "A 1.0" if float(label) == 1.0 else "B 1.0"


def build_prompt(genes_text: str, *, n: int = N_GENES, tissue: str | None = None, examples: Sequence[tuple[str, str]] = ()) -> str:
    """Zero-shot when examples is empty; otherwise each example is (gene list text, answer line)."""
    parts = [INSTRUCTIONS.format(tissue=f"{tissue} " if tissue else "", n=n)]
    for i, (text, ans) in enumerate(examples, start=1):
        parts.append(f"Example {i}\nGenes: {text}\nAnswer: {ans}")
    parts.append(("Now this sample\n" if examples else "") + f"Genes: {genes_text}\nAnswer:")
    return "\n\n".join(parts)


def parse_answer(text: str) -> tuple[str, float] | None:
    """(letter, confidence) from the last valid match, or None."""
    matches = ANSWER_PATTERN.findall(text or "")
    if not matches:
        return None
    letter, conf = matches[-1]
    return letter, float(conf)


def probability_of_flight(parsed: tuple[str, float] | None) -> float:
    if parsed is None:
        return UNPARSED_PROBABILITY
    letter, conf = parsed
    return conf if letter == "A" else 1.0 - conf


def select_examples(y_train: pd.Series, k: int, *, seed: int = 42) -> list[str]:
    """k training sample ids, alternating Flight / Ground where possible, seeded and deterministic."""
    if k <= 0:
        return []
    rng = np.random.default_rng(seed)
    y = y_train.dropna()
    pools = {c: list(rng.permutation(sorted(map(str, y.index[y == c])))) for c in (1.0, 0.0)}
    chosen: list[str] = []
    while len(chosen) < k and (pools[1.0] or pools[0.0]):
        for c in (1.0, 0.0):
            if pools[c] and len(chosen) < k:
                chosen.append(pools[c].pop(0))
    return chosen


def assert_no_test_leakage(example_ids: Sequence[str], train_ids: Sequence[str], test_ids: Sequence[str]) -> None:
    test, train = set(map(str, test_ids)), set(map(str, train_ids))
    leaked = [e for e in example_ids if e in test or e not in train]
    if leaked:
        raise AssertionError(f"few-shot examples must be training samples only; offending ids: {leaked[:5]}")


@dataclass
class FoldPrompts:
    prompts: dict[str, str]  # test sample id -> prompt
    example_ids: list[str] = field(default_factory=list)


def build_fold_prompts(X_train: pd.DataFrame, y_train: pd.Series, X_test: pd.DataFrame, symbols: Mapping[str, str], *, n_genes: int = N_GENES, k_shot: int = 0, seed: int = 42, tissue: str | None = None) -> FoldPrompts:
    if list(X_train.columns) != list(X_test.columns):
        raise ValueError("X_train and X_test must have the same genes in the same order (the fold's selected genes)")
    y_train = y_train.reindex(X_train.index)
    example_ids = select_examples(y_train, k_shot, seed=seed)
    assert_no_test_leakage(example_ids, list(map(str, X_train.index)), list(map(str, X_test.index)))
    train_by_id = X_train.set_axis(list(map(str, X_train.index)))
    y_by_id = y_train.set_axis(list(map(str, y_train.index)))
    examples = [(gene_list_text(train_by_id.loc[e], symbols, n_genes), answer_line(y_by_id[e])) for e in example_ids]
    prompts = {
        str(sid): build_prompt(gene_list_text(row, symbols, n_genes), n=n_genes, tissue=tissue, examples=examples)
        for sid, row in X_test.iterrows()
    }
    return FoldPrompts(prompts=prompts, example_ids=example_ids)


@dataclass
class FoldPredictions:
    probabilities: dict[str, float]
    replies: dict[str, str]
    parsed: dict[str, tuple[str, float] | None]
    example_ids: list[str]
    prompts: dict[str, str]

    @property
    def n_unparsed(self) -> int:
        return sum(p is None for p in self.parsed.values())


def predict_fold(X_train: pd.DataFrame, y_train: pd.Series, X_test: pd.DataFrame, symbols: Mapping[str, str], ask: Callable[[str], str], *, n_genes: int = N_GENES, k_shot: int = 0, seed: int = 42, tissue: str | None = None) -> FoldPredictions:
    """Ask the model once per test sample (``ask``: prompt -> reply text) and turn replies into P(Flight)."""
    fp = build_fold_prompts(X_train, y_train, X_test, symbols, n_genes=n_genes, k_shot=k_shot, seed=seed, tissue=tissue)
    replies = {sid: ask(p) for sid, p in fp.prompts.items()}
    parsed = {sid: parse_answer(r) for sid, r in replies.items()}
    probs = {sid: float(probability_of_flight(p)) for sid, p in parsed.items()}
    return FoldPredictions(probabilities=probs, replies=replies, parsed=parsed, example_ids=fp.example_ids, prompts=fp.prompts)


def make_submission(task_id: str, model_name: str, predictions: Mapping[str, Mapping[str, float]]) -> dict:
    """Category A submission (SPEC §7): {task_id, model_name, predictions: {fold_id: {sample_id: p}}}."""
    if not re.fullmatch(r"[\w\-\.]+", model_name) or len(model_name) > 50:
        raise ValueError(f"model_name {model_name!r} must match ^[\\w\\-\\.]+$ and be <= 50 chars")
    out: dict[str, dict[str, float]] = {}
    for fold_id, probs in predictions.items():
        fold: dict[str, float] = {}
        for sid, p in probs.items():
            p = float(p)
            if not 0.0 <= p <= 1.0:  # also rejects NaN
                raise ValueError(f"{fold_id}/{sid}: probability {p} outside [0, 1]")
            fold[str(sid)] = p
        out[str(fold_id)] = fold
    return {"task_id": task_id, "model_name": model_name, "predictions": out}


def prompts_markdown(prompts: Mapping[str, str], *, limit: int = 2) -> str:
    """The first ``limit`` prompts of a fold as markdown (for a demo fold's asset metadata)."""
    shown = list(prompts.items())[:limit]
    parts = [f"**{sid}**\n\n```text\n{p}\n```" for sid, p in shown]
    if len(prompts) > limit:
        parts.append(f"... and {len(prompts) - limit} more test samples")
    return "\n\n".join(parts)
