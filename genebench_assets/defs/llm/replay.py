"""`genebench llm replay`: every stored SpaceOmicsBench run -> answers -> judge scores -> leaderboard,
in ONE Dagster run of `llm_replay_job` (the per-model assets have a single-run backfill policy and
return {model: table}; every model still gets its own partition materialization and check results).

The stored models are registered as `llm_answering_model` partitions first (what `llm_question_bank`
does inside the run, too), because a run's partition range must exist when it is launched."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from genebench_assets.defs.runtime.partition_range_io import contiguous_runs
from genebench_assets.defs.llm.assets import llm_model_partitions
from genebench_assets.defs.llm.resources import SpaceOmicsBenchResource
from genebench_assets.science.llm import leaderboard, replay
from genebench_assets.science.storage.atomic_files import write_json

JOB = "llm_replay_job"
# The terminal gets the leaderboard; the run's full event log is in the instance (and the UI).
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class ReplayOutcome:
    success: bool
    models: list[str]
    leaderboard: dict | None  # llm_leaderboard's value
    run_ids: list[str]
    errors: list[str]


def replay_definitions() -> dg.Definitions:
    """The LLM track alone (what `llm_replay_job` needs): loads in a third of the time of the whole
    code location, which matters for a one-shot command. The UI uses the full definitions."""
    from genebench_assets.defs import llm
    from genebench_assets.defs.runtime.jobs import llm_replay_job
    from genebench_assets.defs.runtime.partition_range_io import PartitionRangeFilesystemIOManager

    return dg.Definitions.merge(llm.defs, dg.Definitions(
        jobs=[llm_replay_job], resources={"io_manager": PartitionRangeFilesystemIOManager()}))


def replay_all(instance: dg.DagsterInstance, defs: dg.Definitions) -> ReplayOutcome:
    """Register the stored models, then materialize bank + answers + scores + leaderboard in one run."""
    models = list(replay.discover_stored_runs(SpaceOmicsBenchResource().results_dir()))
    if not models:
        return ReplayOutcome(False, [], None, [], [f"no stored results (*.json) in {SpaceOmicsBenchResource().results_dir()}"])
    known = set(instance.get_dynamic_partitions(llm_model_partitions.name))
    new = [m for m in models if m not in known]
    if new:
        instance.add_dynamic_partitions(llm_model_partitions.name, new)
    ranges = contiguous_runs(instance.get_dynamic_partitions(llm_model_partitions.name), set(models))
    job = defs.resolve_job_def(JOB)
    run_ids, errors, board = [], [], None
    # Normally one range. Should other (e.g. live) models sit between stored ones in the instance's
    # partition order, each contiguous range is one run and the last run rebuilds the leaderboard.
    for i, (start, end) in enumerate(ranges):
        selection = None if i == len(ranges) - 1 else [dg.AssetKey(a) for a in ("llm_question_bank", "llm_answers", "llm_judge_scores")]
        result = job.execute_in_process(
            instance=instance, raise_on_error=False, asset_selection=selection, run_config=QUIET,
            tags={"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end})
        run_ids.append(result.run_id)
        for ev in result.all_events:
            if ev.is_failure:
                errors.append(ev.message or ev.event_type_value)
        evaluations = result.get_asset_check_evaluations()
        per_model = {e.check_name for e in evaluations if e.partition}  # then skip the run-level summary
        errors += [f"check {e.check_name} failed for {e.partition or 'the run'}: {e.description}"
                   for e in evaluations if not e.passed and (e.partition or e.check_name not in per_model)]
        if result.success and selection is None:
            board = result.output_for_node("llm_leaderboard")
    if board is not None and not board.get("valid", False):
        errors += [f"llm_leaderboard is not valid: {r}" for r in board.get("invalid_because") or ["not marked valid"]]
    return ReplayOutcome(not errors and board is not None, models, board, run_ids, errors)


def leaderboard_entries(board: dict) -> list[dict]:
    """One entry per model: rank, mean weighted score (and its 95% bootstrap CI), the stored file's
    3-decimal average as recomputed, counts."""
    out = []
    for row in board["models"]:
        published = board["published_summaries"].get(row["model"], {})
        out.append({
            "rank": row["rank"], "model": row["model"],
            "mean_weighted_score": row["mean_weighted_score"],
            "ci_low": row["ci_low"], "ci_high": row["ci_high"],
            "avg_weighted_score_published_rounding": published.get("avg_weighted_score"),
            "n_scored": row["n_scored"], "n_failed": row["n_failed"],
        })
    return out


def write_leaderboard_json(board: dict, out_dir: Path) -> Path:
    if not board.get("valid", False):  # a leaderboard whose checks failed is never presented as one
        raise ValueError("llm_leaderboard is not valid, not written: " + "; ".join(board.get("invalid_because") or []))
    doc = {"question_bank_hash": board["question_bank_hash"], "judge_models": board["judge_models"],
           "models": leaderboard_entries(board)}
    return write_json(doc, Path(out_dir) / "leaderboard.json", sort_keys=False)


def leaderboard_text(board: dict) -> str:
    import pandas as pd

    table = pd.DataFrame(leaderboard_entries(board))
    return leaderboard.markdown_table(table, ["rank", "model", "mean_weighted_score", "ci_low", "ci_high", "n_scored", "n_failed"])
