"""SpaceOmicsBench LLM question bank: bank -> answers -> judge scores -> leaderboard (SPEC §12).

All four assets are in the ``llm`` group, outside the default job. Two modes (resources.py):

- ``replay`` (default when ``llm/results/*.json`` is found): answers and judge scores come from the
  stored, already judged results of nine models; every judgement is re-validated and every weighted
  score recomputed from the integers; the leaderboard is rebuilt offline.
- ``live`` (``GENEBENCH_LLM_MODE=live`` and ``ANTHROPIC_API_KEY``): the answering model (the partition
  key, an Anthropic model id) answers each question, the judge model scores each answer; responses
  are cached by (model, prompt hash, settings), so a rerun costs nothing and an interrupted run resumes.

Without data or key, materializing fails at once with a message saying which variables to set.

Partitions: ``llm_answers`` and ``llm_judge_scores`` are partitioned by answering model, a dynamic
partition set (``llm_answering_model``) because the models are data, not code: ``llm_question_bank``
registers the stored runs' labels (replay) or the configured model (live); more can be added in the UI.
The bank's content hash is its data version and is stamped on every downstream row.
"""


import base64
import io
import math
import time

import dagster as dg
import pandas as pd

from genebench_assets.defs.lineage.code_versions import code_version_of
from genebench_assets.defs.llm.provenance import llm_provenance, question_bank_files, stored_run_files
from genebench_assets.defs.lineage.provenance import content_version
from genebench_assets.defs.llm.resources import (NO_SECOND_JUDGE, AnthropicResource, LlmSetupError, SecondJudgeResource,
                                                 SpaceOmicsBenchResource)
from genebench_assets.defs.runtime.progress import log_progress
from genebench_assets.science.llm import agreement, anthropic_calls, leaderboard, prompts, replay
from genebench_assets.science.llm.judges import AnthropicJudge, Judge
from genebench_assets.science.llm.judging import failed_judgement, judgement_record
from genebench_assets.science.llm.question_bank import QuestionBank, QuestionBankError, load_question_bank

GROUP = "llm"
llm_model_partitions = dg.DynamicPartitionsDefinition(name="llm_answering_model")
# One run may cover several model partitions (single-run backfill, `genebench llm replay`): the
# per-model assets then return {model: table}; the code location's io_manager
# (defs/runtime/partition_range_io.py) stores each table as its own partition.


def _per_partition(context: dg.AssetExecutionContext, tables: dict, metadata: dict) -> dg.Output:
    """One model: the table with its metadata; several: {model: table}, metadata per partition."""
    keys = list(context.partition_keys)
    if len(keys) == 1:
        return dg.Output(tables[keys[0]], metadata=metadata[keys[0]],
                         data_version=dg.DataVersion(content_version(tables[keys[0]])))
    for key in keys:
        context.add_asset_metadata(metadata[key], partition_key=key)
    return dg.Output(tables)


def _raise_failure(step, *args) -> None:
    """Run a failure-tally step; its one-line error becomes the asset's failure (no retry, no output)."""
    from genebench_assets.science.llm.failure_policy import LlmFailureError

    try:
        step(*args)
    except LlmFailureError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None


def _tally_call(tally, call, judgement=None) -> None:
    """Count one call (and, for the judge, its parse) in the batch's tally; stops the batch on a hard
    API error or once the allowed share of failures is lost."""
    if not call.success:
        _raise_failure(tally.api_failure, call)
        return
    tally.ok()
    if judgement is not None and not judgement.success:
        _raise_failure(tally.unparsed, call.text, judgement.error)


def _check_stored(anthropic: AnthropicResource, what: str, df: pd.DataFrame, ok_column: str, error_column: str) -> None:
    ok = df[ok_column].astype(bool)
    tally = anthropic.failure_tally(what, len(df))
    tally.n_unparsed = int((~ok).sum())
    if tally.n_unparsed:
        tally.first_cause = f"stored failure: {str(df.loc[~ok, error_column].iloc[0])[:200]!r}" if error_column in df else "stored failure"
        tally.causes = {"stored failure": tally.n_unparsed}
    _raise_failure(tally.check)


def _bank(value: dict, context=None) -> QuestionBank:
    # With a reader's context: the read gate first (gating/read_gate.py), the bank's blocking check passed on it.
    if context is not None:
        from genebench_assets.defs.gating.read_gate import require_checked_inputs

        require_checked_inputs(context, [("llm_question_bank", None)])
    return QuestionBank.from_dict(value)


def _stored_run_path(spaceomicsbench: SpaceOmicsBenchResource, label: str):
    runs = replay.discover_stored_runs(spaceomicsbench.results_dir())
    if label not in runs:
        raise LlmSetupError(f"No stored results for model {label!r} (stored: {', '.join(runs) or 'none'}).")
    return runs[label]


@dg.asset(code_version=code_version_of(__file__, "llm_question_bank"), group_name=GROUP, description="The SpaceOmicsBench question bank and annotation schema, validated; "
          "its content hash versions every downstream score. Registers the answering-model partitions.")
def llm_question_bank(context: dg.AssetExecutionContext, spaceomicsbench: SpaceOmicsBenchResource, anthropic: AnthropicResource) -> dg.Output[dict]:
    mode = spaceomicsbench.resolve_mode(bool(anthropic.resolved_api_key()))
    try:
        bank = load_question_bank(spaceomicsbench.llm_dir())
    except QuestionBankError as e:
        raise dg.Failure(description=f"invalid question bank: {e}", allow_retries=False) from e
    models = list(replay.discover_stored_runs(spaceomicsbench.results_dir())) if mode == "replay" else [anthropic.model]
    new = [m for m in models if not context.instance.has_dynamic_partition(llm_model_partitions.name, m)]
    if new:
        context.instance.add_dynamic_partitions(llm_model_partitions.name, new)
    counts = bank.counts()
    return dg.Output(
        bank.to_dict() | {"mode": mode, "models": models},
        data_version=dg.DataVersion(bank.content_hash),
        metadata={
            "mode": mode,
            "n_questions": len(bank.questions),
            "content_hash": bank.content_hash,
            "models": dg.MetadataValue.json(models),
            "weights": dg.MetadataValue.json(dict(bank.schema.weights)),
            "counts": dg.MetadataValue.md(_md(counts.reset_index())),
            **llm_provenance(bank.content_hash, question_bank_files(spaceomicsbench.llm_dir())),
        },
    )


def _md(df: pd.DataFrame) -> str:
    return leaderboard.markdown_table(df, list(df.columns))


@dg.asset(code_version=code_version_of(__file__, "llm_answers"), group_name=GROUP, partitions_def=llm_model_partitions, backfill_policy=dg.BackfillPolicy.single_run(),
          description="One answer per question from the partition's model: response, tokens, latency, "
          "stop reason (truncated answers flagged) and the exact prompt hash.")
def llm_answers(context: dg.AssetExecutionContext, llm_question_bank: dict, spaceomicsbench: SpaceOmicsBenchResource, anthropic: AnthropicResource) -> dg.Output:
    bank = _bank(llm_question_bank, context)
    mode = spaceomicsbench.resolve_mode(bool(anthropic.resolved_api_key()))
    tables, metadata = {}, {}
    for label in context.partition_keys:
        tables[label], metadata[label] = _answers_of_model(context, label, bank, mode, spaceomicsbench, anthropic)
    return _per_partition(context, tables, metadata)


def _answers_of_model(context, label: str, bank: QuestionBank, mode: str, spaceomicsbench: SpaceOmicsBenchResource,
                      anthropic: AnthropicResource) -> tuple[pd.DataFrame, dict]:
    if mode == "replay":
        df = replay.answers_table(replay.load_stored_run(_stored_run_path(spaceomicsbench, label)), question_bank_hash=bank.content_hash)
        # the stored runs are held to the same rule as live ones
        _check_stored(anthropic, f"llm_answers ({label}, replay)", df, "answer_success", "answer_error")
    else:
        client = anthropic.client()
        cache = anthropic_calls.ResponseCache(spaceomicsbench.cache_root() / "answers")
        tally = anthropic.failure_tally(f"llm_answers ({label})", len(bank.questions))
        rows = []
        t0 = time.perf_counter()
        for i, q in enumerate(bank.questions, start=1):
            prompt = prompts.build_answer_prompt(q, bank.contexts)
            res = anthropic_calls.answer(client, prompt, model=label, temperature=anthropic.temperature, max_tokens=anthropic.max_tokens, cache=cache)
            _tally_call(tally, res)
            rows.append({
                "model": label, "model_name": label, "question_id": q.id, "modality": q.modality,
                "difficulty": q.difficulty, "category": q.category, "answer_success": res.success,
                "response": res.text, "input_tokens": res.input_tokens, "output_tokens": res.output_tokens,
                "latency_sec": res.latency_sec, "stop_reason": res.stop_reason, "truncated": res.truncated,
                "prompt_sha256": res.prompt_sha256, "answer_error": res.error, "cached": res.cached,
                "source": "live", "question_bank_hash": bank.content_hash,
            })
            context.log.info(f"{label} {q.id} ({i}/{len(bank.questions)}): {'ok' if res.success else 'FAILED ' + res.error_type}"
                             f"{' (cached)' if res.cached else ''}{' TRUNCATED' if res.truncated else ''}")
            log_progress(context, i, len(bank.questions), t0, f"{label}: answers", every=10)
        df = pd.DataFrame(rows)
        _raise_failure(tally.check)
    return df, {
        "mode": mode,
        "n_questions": len(df),
        "n_failed": int((~df["answer_success"]).sum()),
        "n_truncated": int(df["truncated"].sum()),
        "n_cached": int(df["cached"].sum()),
        "total_output_tokens": int(pd.to_numeric(df["output_tokens"]).fillna(0).sum()),
        "question_bank_hash": bank.content_hash,
        **llm_provenance(bank.content_hash, stored_run_files(spaceomicsbench, label, mode)),
    }


@dg.asset(code_version=code_version_of(__file__, "llm_judge_scores"), group_name=GROUP, partitions_def=llm_model_partitions, backfill_policy=dg.BackfillPolicy.single_run(),
          description="Judge scores per answer: five 1-5 integers (clamped, validated), flags, and the weighted "
          "score recomputed from the integers with the schema's weights. Failed judgements are kept and counted.")
def llm_judge_scores(context: dg.AssetExecutionContext, llm_question_bank: dict, llm_answers, spaceomicsbench: SpaceOmicsBenchResource, anthropic: AnthropicResource) -> dg.Output:
    return _judged_per_model(context, llm_question_bank, llm_answers, spaceomicsbench, anthropic,
                             lambda label, bank, answers, mode: _judge_scores_of_model(
                                 context, label, bank, answers, mode, spaceomicsbench, anthropic))


def _judged_per_model(context, llm_question_bank, llm_answers, spaceomicsbench, anthropic, judge_model) -> dg.Output:
    """Both judges' assets: the bank through the read gate, then `judge_model(label, bank, answers, mode)`
    for every model partition of the run, one table and metadata per partition."""
    bank = _bank(llm_question_bank, context)
    mode = spaceomicsbench.resolve_mode(bool(anthropic.resolved_api_key()))
    keys = list(context.partition_keys)
    answers = llm_answers if isinstance(llm_answers, dict) else {keys[0]: llm_answers}
    tables, metadata = {}, {}
    for label in keys:
        tables[label], metadata[label] = judge_model(label, bank, answers.get(label), mode)
    return _per_partition(context, tables, metadata)


def _judge_scores_of_model(context, label: str, bank: QuestionBank, llm_answers: pd.DataFrame, mode: str,
                           spaceomicsbench: SpaceOmicsBenchResource, anthropic: AnthropicResource) -> tuple[pd.DataFrame, dict]:
    weights = dict(bank.schema.weights)
    mismatches: list[str] = []
    if mode == "replay":
        result = replay.replay_run(_stored_run_path(spaceomicsbench, label), weights, question_bank_hash=bank.content_hash)
        df, mismatches = result.scores, result.mismatches
        _check_stored(anthropic, f"llm_judge_scores ({label}, replay)", df, "judge_success", "judge_error")
    else:
        judge = AnthropicJudge(anthropic.client(), anthropic.judge_model, max_tokens=anthropic.judge_max_tokens,
                               temperature=anthropic.judge_temperature, parse_attempts=anthropic.judge_parse_attempts,
                               cache=anthropic_calls.ResponseCache(spaceomicsbench.cache_root() / "judge"))
        df = _judge_live(context, label, bank, llm_answers, judge, anthropic, "llm_judge_scores")
    scored = df[df["judge_success"]]
    summary = replay.published_summary(df, list(weights))
    return df, {
        "mode": mode,
        "n_questions": len(df),
        "n_scored": len(scored),
        "n_failed": int(len(df) - len(scored)),
        "mean_weighted_score": float(scored["weighted_score"].mean()) if len(scored) else float("nan"),
        "summary": dg.MetadataValue.json(summary),
        "replay_mismatches": dg.MetadataValue.json(mismatches),
        "question_bank_hash": bank.content_hash,
        **llm_provenance(bank.content_hash, stored_run_files(spaceomicsbench, label, mode),
                         answers_version=content_version(llm_answers) if llm_answers is not None else None,
                         model=label),
    }


def _judge_live(context, label: str, bank: QuestionBank, llm_answers: pd.DataFrame, judge: Judge,
                anthropic: AnthropicResource, asset: str) -> pd.DataFrame:
    """Every answer of one model judged by `judge` (any transport, science/llm/judges.py): the rows of a
    judge-scores table. Failures are tallied by the one policy (GENEBENCH_LLM_MAX_FAILURE_SHARE); only
    the judge's own failures count (answers that failed were llm_answers' to refuse)."""
    weights = dict(bank.schema.weights)
    by_id = bank.by_id()
    tally = anthropic.failure_tally(f"{asset} ({label}, judge {judge.model})", int(llm_answers["answer_success"].sum()))
    rows = []
    t0 = time.perf_counter()
    for i, a in enumerate(llm_answers.itertuples(index=False), start=1):
        call = None
        if not a.answer_success:
            j = failed_judgement("no answer to judge")
        else:
            prompt = prompts.build_judge_prompt(by_id[a.question_id], a.response, bank.ground_truth, bank.schema)
            call, j = judge.judge(prompt, weights)
            _tally_call(tally, call, j)
        rows.append({
            "model": a.model, "model_name": a.model_name, "question_id": a.question_id, "modality": a.modality,
            "difficulty": a.difficulty, "category": a.category, "answer_success": a.answer_success,
            "output_tokens": a.output_tokens, "truncated": a.truncated, **judgement_record(j, weights),
            "stored_weighted_score": None, "judge_model": judge.model,
            "judge_input_tokens": call.input_tokens if call else None,
            "judge_output_tokens": call.output_tokens if call else None,
            "source": "live", "question_bank_hash": bank.content_hash,
        })
        if not j.success:
            context.log.warning(f"{label} {a.question_id}: judgement failed: {j.error}")
        log_progress(context, i, len(llm_answers), t0, f"{label}: judgements ({judge.model})", every=10)
    df = pd.DataFrame(rows)
    _raise_failure(tally.check)
    return df


def _bar_chart_markdown(table: pd.DataFrame) -> str:
    """Horizontal bars of the mean weighted score with bootstrap CIs, as a small inline PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = table.iloc[::-1]
    fig, ax = plt.subplots(figsize=(6, 0.28 * len(t) + 0.9), dpi=72)
    mean = t["mean_weighted_score"].to_numpy(float)
    err = [mean - t["ci_low"].to_numpy(float), t["ci_high"].to_numpy(float) - mean]
    ax.barh(t["model"].tolist(), mean, xerr=err, color="#4c72b0", ecolor="#333333", capsize=2)
    ax.set_xlim(1, 5)
    ax.set_xlabel("mean weighted score (1-5), 95% bootstrap CI")
    ax.tick_params(labelsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return f"![leaderboard](data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()})"


def _json_safe(records: list[dict]) -> list[dict]:
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in records]


def _scores_by_model(llm_judge_scores, partitions: list[str]) -> dict[str, pd.DataFrame]:
    # IO managers hand a partitioned input to an unpartitioned asset as {partition: value}, but as the
    # bare value when there is a single partition (UPathIOManager does): accept both. Partitions never
    # materialized are skipped (allow_missing_partitions) and come back as absent / None.
    if isinstance(llm_judge_scores, pd.DataFrame):
        key = partitions[0] if len(partitions) == 1 else (
            str(llm_judge_scores["model"].iloc[0]) if len(llm_judge_scores) else "")
        return {key: llm_judge_scores}
    return {k: v for k, v in dict(llm_judge_scores or {}).items() if v is not None}


# The checks of llm_judge_scores (defs/llm/checks.py). They are blocking only for the order of steps:
# in a run they finish before llm_leaderboard starts, and they fail with WARN severity, so a failed
# check does not stop the leaderboard; the leaderboard is then built but marked invalid (issue 19).
JUDGE_SCORE_CHECKS = ("llm_judge_failures_counted", "llm_weighted_scores_recomputed")
QUESTION_BANK_CHECK = "llm_question_bank_valid"


def leaderboard_invalid_because(instance: dg.DagsterInstance, models: list[str]) -> list[str]:
    """Why a leaderboard of `models` is not valid (empty when it is): per model, each check of
    llm_judge_scores that failed, or was not evaluated, on the partition's latest materialization
    (the one the leaderboard reads); and the question bank's check on the latest bank."""
    reasons = []
    keys = [dg.AssetCheckKey(llm_judge_scores.key, name) for name in JUDGE_SCORE_CHECKS]
    infos = {(i.check_key.name, i.partition_key): i
             for i in instance.event_log_storage.get_asset_check_partition_info(keys, partition_keys=models)}
    bank = instance.event_log_storage.get_asset_check_partition_info(
        [dg.AssetCheckKey(llm_question_bank.key, QUESTION_BANK_CHECK)])
    for name, model, info in [*((n, m, infos.get((n, m))) for m in models for n in JUDGE_SCORE_CHECKS),
                              (QUESTION_BANK_CHECK, None, bank[0] if bank else None)]:
        what = f"{name} ({model})" if model else name
        if info is None or info.latest_target_materialization_storage_id is None or not info.is_current:
            reasons.append(f"{what}: not evaluated on the version read")
        elif info.latest_execution_status.value != "SUCCEEDED":
            reasons.append(f"{what}: {info.latest_execution_status.value.lower()} on the version read")
    return reasons


def _materialize_hint(missing: list[str]) -> str:
    return " ".join(f"`dagster asset materialize -m genebench_assets.definitions --select llm_answers,llm_judge_scores "
                    f"--partition {m}`" for m in missing[:3]) + (f" (and {len(missing) - 3} more)" if len(missing) > 3 else "")


@dg.asset(code_version=code_version_of(__file__, "llm_leaderboard"), group_name=GROUP, description="Per model: mean weighted score with bootstrap CI, by difficulty, modality "
          "and dimension, flags and failures; the length-bias Spearman (output tokens vs score). Bar chart in metadata. "
          "Built from the model partitions materialized; the missing ones are listed (models_missing). Marked "
          "invalid (metadata valid, invalid_because) when a check of the scores or bank it reads failed or was not "
          "evaluated on them; `genebench llm replay --out` then writes no leaderboard.json.",
          ins={"llm_judge_scores": dg.AssetIn(metadata={"allow_missing_partitions": True})})
def llm_leaderboard(context: dg.AssetExecutionContext, llm_question_bank: dict, llm_judge_scores) -> dg.Output[dict]:
    bank = _bank(llm_question_bank, context)
    partitions = sorted(context.instance.get_dynamic_partitions(llm_model_partitions.name))
    by_model = _scores_by_model(llm_judge_scores, partitions)
    # Built from the model partitions present; the missing ones are listed, never a raw FileNotFoundError.
    missing = [m for m in partitions if m not in by_model]
    if not by_model:
        raise dg.Failure(description=f"llm_leaderboard: no llm_judge_scores partition is materialized "
                         f"(models: {', '.join(partitions) or 'none registered; materialize llm_question_bank first'}); "
                         f"materialize one, e.g. {_materialize_hint(partitions) if partitions else 'llm_question_bank'}",
                         allow_retries=False)
    if missing:
        context.log.warning(f"llm_leaderboard built from {len(by_model)} of {len(partitions)} models; "
                            f"missing: {', '.join(missing)}")
    scores = pd.concat([by_model[k] for k in sorted(by_model)], ignore_index=True)
    stale = sorted(set(scores["question_bank_hash"]) - {bank.content_hash})
    if stale:
        raise dg.Failure(description=f"judge scores were made from another question bank version ({stale}); rematerialize them")
    table, bias = leaderboard.build_leaderboard(scores, list(bank.schema.weights))
    main_cols = ["rank", "model", "mean_weighted_score", "ci_low", "ci_high", "n_scored", "n_failed", "n_truncated", "mean_output_tokens"]
    dims = [f"dim_{d}" for d in bank.schema.weights]
    diffs = [c for c in table.columns if c.startswith("difficulty_")]
    mods = [c for c in table.columns if c.startswith("modality_")]
    flags = [c for c in table.columns if c.startswith("flag_")]
    pooled, across = bias["pooled"], bias["across_models"]
    bias_md = (f"Length bias (Spearman, output tokens vs weighted score): pooled rho = {pooled['rho']:.3f} "
               f"(p = {pooled['p']:.2g}, n = {pooled['n']}); across models rho = {across['rho']:.3f} "
               f"(p = {across['p']:.2g}, n = {across['n']}).")
    invalid_because = leaderboard_invalid_because(context.instance, sorted(by_model))
    if invalid_because:
        context.log.warning("llm_leaderboard is NOT valid: " + "; ".join(invalid_because))
    value = {
        "valid": not invalid_because,
        "invalid_because": invalid_because,
        "question_bank_hash": bank.content_hash,
        "judge_models": sorted(set(scores["judge_model"].dropna())),
        "models_missing": missing,
        "models": _json_safe(table.to_dict("records")),
        "length_bias": bias,
        # the stored files' summary format (3-decimal means, flag counts), recomputed per model
        "published_summaries": {m: replay.published_summary(df, list(bank.schema.weights)) for m, df in scores.groupby("model", sort=True)},
    }
    return dg.Output(value, data_version=dg.DataVersion(content_version(value)), metadata={
        **llm_provenance(bank.content_hash, [], judge_scores={m: content_version(by_model[m]) for m in sorted(by_model)}),
        "valid": not invalid_because,
        "invalid_because": dg.MetadataValue.md("\n".join(f"- {r}" for r in invalid_because) or "none: every check passed"),
        "n_models": len(table),
        "models_missing": dg.MetadataValue.json(missing),
        "n_models_missing": len(missing),
        "chart": dg.MetadataValue.md(_bar_chart_markdown(table)),
        "leaderboard": dg.MetadataValue.md(leaderboard.markdown_table(table, main_cols)),
        "by_dimension": dg.MetadataValue.md(leaderboard.markdown_table(table, ["model", *dims])),
        "by_difficulty": dg.MetadataValue.md(leaderboard.markdown_table(table, ["model", *diffs])),
        "by_modality": dg.MetadataValue.md(leaderboard.markdown_table(table, ["model", *mods], digits=2)),
        "flags": dg.MetadataValue.md(leaderboard.markdown_table(table, ["model", *flags, "n_failed"])),
        "length_bias": dg.MetadataValue.md(bias_md),
        "length_bias_pooled_rho": pooled["rho"],
        "question_bank_hash": bank.content_hash,
    })


# --- the second judge and the inter-judge agreement (issue 21) ------------------------------------


def _no_scores(weights) -> pd.DataFrame:
    """The empty judge-scores table of a model nobody second-judged."""
    cols = {"model": str, "question_id": str, "judge_success": bool, **{d: float for d in weights},
            "weighted_score": float, "judge_model": str, "source": str, "question_bank_hash": str}
    return pd.DataFrame({c: pd.Series(dtype=t if t is not str else object) for c, t in cols.items()})


@dg.asset(code_version=code_version_of(__file__, "llm_judge2_scores"), group_name=GROUP, partitions_def=llm_model_partitions,
          backfill_policy=dg.BackfillPolicy.single_run(),
          description="The same answers scored by a second judge from another vendor: an OpenAI-compatible "
          "/chat/completions endpoint (GENEBENCH_LLM_JUDGE2_BASE_URL / _API_KEY / _MODEL), same prompt, parse and score "
          "as llm_judge_scores (live mode). In replay, a stored run's second-judge scores if it has them; otherwise "
          "an empty table and status 'unavailable: no second judge configured' (not a failure).")
def llm_judge2_scores(context: dg.AssetExecutionContext, llm_question_bank: dict, llm_answers, spaceomicsbench: SpaceOmicsBenchResource,
                      anthropic: AnthropicResource, judge2: SecondJudgeResource) -> dg.Output:
    return _judged_per_model(context, llm_question_bank, llm_answers, spaceomicsbench, anthropic,
                             lambda label, bank, answers, mode: _judge2_scores_of_model(
                                 context, label, bank, answers, mode, spaceomicsbench, anthropic, judge2))


def _judge2_scores_of_model(context, label: str, bank: QuestionBank, llm_answers: pd.DataFrame, mode: str,
                            spaceomicsbench: SpaceOmicsBenchResource, anthropic: AnthropicResource,
                            judge2: SecondJudgeResource) -> tuple[pd.DataFrame, dict]:
    weights = dict(bank.schema.weights)
    df = None
    if mode == "replay":
        df = replay.second_judge_scores_table(replay.load_stored_run(_stored_run_path(spaceomicsbench, label)), weights,
                                              question_bank_hash=bank.content_hash)
        if df is not None:
            _check_stored(anthropic, f"llm_judge2_scores ({label}, replay)", df, "judge_success", "judge_error")
    elif judge2.configured():
        judge = judge2.judge(cache=anthropic_calls.ResponseCache(spaceomicsbench.cache_root() / "judge2"))
        df = _judge_live(context, label, bank, llm_answers, judge, anthropic, "llm_judge2_scores")
    if df is None:
        context.log.info(f"llm_judge2_scores ({label}): {NO_SECOND_JUDGE}")
        return _no_scores(weights), {"mode": mode, "status": NO_SECOND_JUDGE, "n_questions": 0, "n_scored": 0,
                                     "question_bank_hash": bank.content_hash}
    scored = df[df["judge_success"].astype(bool)]
    return df, {
        "mode": mode,
        "status": "available",
        "judge_model": ", ".join(sorted(set(df["judge_model"].dropna()))),
        "n_questions": len(df),
        "n_scored": len(scored),
        "n_failed": int(len(df) - len(scored)),
        "mean_weighted_score": float(scored["weighted_score"].mean()) if len(scored) else float("nan"),
        "summary": dg.MetadataValue.json(replay.published_summary(df, list(weights))),
        "question_bank_hash": bank.content_hash,
        **llm_provenance(bank.content_hash, stored_run_files(spaceomicsbench, label, mode),
                         answers_version=content_version(llm_answers) if llm_answers is not None else None,
                         model=label),
    }


@dg.asset(code_version=code_version_of(__file__, "llm_judge_agreement"), group_name=GROUP,
          description="Agreement of the two judges on the same answers: Spearman rho and mean difference (judge 2 - "
          "judge 1) per dimension over the answers both scored, each judge's model ranking and the rank reversals "
          "between them. Says 'unavailable: no second judge configured' (not a failure) when llm_judge2_scores is empty.",
          ins={"llm_judge_scores": dg.AssetIn(metadata={"allow_missing_partitions": True}),
               "llm_judge2_scores": dg.AssetIn(metadata={"allow_missing_partitions": True})})
def llm_judge_agreement(context: dg.AssetExecutionContext, llm_question_bank: dict, llm_judge_scores, llm_judge2_scores) -> dg.Output[dict]:
    bank = _bank(llm_question_bank, context)
    partitions = sorted(context.instance.get_dynamic_partitions(llm_model_partitions.name))
    first = _scores_by_model(llm_judge_scores, partitions)
    second = {k: v for k, v in _scores_by_model(llm_judge2_scores, partitions).items() if len(v)}
    models = sorted(set(first) & set(second))
    base = {"question_bank_hash": bank.content_hash, "models_compared": models,
            "models_without_second_judge": sorted(set(first) - set(second))}
    if not models:
        status = NO_SECOND_JUDGE if not second else "unavailable: no model has both judges' scores"
        context.log.info(f"llm_judge_agreement: {status}")
        value = base | {"available": False, "status": status}
        return dg.Output(value, data_version=dg.DataVersion(content_version(value)),
                         metadata={"status": status, "available": False, "question_bank_hash": bank.content_hash})
    s1 = pd.concat([first[m] for m in models], ignore_index=True)
    s2 = pd.concat([second[m] for m in models], ignore_index=True)
    stale = sorted((set(s1["question_bank_hash"]) | set(s2["question_bank_hash"])) - {bank.content_hash})
    if stale:
        raise dg.Failure(description=f"llm_judge_agreement: judge scores were made from another question bank version "
                         f"({stale}); rematerialize them", allow_retries=False)
    result = agreement.judge_agreement(s1, s2, list(bank.schema.weights))
    dims, ranks = result["dimensions"], result["models"]
    value = base | {
        "available": True, "status": "available",
        "judge1_models": sorted(set(s1["judge_model"].dropna())), "judge2_models": sorted(set(s2["judge_model"].dropna())),
        "dimensions": _json_safe(dims.to_dict("records")), "models": _json_safe(ranks.to_dict("records")),
        "reversals": result["reversals"], "n_reversals": result["n_reversals"], "n_model_pairs": result["n_model_pairs"],
        "n_paired_answers": result["n_paired_answers"],
    }
    weighted = dims.set_index("dimension").loc["weighted_score"]
    reversals = pd.DataFrame(result["reversals"], columns=["judge1_above", "judge2_above", "judge1_difference", "judge2_difference"])
    return dg.Output(value, data_version=dg.DataVersion(content_version(value)), metadata={
        "status": "available",
        "available": True,
        "judge1_models": dg.MetadataValue.json(value["judge1_models"]),
        "judge2_models": dg.MetadataValue.json(value["judge2_models"]),
        "n_models": len(models),
        "n_paired_answers": result["n_paired_answers"],
        "spearman_weighted_score": float(weighted["spearman_rho"]),
        "mean_difference_weighted_score": float(weighted["mean_difference"]),
        "n_reversals": result["n_reversals"],
        "n_model_pairs": result["n_model_pairs"],
        "by_dimension": dg.MetadataValue.md(leaderboard.markdown_table(dims, list(dims.columns))),
        "rankings": dg.MetadataValue.md(leaderboard.markdown_table(ranks, list(ranks.columns))),
        "reversals": dg.MetadataValue.md(leaderboard.markdown_table(reversals, list(reversals.columns)) if len(reversals)
                                         else "none: both judges order every pair of models alike"),
        "models_without_second_judge": dg.MetadataValue.json(base["models_without_second_judge"]),
        "question_bank_hash": bank.content_hash,
    })
