"""Offline replay of the stored, already judged SpaceOmicsBench results (``llm/results/*.json``).

Each file holds one answering model's 100 answers with the judge's scores (``metadata``, ``summary``,
``results``). Replay turns a file into the same two tables the live path produces (answers, judge
scores), re-validating every judgement and recomputing every weighted score from the five integers
with the schema's weights (never taking the stored one); then it recomputes the file's ``summary``
and metadata totals and compares them with the stored values, field by field, exactly.

The published scorer's conventions, which the recomputation follows so the numbers match exactly:
per-question weighted score = round(sum(score * weight), 2) in schema order; averages are over
successfully judged questions only, summed in file order and rounded to 3 decimals; flag counts are
over successful judgements (a missing flag counts as false). Failures are counted separately
(``n_failed``) so that they are visible, not silently absent.

Truncation: the stored answers do not record a stop reason; an answer whose output tokens reached
the published answering ``max_tokens`` (2000) is flagged ``truncated`` (inferred).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from genebench_assets.science.llm.judging import FLAGS, failed_judgement, judgement_record, validate_scores
from genebench_assets.science.llm.question_bank import DIFFICULTIES

PUBLISHED_ANSWER_MAX_TOKENS = 2000
_LABEL = re.compile(r"^(?:scored_)?(?:eval_)?(?P<label>.+?)(?:_judged-by-[^/]+)?$")


@dataclass
class StoredRun:
    label: str  # partition key: from the file name, e.g. "llama33-70b-groq"
    path: Path
    metadata: dict[str, Any]
    summary: dict[str, Any]
    results: list[dict[str, Any]] = field(repr=False)

    @property
    def model_name(self) -> str:
        return str(self.metadata.get("model", self.label))

    @property
    def judge_model(self) -> str:
        return str(self.metadata.get("judge_model", ""))


def label_from_filename(name: str) -> str:
    stem = Path(name).stem
    m = _LABEL.match(stem)
    return m.group("label") if m else stem


def discover_stored_runs(results_dir: str | Path) -> dict[str, Path]:
    """label -> path for every ``*.json`` in results_dir, sorted by label."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        return {}
    runs: dict[str, Path] = {}
    for p in sorted(results_dir.glob("*.json")):
        label = label_from_filename(p.name)
        if label in runs:
            raise ValueError(f"two stored result files map to the same model label {label!r}: {runs[label].name}, {p.name}")
        runs[label] = p
    return runs


def load_stored_run(path: str | Path) -> StoredRun:
    path = Path(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    for key in ("metadata", "results"):
        if key not in data:
            raise ValueError(f"{path.name}: field '{key}' missing")
    return StoredRun(
        label=label_from_filename(path.name),
        path=path,
        metadata=dict(data["metadata"]),
        summary=dict(data.get("summary") or {}),
        results=list(data["results"]),
    )


# --- the two tables -------------------------------------------------------------------------------


def answers_table(run: StoredRun, *, question_bank_hash: str = "") -> pd.DataFrame:
    rows = []
    for r in run.results:
        out_tokens = r.get("output_tokens")
        ok = bool(r.get("success")) and bool(r.get("response"))
        rows.append(
            {
                "model": run.label,
                "model_name": r.get("model", run.model_name),
                "question_id": r["question_id"],
                "modality": r.get("modality"),
                "difficulty": r.get("difficulty"),
                "category": r.get("category"),
                "answer_success": ok,
                "response": r.get("response") or "",
                "input_tokens": r.get("input_tokens"),
                "output_tokens": out_tokens,
                "latency_sec": r.get("response_time_sec"),
                "stop_reason": None,  # not recorded in the stored files
                "truncated": bool(out_tokens is not None and out_tokens >= PUBLISHED_ANSWER_MAX_TOKENS),
                "prompt_sha256": "",  # the stored prompts were built by the published script, not by us
                "answer_error": "" if ok else str(r.get("error", "no response")),
                "cached": False,
                "source": "replay",
                "question_bank_hash": question_bank_hash,
            }
        )
    return pd.DataFrame(rows)


def judge_scores_table(run: StoredRun, weights: Mapping[str, float], *, question_bank_hash: str = "",
                       scores_key: str = "scores", judge_model: str | None = None) -> pd.DataFrame:
    """Re-validate each stored judgement and recompute its weighted score; keep the stored one beside it.

    ``scores_key``/``judge_model``: another judge's scores of the same answers (SECOND_JUDGE_KEY)."""
    answers = answers_table(run, question_bank_hash=question_bank_hash)
    rows = []
    for r, (_, a) in zip(run.results, answers.iterrows()):
        s = r.get(scores_key) or {}
        if not a["answer_success"]:
            j = failed_judgement("no answer to judge")
        elif not s.get("success", False):
            j = failed_judgement(str(s.get("error", "judge failed")), str(s.get("raw", "")))
        else:
            j = validate_scores(s, weights)
        jt = s.get("judge_tokens") or {}
        rows.append(
            {
                **{k: a[k] for k in ("model", "model_name", "question_id", "modality", "difficulty", "category", "answer_success", "output_tokens", "truncated")},
                **judgement_record(j, weights),
                "stored_weighted_score": s.get("weighted_score"),
                "judge_model": run.judge_model if judge_model is None else judge_model,
                "judge_input_tokens": jt.get("input"),
                "judge_output_tokens": jt.get("output"),
                "source": "replay",
                "question_bank_hash": question_bank_hash,
            }
        )
    return pd.DataFrame(rows)


# A second judge's scores of the stored answers (issue 21), if a stored run has them: per result the
# object under SECOND_JUDGE_KEY, shaped like "scores"; the judge's model in metadata[SECOND_JUDGE_MODEL_KEY].
SECOND_JUDGE_KEY, SECOND_JUDGE_MODEL_KEY = "scores_judge2", "judge2_model"


def has_second_judge(run: StoredRun) -> bool:
    return any(isinstance(r.get(SECOND_JUDGE_KEY), dict) for r in run.results)


def second_judge_scores_table(run: StoredRun, weights: Mapping[str, float], *, question_bank_hash: str = "") -> pd.DataFrame | None:
    """The second judge's table (same columns as judge_scores_table), or None when the run has none."""
    if not has_second_judge(run):
        return None
    return judge_scores_table(run, weights, question_bank_hash=question_bank_hash, scores_key=SECOND_JUDGE_KEY,
                              judge_model=str(run.metadata.get(SECOND_JUDGE_MODEL_KEY, "second judge")))


# --- the published summary, recomputed ----------------------------------------------------------


def _mean3(values: Sequence[float]) -> float:
    # Python float sum in row order, then round to 3: exactly what the published scorer did.
    return round(sum(values) / len(values), 3)


def published_summary(scores: pd.DataFrame, dimensions: Sequence[str]) -> dict[str, Any]:
    """The ``summary`` block of a stored file, recomputed from our judge-scores table (row order kept)."""
    ok = scores[scores["judge_success"].astype(bool)]
    summary: dict[str, Any] = {}
    if ok.empty:
        return {"n_scored": 0, "n_failed": int(len(scores))}
    for d in dimensions:
        summary[f"avg_{d}"] = _mean3([int(v) for v in ok[d]])
    ws = [float(v) for v in ok["weighted_score"]]
    summary["avg_weighted_score"] = _mean3(ws)
    summary["n_scored"] = int(len(ok))
    for diff in DIFFICULTIES:
        sub = [float(v) for v in ok.loc[ok["difficulty"] == diff, "weighted_score"]]
        if sub:
            summary[f"avg_{diff}"] = _mean3(sub)
    for mod in sorted(set(scores["modality"].dropna())):
        sub = [float(v) for v in ok.loc[ok["modality"] == mod, "weighted_score"]]
        if sub:
            summary[f"avg_{mod}"] = _mean3(sub)
    for f in FLAGS:
        summary[f"flag_{f}"] = int(ok[f"flag_{f}"].astype(bool).sum())
    summary["n_failed"] = int(len(scores) - len(ok))  # ours: not in the published summary
    return summary


def metadata_totals(run: StoredRun, answers: pd.DataFrame, scores: pd.DataFrame) -> dict[str, Any]:
    """The metadata counters that are derivable from the rows."""
    ok = scores[scores["judge_success"].astype(bool)]
    return {
        "total_questions": int(len(answers)),
        "successful": int(answers["answer_success"].sum()),
        "failed": int((~answers["answer_success"]).sum()),
        "total_input_tokens": int(pd.to_numeric(answers["input_tokens"]).fillna(0).sum()),
        "total_output_tokens": int(pd.to_numeric(answers["output_tokens"]).fillna(0).sum()),
        "judge_tokens_input": int(pd.to_numeric(ok["judge_input_tokens"]).fillna(0).sum()),
        "judge_tokens_output": int(pd.to_numeric(ok["judge_output_tokens"]).fillna(0).sum()),
    }


def compare(recomputed: Mapping[str, Any], stored: Mapping[str, Any]) -> list[str]:
    """Mismatches (exact equality) for every field the stored block has; our extra fields are ignored."""
    out = []
    for key, want in stored.items():
        if key not in recomputed:
            out.append(f"{key}: stored {want!r}, not recomputed")
        elif recomputed[key] != want:
            out.append(f"{key}: stored {want!r}, recomputed {recomputed[key]!r}")
    return out


def weighted_score_mismatches(scores: pd.DataFrame) -> list[str]:
    ok = scores[scores["judge_success"].astype(bool)]
    bad = ok[ok["weighted_score"].astype(float) != ok["stored_weighted_score"].astype(float)]
    return [f"{r.question_id}: stored {r.stored_weighted_score}, recomputed {r.weighted_score}" for r in bad.itertuples()]


@dataclass
class ReplayResult:
    run: StoredRun
    answers: pd.DataFrame
    scores: pd.DataFrame
    summary: dict[str, Any]
    mismatches: list[str]  # empty when everything reproduced exactly

    @property
    def exact(self) -> bool:
        return not self.mismatches


def replay_run(path: str | Path, weights: Mapping[str, float], *, question_bank_hash: str = "") -> ReplayResult:
    run = load_stored_run(path)
    answers = answers_table(run, question_bank_hash=question_bank_hash)
    scores = judge_scores_table(run, weights, question_bank_hash=question_bank_hash)
    summary = published_summary(scores, list(weights))
    stored_meta = {k: run.metadata[k] for k in metadata_totals(run, answers, scores) if k in run.metadata}
    mismatches = (
        [f"weighted_score {m}" for m in weighted_score_mismatches(scores)]
        + [f"summary {m}" for m in compare(summary, run.summary)]
        + [f"metadata {m}" for m in compare(metadata_totals(run, answers, scores), stored_meta)]
    )
    return ReplayResult(run=run, answers=answers, scores=scores, summary=summary, mismatches=mismatches)
