"""Gene-level SHAP per tissue (issue 21): the RF of SPEC §6 refitted on each LOMO fold's gene features,
``shap.TreeExplainer`` on the fold's test samples -> ``A{n}_shap_rf.json`` and ``A{n}_shap_directions.json``
in the published layout (the seed published the directions for A4 only), per protocol. Reads lomo_folds
through the read gate. Science: ``science/analyses/gene_shap.py`` (how the seed made the files, and the
seed defects strict fixes); docs/analyses.md says which fields are demo / live / mirror only."""

import hashlib
import json

import dagster as dg

from genebench_assets.defs.analyses.calibration import _simulated
from genebench_assets.defs.expression.assets import normalized_expression
from genebench_assets.defs.gating.tissue_inputs import load_tissue, lomo_folds_data_version, read_checked_folds
from genebench_assets.defs.lineage.code_versions import code_version_of
from genebench_assets.defs.lineage.provenance import (combined_version, frame_markdown, gene_sets_upstream,
                                                       provenance_metadata)
from genebench_assets.defs.models.resources import ModelSettings
from genebench_assets.defs.pathways.assets import gene_sets, load_gene_sets
from genebench_assets.defs.pathways.resources import GeneSetSettings
from genebench_assets.defs.runtime.partitions import by_tissue, study_rollup_condition, tissue_partitions
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.defs.sources.assets import raw_counts, sample_metadata
from genebench_assets.defs.sources.resources import OsdrSource
from genebench_assets.defs.tasks.assets import lomo_folds
from genebench_assets.science.storage.atomic_files import write_json

GENE_SHAP = "gene_shap"


def published_file(store, tissue: str, filename: str):
    """Where a published-layout file of a tissue goes: beside the asset's table, under the protocol."""
    return store.path(GENE_SHAP, tissue, filename.removesuffix(".json"), ext="json")


def _write_ordered(store, obj, tissue: str, filename: str) -> tuple[str, str]:
    """The published key order matters (top_genes is ranked): written unsorted, unlike the table store."""
    path = published_file(store, tissue, filename)
    data = json.dumps(obj, indent=2).encode()
    if store.fs is None:
        write_json(obj, path, sort_keys=False, indent=2)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return str(path), hashlib.sha256(data).hexdigest()


@dg.asset(
    code_version=code_version_of(__file__, "gene_shap"),
    group_name="analyses",
    partitions_def=tissue_partitions,
    deps=[lomo_folds, gene_sets,
          *(dg.AssetDep(a, partition_mapping=by_tissue) for a in (normalized_expression, sample_metadata, raw_counts))],
    automation_condition=study_rollup_condition(),
    description="Issue 21: per LOMO fold (holdout excluded, as published) the RF of SPEC §6 refitted on the fold's "
    "gene features and shap.TreeExplainer on its test samples (every sample and gene, no subsampling, as the seed); "
    "mean |SHAP| over folds -> A{n}_shap_rf.json (top 50 by symbol, target-gene ranks, condition 3) and "
    "A{n}_shap_directions.json (Flight - Ground log2 difference of the top 50), rank agreement across folds, "
    "plot of the top genes, seed vs strict post-processing side by side.",
)
def gene_shap(context: dg.AssetExecutionContext, settings: GenebenchSettings, model_settings: ModelSettings,
              gene_set_settings: GeneSetSettings, osdr_source: OsdrSource) -> dg.MaterializeResult:
    from genebench_assets.science.analyses import gene_shap as gs
    from genebench_assets.science.analyses.interpretability import top_features_png
    from genebench_assets.science.evaluation.plots import png_markdown
    from genebench_assets.science.tasks.folds import fold_matrices, fold_test_labels, model_fit_rows

    tissue = context.partition_key
    catalog = settings.catalog()
    store = settings.table_store()
    folds = read_checked_folds(context, store, tissue)  # the read gate first (gating/read_gate.py)
    lomo = [f for f in folds if not f.holdout]
    if not lomo:
        raise dg.Failure(f"gene_shap {tissue}: lomo_folds has no LOMO fold (only {[f.fold_id for f in folds]}); "
                         "nothing to explain")
    data = load_tissue(store, catalog, tissue)  # the promoted study versions lomo_folds was built from
    _, symbol_map, _ = load_gene_sets(settings, gene_set_settings, osdr_source)
    task_id = catalog.task_ids[tissue]
    per_fold = []
    for i, fold in enumerate(lomo, start=1):
        X_train, y_train, X_test = fold_matrices(fold, data.expression)  # no test labels here
        X_train, y_train = model_fit_rows(fold, X_train, y_train)
        per_fold.append(gs.fold_shap(X_train, y_train, X_test, name=fold.test_mission, seed=model_settings.seed))
        context.log.info(f"{tissue}: SHAP of fold {fold.fold_id} ({i} of {len(lomo)}, {X_train.shape[1]} genes)")
    # Test labels only to split the test samples into Flight and Ground for the directions (a description of
    # the data, after the fits); the models above never see them.
    result = gs.gene_shap_result(per_fold, expression=data.expression,
                                 missions={f.test_mission: fold_test_labels(f) for f in lomo},
                                 symbols=symbol_map.to_dict(), task_id=task_id, tissue=tissue, protocol=settings.protocol)
    files = {gs.shap_rf_filename(task_id): result.pop("shap_rf"), gs.directions_filename(task_id): result.pop("directions")}
    written = {name: _write_ordered(store, doc, tissue, name) for name, doc in files.items()}
    doc, directions = files.values()
    simulated = _simulated(store, tissue)
    detail = {"tissue": tissue, "task_id": task_id, "protocol": settings.protocol, "simulated": simulated,
              "model": gs.MODEL, "seed": model_settings.seed, "targets_source": gs.TARGETS_SOURCE,
              "files": {name: path for name, (path, _) in written.items()}, **result}
    _, sha = store.write_json(detail, GENE_SHAP, tissue)
    upstream = [*data.upstream,
                {"asset": "lomo_folds", "partition": tissue, "data_version": lomo_folds_data_version(store, tissue)},
                gene_sets_upstream(store)]
    plot = top_features_png(gs.signed_top(doc, directions), n=20, xlabel="mean |SHAP| (sign: Flight - Ground)",
                            title=f"{task_id} {tissue} ({settings.protocol}): RF SHAP, top genes")
    agreement = result["rank_agreement"]
    metadata = {
        "protocol": settings.protocol, "simulated": simulated, "model": gs.MODEL, "n_folds": doc["n_folds"],
        "sha256": sha, **{f"file_{name}": path for name, (path, _) in written.items()},
        "condition3_pass": doc["condition3_pass"],
        "targets_in_top": dg.MetadataValue.json({t: r["rank"] for t, r in doc["target_gene_ranks"].items() if r["in_top_n"]}),
        **{f"rank_agreement_{k}": v for k, v in agreement.items()},
        "top_features": dg.MetadataValue.md(frame_markdown(gs.top_features_table(doc, directions), max_rows=25)),
        "top_features_plot": dg.MetadataValue.md(png_markdown(plot, f"{task_id} top genes by mean |SHAP|")),
        "seed_vs_strict": dg.MetadataValue.json(result["seed_vs_strict"]),
        **provenance_metadata(upstream=upstream, raw_files=data.raw_files, protocol=settings.protocol),
    }
    return dg.MaterializeResult(data_version=dg.DataVersion(combined_version([sha, *(s for _, s in written.values())])),
                                metadata=metadata)

