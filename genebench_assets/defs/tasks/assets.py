"""Category A folds: leave one mission out per tissue (SPEC §5), fitted steps on training samples only."""


import dagster as dg

from genebench_assets.defs.code_versions import code_version_of
from genebench_assets.defs.expression.assets import normalized_expression
from genebench_assets.defs.partitions import by_tissue, study_rollup_condition, tissue_partitions
from genebench_assets.defs.provenance import frame_markdown, provenance_metadata
from genebench_assets.defs.settings import GenebenchSettings
from genebench_assets.defs.sources.assets import raw_counts, sample_metadata
from genebench_assets.defs.tissue_inputs import load_tissue


@dg.asset(
    code_version=code_version_of(__file__, "lomo_folds"),
    group_name="tasks",
    partitions_def=tissue_partitions,
    deps=[
        dg.AssetDep(normalized_expression, partition_mapping=by_tissue),
        dg.AssetDep(sample_metadata, partition_mapping=by_tissue),
        dg.AssetDep(raw_counts, partition_mapping=by_tissue),  # its raw_files table: provenance
    ],
    automation_condition=study_rollup_condition(),
    description="One LOMO fold per (tissue, held-out mission), missions sorted; folds whose test mission "
    "has < 4 binary samples or lacks a class are skipped with the reason. Low-expression filter (strict: "
    "training samples only), variance filter and z-scoring are fitted on the training missions; each "
    "fold records which sample ids every fitted step saw or will see downstream (the model fit = scaler + "
    "PCA + classifier, the strict GSVA reference of the pathway features), which the blocking leakage "
    "checks verify against the raw files.",
)
def lomo_folds(context: dg.AssetExecutionContext, settings: GenebenchSettings) -> dg.MaterializeResult:
    from genebench_assets.science.tasks.folds import build_lomo_folds

    tissue = context.partition_key
    catalog = settings.catalog()
    store = settings.table_store()
    # The tissue's entry point: verifies every study's blocking checks, promotes the ones that pass and
    # fails naming any blocked study (defs/study_promotion.py).
    data = load_tissue(store, catalog, tissue, instance=context.instance)
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
    data.record_versions(store)  # later tissue assets check they read these same study versions
    store.write_json(data.raw_files, "raw_files", tissue, "_tissue")
    summary = _fold_table(payload)
    context.log.info(f"{tissue}: {len(folds)} folds ({settings.protocol} protocol)")
    return dg.MaterializeResult(
        data_version=dg.DataVersion(sha[:16]),
        metadata={
            "task_id": catalog.task_ids[tissue],
            "protocol": settings.protocol,
            "table": str(store.path("lomo_folds", tissue, ext="json")),
            "study_versions": dg.MetadataValue.json(data.study_versions),
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
