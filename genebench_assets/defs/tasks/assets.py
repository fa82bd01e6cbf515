"""Category A folds: leave one mission out per tissue (SPEC §5), fitted steps on training samples only."""


import dagster as dg

from genebench_assets.defs.lineage.code_versions import code_version_of
from genebench_assets.defs.expression.assets import normalized_expression
from genebench_assets.defs.models.resources import FEATURE_SETS, ModelSettings
from genebench_assets.defs.runtime.partitions import by_tissue, study_rollup_condition, tissue_partitions
from genebench_assets.defs.pathways.assets import gene_sets, pathway_scores
from genebench_assets.defs.pathways.resources import GeneSetSettings
from genebench_assets.defs.lineage.provenance import feature_inputs, frame_markdown, provenance_metadata
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.defs.sources.assets import raw_counts, sample_metadata
from genebench_assets.defs.sources.resources import OsdrSource
from genebench_assets.defs.gating.tissue_inputs import load_tissue, lomo_folds_data_version


@dg.asset(
    code_version=code_version_of(__file__, "lomo_folds"),
    group_name="tasks",
    partitions_def=tissue_partitions,
    deps=[
        dg.AssetDep(normalized_expression, partition_mapping=by_tissue),
        dg.AssetDep(sample_metadata, partition_mapping=by_tissue),
        dg.AssetDep(raw_counts, partition_mapping=by_tissue),  # its raw_files table: provenance
        # The pathway fold features built here: the gene-set files (strict: GSVA inside each fold) and,
        # under seed, each study's stored GSVA scores.
        gene_sets,
        dg.AssetDep(pathway_scores, partition_mapping=by_tissue),
    ],
    automation_condition=study_rollup_condition(),
    description="One LOMO fold per (tissue, held-out mission), missions sorted; folds whose test mission "
    "has < 4 binary samples or lacks a class are skipped with the reason. Low-expression filter (strict: "
    "training samples only), variance filter and z-scoring are fitted on the training missions; each "
    "fold records which sample ids every fitted step saw or will see downstream (the model fit = scaler + "
    "PCA + classifier, the strict GSVA reference of the pathway features), which the blocking leakage "
    "checks verify against the raw files. With the `pathways` feature set it also builds each fold's "
    "pathway features here (strict: GSVA with kernels on the fold's training samples; seed: the stored "
    "per-study GSVA, as published) and writes them beside the folds (`lomo_fold_features`), so the "
    "blocking checks verify exactly the matrices model_predictions reads.",
)
def lomo_folds(context: dg.AssetExecutionContext, settings: GenebenchSettings, model_settings: ModelSettings,
               gene_set_settings: GeneSetSettings, osdr_source: OsdrSource) -> dg.MaterializeResult:
    # Imported by name (at call time): the code version follows these helpers into the GSVA science.
    from genebench_assets.defs.pathways.fold_features import (
        FOLD_FEATURES, build_pathway_fold_features, pathway_fold_inputs, write_fold_features)
    from genebench_assets.science.tasks.folds import build_lomo_folds

    unknown = sorted(set(model_settings.feature_sets) - set(FEATURE_SETS))
    if unknown:
        raise dg.Failure(f"model_settings.feature_sets: unknown {unknown} (known: {', '.join(FEATURE_SETS)})")

    tissue = context.partition_key
    catalog = settings.catalog()
    store = settings.table_store()
    # The tissue's entry point: verifies every study's blocking checks, promotes the ones that pass and
    # fails naming any blocked study (defs/gating/study_promotion.py).
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
    # Fold features of the feature sets that need a fitted step beyond the folds' own (pathways), built
    # here so the blocking checks on this asset see exactly what the models will read.
    upstream, inputs, pathways, collection = list(data.upstream), {}, None, None
    if "pathways" in model_settings.feature_sets:
        pw_inputs = pathway_fold_inputs(data, settings, gene_set_settings, osdr_source, protocol=settings.protocol)
        collection = pw_inputs.collection
        pathways = build_pathway_fold_features(folds, data, pw_inputs, protocol=settings.protocol)
        upstream, inputs = feature_inputs(
            store, data.upstream, tissue=tissue, missions=data.missions + data.holdout_missions,
            feature_sets=["pathways"], protocol=settings.protocol)
    write_fold_features(
        store, tissue, feature_sets=list(model_settings.feature_sets), folds_sha256=sha, pathways=pathways,
        collection=collection, feature_inputs=inputs, upstream=upstream)
    # One data version for folds and fold features: a change in either is a new version of lomo_folds.
    version = lomo_folds_data_version(store, tissue)
    summary = _fold_table(payload)
    context.log.info(f"{tissue}: {len(folds)} folds ({settings.protocol} protocol), fold features: "
                     f"{', '.join(model_settings.feature_sets)}")
    return dg.MaterializeResult(
        data_version=dg.DataVersion(version),
        metadata={
            "feature_sets": dg.MetadataValue.json(list(model_settings.feature_sets)),
            "pathway_fold_features": dg.MetadataValue.json(
                {"collection": collection, "n_pathways": {k: int(v.shape[0]) for k, v in pathways.items()},
                 "table": str(store.path(FOLD_FEATURES, tissue, ext="json")),
                 "computed": "GSVA in each fold, kernels on its training samples" if settings.protocol == "strict"
                 else "stored per-study GSVA scores (seed, as published)"} if pathways is not None
                else {"built": False, "feature_sets": list(model_settings.feature_sets)}),
            "task_id": catalog.task_ids[tissue],
            "protocol": settings.protocol,
            "table": str(store.path("lomo_folds", tissue, ext="json")),
            "study_versions": dg.MetadataValue.json(data.study_versions),
            "n_folds": len(folds),
            "skipped_folds": dg.MetadataValue.json([sk.to_dict() for sk in getattr(folds, "skipped", [])]),
            "folds": dg.MetadataValue.md(frame_markdown(summary)),
            "sha256": sha,
            **provenance_metadata(upstream=upstream, raw_files=data.raw_files, protocol=settings.protocol,
                                  extra={"feature_inputs": inputs} if inputs else None),
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
