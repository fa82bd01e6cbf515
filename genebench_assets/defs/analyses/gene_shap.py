"""Gene-level SHAP per tissue (issue 21): the RF and the XGBoost of SPEC §6 refitted on each LOMO fold's
gene features, ``shap.TreeExplainer`` on the fold's test samples -> ``A{n}_shap_rf.json``,
``A{n}_shap_xgb.json`` (ours: the seed published RF only) and ``A{n}_shap_directions.json`` (of the RF top
genes) in the published layout (the seed published the directions for A4 only), per protocol. Reads
lomo_folds through the read gate; its readers (cell2020_validation) read it through the gate with
``read_checked_gene_shap``. Science: ``science/analyses/gene_shap.py`` (how the seed made the files, and the
seed defects strict fixes); docs/analyses.md says which fields are demo / live / mirror only."""

import json
from pathlib import Path

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


def _write_ordered(store, obj, tissue: str, filename: str) -> str:
    """The published key order matters (top_genes is ranked): written unsorted, unlike the table store."""
    path = published_file(store, tissue, filename)
    if store.fs is None:
        write_json(obj, path, sort_keys=False, indent=2)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(json.dumps(obj, indent=2).encode())
    return str(path)


def gene_shap_version(store, tissue: str) -> str:
    """gene_shap's data version of a tissue, from the files on disk: its table and every published-layout
    file the table names (``files``), so a rewritten A{n}_shap_*.json is a new version ("none" when a
    named file is missing). The asset records it; readers compare it through the read gate."""
    if not store.exists(GENE_SHAP, tissue, ext="json"):
        return "none"
    names = list(store.read_json(GENE_SHAP, tissue).get("files", {}))
    if not all(published_file(store, tissue, n).exists() for n in names):
        return "none"
    return combined_version([store.sha256(GENE_SHAP, tissue, ext="json"),
                             *(store.sha256(GENE_SHAP, tissue, n.removesuffix(".json"), ext="json") for n in names)])


def read_checked_gene_shap(context, store, tissues, *, model: str = "rf") -> dict[str, dict]:
    """The read gate (gating/read_gate.py) for readers of gene_shap: of ``tissues``, those with a gene_shap
    table under the store's protocol must be its latest materialization, made under this protocol,
    else one line naming tissue and version, before any read. -> tissue -> {file (A{n}_shap_{model}.json),
    task_id, protocol, simulated, data_version}; tissues without a table are left out."""
    from genebench_assets.defs.gating.read_gate import require_checked_inputs
    from genebench_assets.science.analyses.gene_shap import shap_filename

    present = [t for t in tissues if store.exists(GENE_SHAP, t, ext="json")]
    versions = {t: gene_shap_version(store, t) for t in present}
    if present:
        require_checked_inputs(context, [(GENE_SHAP, t, versions[t]) for t in present], protocol=store.protocol)
    out = {}
    for t in present:
        detail = store.read_json(GENE_SHAP, t)
        out[t] = {"file": Path(published_file(store, t, shap_filename(detail["task_id"], model))),
                  "task_id": detail["task_id"], "protocol": detail["protocol"],
                  "simulated": bool(detail.get("simulated")), "data_version": versions[t]}
    return out


@dg.asset(
    code_version=code_version_of(__file__, "gene_shap"),
    group_name="analyses",
    partitions_def=tissue_partitions,
    deps=[lomo_folds, gene_sets,
          *(dg.AssetDep(a, partition_mapping=by_tissue) for a in (normalized_expression, sample_metadata, raw_counts))],
    automation_condition=study_rollup_condition(),
    description="Issue 21: per LOMO fold (holdout excluded, as published) the RF and the XGBoost of SPEC §6 "
    "refitted on the fold's gene features and shap.TreeExplainer on its test samples (every sample and gene, no "
    "subsampling, as the seed); mean |SHAP| over folds -> A{n}_shap_rf.json and A{n}_shap_xgb.json (top 50 by "
    "symbol, target-gene ranks, condition 3) and A{n}_shap_directions.json (Flight - Ground log2 difference of "
    "the RF top 50), rank agreement across folds and between the models, plots of the top genes, seed vs "
    "strict post-processing side by side; and the PCA-LR's coefficients mapped back to genes per fold "
    "(A{n}_pca_lr_gene_coefficients.json, ours, as the published A6 pathway file does for pathways).",
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
    per_fold: dict[str, list] = {m: [] for m in gs.MODELS}
    pca_lr_coefs = []  # PCA-LR coefficients mapped back to genes, per fold
    for i, fold in enumerate(lomo, start=1):
        X_train, y_train, X_test = fold_matrices(fold, data.expression)  # no test labels here
        X_train, y_train = model_fit_rows(fold, X_train, y_train)
        for m in gs.MODELS:
            per_fold[m].append(gs.fold_shap(X_train, y_train, X_test, name=fold.test_mission, model=m,
                                            seed=model_settings.seed))
        pca_lr_coefs.append(gs.fold_pca_lr_coefficients(X_train, y_train, name=fold.test_mission, seed=model_settings.seed))
        context.log.info(f"{tissue}: SHAP of fold {fold.fold_id} ({i} of {len(lomo)}, {X_train.shape[1]} genes, "
                         f"{', '.join(gs.MODELS)})")
    # Test labels only to split the test samples into Flight and Ground for the directions (a description of
    # the data, after the fits); the models above never see them.
    missions = {f.test_mission: fold_test_labels(f) for f in lomo}
    results = {m: gs.gene_shap_result(per_fold[m], expression=data.expression, missions=missions,
                                      symbols=symbol_map.to_dict(), task_id=task_id, tissue=tissue,
                                      protocol=settings.protocol, model=m) for m in gs.MODELS}
    docs = {m: r.pop("shap_doc") for m, r in results.items()}
    directions = {m: r.pop("directions") for m, r in results.items()}
    files = {**{gs.shap_filename(task_id, m): docs[m] for m in gs.MODELS},
             gs.directions_filename(task_id): directions[gs.MODEL],  # the published directions: the RF's top genes
             gs.pca_lr_gene_filename(task_id): gs.pca_lr_gene_document(pca_lr_coefs, task_id=task_id, tissue=tissue,
                                                                       symbols=symbol_map.to_dict())}
    written = {name: _write_ordered(store, doc, tissue, name) for name, doc in files.items()}
    simulated = _simulated(store, tissue)
    agreement_models = gs.models_agreement(per_fold)
    detail = {"tissue": tissue, "task_id": task_id, "protocol": settings.protocol, "simulated": simulated,
              "models": {m: {**results[m], "directions": directions[m]} for m in gs.MODELS},
              "models_agreement": agreement_models, "seed": model_settings.seed, "targets_source": gs.TARGETS_SOURCE,
              "files": written}
    _, sha = store.write_json(detail, GENE_SHAP, tissue)
    upstream = [*data.upstream,
                {"asset": "lomo_folds", "partition": tissue, "data_version": lomo_folds_data_version(store, tissue)},
                gene_sets_upstream(store)]
    per_model_md = {}
    for m in gs.MODELS:
        prefix = "" if m == gs.MODEL else f"{m}_"  # the RF's keys as before; the XGBoost's prefixed
        doc, label = docs[m], {"rf": "RF", "xgb": "XGBoost"}.get(m, m)
        plot = top_features_png(gs.signed_top(doc, directions[m]), n=20, xlabel="mean |SHAP| (sign: Flight - Ground)",
                                title=f"{task_id} {tissue} ({settings.protocol}): {label} SHAP, top genes")
        per_model_md.update({
            f"{prefix}condition3_pass": doc["condition3_pass"],
            f"{prefix}targets_in_top": dg.MetadataValue.json(
                {t: r["rank"] for t, r in doc["target_gene_ranks"].items() if r["in_top_n"]}),
            **{f"{prefix}rank_agreement_{k}": v for k, v in results[m]["rank_agreement"].items()},
            f"{prefix}top_features": dg.MetadataValue.md(frame_markdown(gs.top_features_table(doc, directions[m]),
                                                                        max_rows=25)),
            f"{prefix}top_features_plot": dg.MetadataValue.md(png_markdown(plot, f"{task_id} top genes by {label} mean |SHAP|")),
            f"{prefix}seed_vs_strict": dg.MetadataValue.json(results[m]["seed_vs_strict"])})
    metadata = {
        "protocol": settings.protocol, "simulated": simulated, "models": ", ".join(gs.MODELS),
        "n_folds": docs[gs.MODEL]["n_folds"], "sha256": sha, **{f"file_{name}": path for name, path in written.items()},
        **per_model_md,
        **{f"rf_vs_xgb_{k}": v for k, v in agreement_models.items() if k != "models"},
        **_pca_lr_metadata(files[gs.pca_lr_gene_filename(task_id)]),
        **provenance_metadata(upstream=upstream, raw_files=data.raw_files, protocol=settings.protocol),
    }
    return dg.MaterializeResult(data_version=dg.DataVersion(gene_shap_version(store, tissue)), metadata=metadata)


def _pca_lr_metadata(doc: dict) -> dict:
    """The PCA-LR gene coefficients in the UI: rank agreement across folds and the top genes."""
    import pandas as pd

    rows = [{"rank": r, "gene": label, "ensembl": e["ensembl"], "mean_coef": f"{e['mean_coef']:.3g}",
             "abs_mean_coef": f"{e['abs_mean_coef']:.3g}"} for r, (label, e) in enumerate(doc["top_genes"].items(), start=1)]
    return {**{f"pca_lr_rank_agreement_{k}": v for k, v in doc["rank_agreement"].items()},
            "pca_lr_top_features": dg.MetadataValue.md(frame_markdown(pd.DataFrame(rows).set_index("rank"), max_rows=25))}
