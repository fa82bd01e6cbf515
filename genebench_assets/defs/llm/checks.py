"""Asset checks of the LLM question-bank assets.

- ``llm_question_bank_valid``: the stored bank (the value the IO manager stored, as downstream assets
  load it) re-validates (ids unique, fields typed, rubric dimensions known, every context file present,
  weights summing to 1) and is the bank in the source files now (content hash, questions, weights,
  contexts re-read from disk): a stored value changed after the asset ran, or source files edited
  since, fail it.
- ``llm_judge_failures_counted``: every question of the bank has exactly one row; a failed
  judgement has no weighted score; n_scored + n_failed = n_questions. Failures are listed.
- ``llm_weighted_scores_recomputed``: each weighted score equals round(sum(score * weight), 2) from
  the integers; in replay, it also equals the stored one, and the stored file's summary and
  metadata totals are reproduced exactly.

The two judge-score checks are blocking only for the order of steps: they fail with WARN severity, so
a failed one does not stop ``llm_leaderboard``, which then runs after them and is marked invalid
(``assets.leaderboard_invalid_because``); `genebench llm replay --out` writes no leaderboard.json.
"""


import dagster as dg
import pandas as pd

from genebench_assets.defs.runtime.dagster_internals import AssetCheckEvaluationTargetMaterializationData
from genebench_assets.defs.llm.assets import (JUDGE_SCORE_CHECKS, QUESTION_BANK_CHECK, llm_judge_scores,
                                              llm_model_partitions, llm_question_bank)
from genebench_assets.defs.llm.resources import SpaceOmicsBenchResource
from genebench_assets.science.llm import replay
from genebench_assets.science.llm.judging import weighted_score
from genebench_assets.science.llm.question_bank import QuestionBank, QuestionBankError, load_question_bank, validate_bank

FAILED = dg.AssetCheckSeverity.WARN  # see the module docstring: the leaderboard runs, marked invalid


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
        # the partition's materialization this evaluation is about (what llm_leaderboard compares with)
        latest = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=llm_judge_scores.key, asset_partitions=[k]), limit=1).records
        target = (AssetCheckEvaluationTargetMaterializationData(
            storage_id=latest[0].storage_id, run_id=latest[0].run_id, timestamp=latest[0].timestamp)
            if latest else None)
        context.op_execution_context.log_event(dg.AssetCheckEvaluation(
            asset_key=llm_judge_scores.key, check_name=check_name, passed=r.passed, metadata=r.metadata,
            severity=r.severity, description=r.description, partition=k, blocking=False,
            target_materialization_data=target))
    failed = [k for k, r in results.items() if not r.passed]
    return dg.AssetCheckResult(
        passed=not failed, severity=FAILED,
        description=(f"failed for {', '.join(failed)}: " + "; ".join(f"{k}: {results[k].description}" for k in failed)
                     if failed else f"passed for all {len(keys)} models"),
        metadata={"n_models": len(keys), "failed_models": dg.MetadataValue.json(failed)})


@dg.asset_check(asset=llm_question_bank, name=QUESTION_BANK_CHECK, blocking=True,
                description="The stored bank re-validates against its schema and context files, and equals the bank "
                "in the source files now (content hash, questions, weights, contexts).")
def llm_question_bank_valid(llm_question_bank: dict, spaceomicsbench: SpaceOmicsBenchResource) -> dg.AssetCheckResult:
    try:
        bank = QuestionBank.from_dict(llm_question_bank)
        validate_bank(llm_question_bank["questions"], bank.schema, context_names=list(bank.contexts))
        on_disk = load_question_bank(spaceomicsbench.llm_dir())
    except (QuestionBankError, KeyError, TypeError) as e:
        return dg.AssetCheckResult(passed=False, metadata={"error": str(e)}, description=str(e))
    differs = [what for what, stored, source in (
        ("content hash", bank.content_hash, on_disk.content_hash),
        ("questions", [q.to_dict() for q in bank.questions], [q.to_dict() for q in on_disk.questions]),
        ("schema", bank.schema.to_dict(), on_disk.schema.to_dict()),
        ("contexts", dict(bank.contexts), dict(on_disk.contexts))) if stored != source]
    if differs:
        return dg.AssetCheckResult(passed=False, metadata={"differs": dg.MetadataValue.json(differs)},
                                   description=f"the stored bank is not the bank in {spaceomicsbench.llm_dir()}: "
                                   f"{', '.join(differs)} differ (stored {bank.content_hash[:12]}, files "
                                   f"{on_disk.content_hash[:12]}); re-materialize llm_question_bank")
    return dg.AssetCheckResult(passed=True, metadata={
        "n_questions": len(bank.questions),
        "content_hash": bank.content_hash,
        "weights_sum": float(sum(bank.schema.weights.values())),
    })


@dg.asset_check(asset=llm_judge_scores, name=JUDGE_SCORE_CHECKS[0], partitions_def=llm_model_partitions, blocking=True,
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
        severity=FAILED,
        description="; ".join(problems) or f"{n_scored} scored, {len(failed)} failed, of {len(expected)}",
        metadata={"n_questions": len(expected), "n_scored": n_scored, "n_failed": len(failed),
                  "failures": dg.MetadataValue.md(failures_md[:4000])},
    )


@dg.asset_check(asset=llm_judge_scores, name=JUDGE_SCORE_CHECKS[1], partitions_def=llm_model_partitions, blocking=True,
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
    return dg.AssetCheckResult(passed=not problems, severity=FAILED, description="; ".join(problems[:10]) or "all recomputed exactly",
                               metadata=metadata | {"n_mismatches": len(problems)})
