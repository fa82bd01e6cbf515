"""Category A folds: leave one mission out per tissue (SPEC §5), fitted steps on training samples only."""


import dagster as dg

from genebench_assets.defs.expression.assets import normalized_expression
from genebench_assets.defs.partitions import by_tissue, study_rollup_condition, tissue_partitions
from genebench_assets.defs.provenance import frame_markdown, provenance_metadata
from genebench_assets.defs.settings import GenebenchSettings
from genebench_assets.defs.sources.assets import sample_metadata
from genebench_assets.defs.tissue_inputs import load_tissue
from genebench_assets.science.storage.table_store import TableStore


@dg.asset(
    group_name="tasks",
    partitions_def=tissue_partitions,
    deps=[
        dg.AssetDep(normalized_expression, partition_mapping=by_tissue),
        dg.AssetDep(sample_metadata, partition_mapping=by_tissue),
    ],
    automation_condition=study_rollup_condition(),
    description="One LOMO fold per (tissue, held-out mission), missions sorted; folds whose test mission "
    "has < 4 binary samples or lacks a class are skipped with the reason. Low-expression filter (strict: "
    "training samples only), variance filter and z-scoring are fitted on the training missions; each "
    "fold records which sample ids every fitted step saw.",
)
def lomo_folds(context: dg.AssetExecutionContext, settings: GenebenchSettings) -> dg.MaterializeResult:
    from genebench_assets.science.tasks.folds import build_lomo_folds

    tissue = context.partition_key
    catalog = settings.catalog()
    store = TableStore(settings.data_dir)
    data = load_tissue(store, catalog, tissue)
    folds = build_lomo_folds(
        data.expression,
        data.metadata,
        tissue=tissue,
        task_id=catalog.task_ids[tissue],
        missions=data.missions,
        holdout_missions=data.holdout_missions,
        protocol=settings.protocol,
    )
    payload = [f.to_dict() for f in folds]
    _, sha = store.write_json(payload, "lomo_folds", tissue)
    store.write_json(data.raw_files, "raw_files", tissue, "_tissue")
    summary = _fold_table(payload)
    context.log.info(f"{tissue}: {len(folds)} folds ({settings.protocol} protocol)")
    return dg.MaterializeResult(
        data_version=dg.DataVersion(sha[:16]),
        metadata={
            "task_id": catalog.task_ids[tissue],
            "protocol": settings.protocol,
            "n_folds": len(folds),
            "skipped_folds": dg.MetadataValue.json([sk.to_dict() for sk in getattr(folds, "skipped", [])]),
            "folds": dg.MetadataValue.md(frame_markdown(summary)),
            "sha256": sha,
            **provenance_metadata(upstream=data.upstream, raw_files=data.raw_files, protocol=settings.protocol),
        },
    )


def _fold_table(payload):
    import pandas as pd

    rows = []
    for f in payload:
        rows.append({
            "fold": f["fold_id"],
            "train_missions": ", ".join(f["train_missions"]),
            "n_train": len(f["train_ids"]),
            "n_test": len(f["test_ids"]),
            "n_genes": len(f.get("genes", [])),
        })
    return pd.DataFrame(rows).set_index("fold") if rows else pd.DataFrame()
