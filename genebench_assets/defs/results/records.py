"""Writing results records from Dagster assets (the record format: science/results/record.py,
docs/results.md)."""

from __future__ import annotations

import pandas as pd

from genebench_assets.defs.runtime.settings import GenebenchSettings


def write_evaluation_records(settings: GenebenchSettings, store, tissue: str, task_id: str, per_fold: pd.DataFrame,
                             tasks: pd.DataFrame, preds: pd.DataFrame, lomo_labels: pd.Series,
                             folds_data_version: str, code_version: str) -> str:
    """One record per (feature set, model) of a tissue's evaluation; returns the records' folder."""
    from genebench_assets.science.results.from_evaluation import records_from_evaluation
    from genebench_assets.science.results.record import write_record
    from genebench_assets.science.storage.table_store import TableNotFoundError

    try:  # per-fit CPU seconds and peak RSS, written by model_predictions
        fit_times = store.read_json("model_fit_times", tissue)
    except (TableNotFoundError, ValueError):
        fit_times = None
    records = records_from_evaluation(
        task_id=task_id, protocol=settings.protocol, per_fold=per_fold, tasks=tasks, preds=preds,
        lomo_labels=lomo_labels, folds_data_version=folds_data_version, code_version=code_version,
        fit_times=fit_times, source=f"model_predictions [{tissue}] ({settings.protocol})")
    paths = [write_record(settings.data_dir, r) for r in records]
    return str(paths[0].parent) if paths else "none"
