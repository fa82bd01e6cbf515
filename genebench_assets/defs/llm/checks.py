"""Asset checks of the LLM question-bank assets.

- ``llm_question_bank_valid``: the stored bank re-validates (ids unique, fields typed, rubric
  dimensions known, every context file present, weights summing to 1).
- ``llm_judge_failures_counted``: every question of the bank has exactly one row; a failed
  judgement has no weighted score; n_scored + n_failed = n_questions. Failures are listed.
- ``llm_weighted_scores_recomputed``: each weighted score equals round(sum(score * weight), 2) from
  the integers; in replay, it also equals the stored one, and the stored file's summary and
  metadata totals are reproduced exactly.
"""


import dagster as dg
import pandas as pd

from genebench_assets.defs.llm.assets import llm_judge_scores, llm_model_partitions, llm_question_bank
from genebench_assets.defs.llm.resources import SpaceOmicsBenchResource
from genebench_assets.science.llm import replay
from genebench_assets.science.llm.judging import weighted_score
from genebench_assets.science.llm.question_bank import QuestionBank, QuestionBankError, validate_bank


def _each_model(context, check_name: str, scores, evaluate) -> dg.AssetCheckResult:
    """Evaluate a per-model check on every model partition of the run.

    A run over one model returns that model's result. A run over several (single-run backfill,
    `genebench llm replay`) gets {model: table}: each model's result is recorded as its own
    partition's check evaluation, and the step's result summarises them (failed models named)."""
    keys = list(context.partition_keys)
    if len(keys) == 1:
        return evaluate(keys[0], scores[keys[0]] if isinstance(scores, dict) else scores)
    results = {k: evaluate(k, scores[k]) for k in keys}
    for k, r in results.items():
        context.op_execution_context.log_event(dg.AssetCheckEvaluation(
            asset_key=llm_judge_scores.key, check_name=check_name, passed=r.passed, metadata=r.metadata,
            severity=r.severity, description=r.description, partition=k, blocking=False))
    failed = [k for k, r in results.items() if not r.passed]
    return dg.AssetCheckResult(
        passed=not failed,
        description=(f"failed for {', '.join(failed)}: " + "; ".join(f"{k}: {results[k].description}" for k in failed)
                     if failed else f"passed for all {len(keys)} models"),
        metadata={"n_models": len(keys), "failed_models": dg.MetadataValue.json(failed)})


@dg.asset_check(asset=llm_question_bank, name="llm_question_bank_valid", blocking=True,
                description="The bank re-validates against the schema and the context files.")
def llm_question_bank_valid(llm_question_bank: dict) -> dg.AssetCheckResult:
    try:
        bank = QuestionBank.from_dict(llm_question_bank)
        validate_bank(llm_question_bank["questions"], bank.schema, context_names=list(bank.contexts))
    except (QuestionBankError, KeyError) as e:
        return dg.AssetCheckResult(passed=False, metadata={"error": str(e)})
    return dg.AssetCheckResult(passed=True, metadata={
        "n_questions": len(bank.questions),
        "content_hash": bank.content_hash,
        "weights_sum": float(sum(bank.schema.weights.values())),
    })


@dg.asset_check(asset=llm_judge_scores, name="llm_judge_failures_counted", partitions_def=llm_model_partitions,
                additional_ins={"llm_question_bank": dg.AssetIn(key=llm_question_bank.key)},
                description="Every question is accounted for: scored or failed, none silently dropped.")
def llm_judge_failures_counted(context: dg.AssetCheckExecutionContext, llm_judge_scores, llm_question_bank: dict) -> dg.AssetCheckResult:
    return _each_model(context, "llm_judge_failures_counted", llm_judge_scores,
                       lambda label, df: _failures_counted(df, llm_question_bank))


def _failures_counted(df: pd.DataFrame, llm_question_bank: dict) -> dg.AssetCheckResult:
    expected = {q["id"] for q in llm_question_bank["questions"]}
    counts = df["question_id"].value_counts()
    problems = []
    missing = sorted(expected - set(counts.index))
    if missing:
        problems.append(f"questions without a row: {missing[:10]}")
    dupes = sorted(counts[counts > 1].index)
    if dupes:
        problems.append(f"questions with several rows: {dupes[:10]}")
    failed = df[~df["judge_success"].astype(bool)]
    if failed["weighted_score"].notna().any():
        problems.append("a failed judgement carries a weighted score")
    n_scored = int(df["judge_success"].astype(bool).sum())
    if n_scored + len(failed) != len(expected) and not (missing or dupes):
        problems.append(f"n_scored {n_scored} + n_failed {len(failed)} != {len(expected)} questions")
    failures_md = "\n".join(f"- {r.question_id}: {r.judge_error}" for r in failed.itertuples()) or "none"
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(problems) or f"{n_scored} scored, {len(failed)} failed, of {len(expected)}",
        metadata={"n_questions": len(expected), "n_scored": n_scored, "n_failed": len(failed),
                  "failures": dg.MetadataValue.md(failures_md[:4000])},
    )


@dg.asset_check(asset=llm_judge_scores, name="llm_weighted_scores_recomputed", partitions_def=llm_model_partitions,
                additional_ins={"llm_question_bank": dg.AssetIn(key=llm_question_bank.key)},
                description="Weighted scores recomputed from the integers; in replay, the stored file reproduced exactly.")
def llm_weighted_scores_recomputed(context: dg.AssetCheckExecutionContext, llm_judge_scores, llm_question_bank: dict, spaceomicsbench: SpaceOmicsBenchResource) -> dg.AssetCheckResult:
    return _each_model(context, "llm_weighted_scores_recomputed", llm_judge_scores,
                       lambda label, df: _weighted_scores_recomputed(label, df, llm_question_bank, spaceomicsbench))


def _weighted_scores_recomputed(label: str, df: pd.DataFrame, llm_question_bank: dict, spaceomicsbench: SpaceOmicsBenchResource) -> dg.AssetCheckResult:
    weights = QuestionBank.from_dict(llm_question_bank).schema.weights
    ok = df[df["judge_success"].astype(bool)]
    problems = [
        f"{r['question_id']}: {r['weighted_score']} != {weighted_score({d: int(r[d]) for d in weights}, weights)}"
        for _, r in ok.iterrows()
        if float(r["weighted_score"]) != weighted_score({d: int(r[d]) for d in weights}, weights)
    ]
    metadata: dict = {"n_checked": len(ok)}
    if (df["source"] == "replay").all() and len(df):
        runs = replay.discover_stored_runs(spaceomicsbench.results_dir())
        if label in runs:
            result = replay.replay_run(runs[label], weights)
            problems += result.mismatches
            metadata["stored_file"] = runs[label].name
            metadata["summary_fields_compared"] = len(result.run.summary)
        else:
            problems.append(f"stored results for {label!r} not found")
    return dg.AssetCheckResult(passed=not problems, description="; ".join(problems[:10]) or "all recomputed exactly",
                               metadata=metadata | {"n_mismatches": len(problems)})
