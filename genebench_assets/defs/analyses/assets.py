"""Issue 21 as release-reproduction assets: interpretation of the pathway LOMO fits and the
multi-database comparison, read from the release assets (defs/release/assets.py).

- ``release_pathway_interpretation`` (tissue x collection, like the release assets, single-run
  backfill): per fold the PCA-LR coefficients mapped back to the pathways (the published
  ``A6_pathway_hallmark_shap.json`` layout, written as ``A{n}_pathway_{db}_shap.json`` for every
  partition), RF TreeExplainer SHAP per fold (``shap``), the rank agreement across folds, and a plot
  of the top pathways.
- ``multi_db_comparison`` (unpartitioned): the AUROC block from the 24 ``release_evaluation`` tables
  and the NES conservation from the release's fGSEA tables -> ``multi_db_comparison.json``.
Science: ``science/analyses/``."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd

from genebench_assets.defs.lineage.code_versions import code_version_of
from genebench_assets.defs.lineage.provenance import frame_markdown, provenance_metadata
from genebench_assets.defs.release.assets import (
    TISSUES, _pairs, _part, _recorded_version, _release_asset, _run_data_version, load_features,
    release_evaluation, release_fold_features, release_partitions)
from genebench_assets.defs.release.resources import COLLECTIONS, ReleaseSettings
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.science.storage.atomic_files import sha256_file, write_json
from genebench_assets.science.storage.table_store import TableStore

GROUP = "release_analyses"


def release_file_records(release_dir: Path, paths) -> list[dict]:
    """Provenance records (raw_files) of files read from the GeneLab release."""
    return [{"osd": "GeneLab release", "file_name": str(p.relative_to(release_dir)), "origin": str(p),
             "size": p.stat().st_size, "sha256": sha256_file(p), "source_mode": "release"} for p in paths]


@_release_asset(code_version=code_version_of(__file__, "release_pathway_interpretation"), group_name=GROUP,
                partitions_def=release_partitions, deps=[release_fold_features],
                description="Per LOMO fold of the release: PCA-LR coefficients mapped back to the pathways "
                "(A{n}_pathway_{db}_shap.json, published layout), RF TreeExplainer SHAP (shap), rank agreement "
                "across folds, plot of the top pathways.")
def release_pathway_interpretation(context, settings: GenebenchSettings, release_settings: ReleaseSettings) -> dg.MaterializeResult:
    from genebench_assets.science.analyses import gene_shap
    from genebench_assets.science.analyses import interpretability as interp
    from genebench_assets.science.evaluation.plots import png_markdown
    from genebench_assets.science.release import genelab_release

    store = TableStore(settings.data_dir)
    shas = {}
    for tissue, db, key in _pairs(context):
        part = _part(tissue, db)
        folds = load_features(store, tissue, db)
        task_id, _ = genelab_release.resolve_task(tissue)
        coefs = interp.fold_coefficients(folds)
        summary = interp.coefficient_summary(coefs, task=f"{task_id}_{tissue}", db=db)
        rf_shap = interp.fold_tree_shap(folds, model="rf")
        detail = {"summary": summary,
                  "per_fold_coef": {f: coefs.loc[f].to_dict() for f in coefs.index},
                  "coef_rank_agreement": interp.rank_agreement(coefs),
                  "rf_shap": gene_shap.shap_rf_document(gene_shap.ranked_mean(rf_shap, protocol="seed")[1], task_id=task_id,
                                                        tissue=tissue, n_folds=len(rf_shap), symbols={}, protocol="seed",
                                                        targets=False),
                  "rf_shap_rank_agreement": interp.rank_agreement(rf_shap)}
        _, sha = store.write_json(detail, "release_pathway_interpretation", part)
        shas[part] = sha
        out = write_json(summary, Path(release_settings.out_dir) / interp.shap_filename(task_id, db), sort_keys=False, indent=2)
        mean = coefs.mean(axis=0)
        png = interp.top_features_png(mean, title=f"{task_id} {db}: PCA-LR coefficients (mean over folds)")
        top = pd.DataFrame(summary["pathways"][:10]).set_index("pathway")
        up = [{"asset": "release_fold_features", "partition": part,
               "data_version": _recorded_version(context, "release_fold_features", tissue, db, store,
                                                 "release_fold_features", part, "index", ext="json")}]
        context.add_asset_metadata(
            {"result_file": str(out), "table_sha256": sha,
             **{f"coef_{k}": v for k, v in detail["coef_rank_agreement"].items()},
             **{f"rf_shap_{k}": v for k, v in detail["rf_shap_rank_agreement"].items()},
             "top_pathways": dg.MetadataValue.md(frame_markdown(top)),
             "top_pathways_plot": dg.MetadataValue.md(png_markdown(png, f"{task_id} {db} top pathways")),
             **provenance_metadata(upstream=up, raw_files=store.read_json("release_files", part), protocol="seed")},
            partition_key=key)
    return dg.MaterializeResult(data_version=_run_data_version(shas))


@dg.asset(code_version=code_version_of(__file__, "multi_db_comparison"), group_name=GROUP, deps=[release_evaluation],
          description="multi_db_comparison.json: AUROC per model x tissue x collection from the reproduced "
          "release tables; NES conservation across missions, the MitoCarta OXPHOS deep dive and the Hallmark-vs-"
          "MitoCarta OXPHOS concordance from the release's fGSEA tables (seed complex matching; strict beside it).")
def multi_db_comparison(context, settings: GenebenchSettings, release_settings: ReleaseSettings) -> dg.MaterializeResult:
    from genebench_assets.science.analyses import multi_db
    from genebench_assets.science.evaluation.plots import png_markdown

    store = TableStore(settings.data_dir)
    release_dir = release_settings.checked_release_dir()
    missing = [_part(t, db) for t in TISSUES for db in COLLECTIONS if not store.exists("release_evaluation", _part(t, db), ext="json")]
    if missing:
        raise dg.Failure(f"multi_db_comparison needs release_evaluation of all {len(TISSUES) * len(COLLECTIONS)} partitions; "
                         f"missing {len(missing)} (e.g. {missing[0]}): run `genebench reproduce analyses` or pathway-lomo first")
    results = {(t, db): store.read_json("release_evaluation", _part(t, db)) for t in TISSUES for db in COLLECTIONS}
    result = multi_db.multi_db_comparison(results, release_dir)
    _, sha = store.write_json(result, "multi_db_comparison")
    # strict (not in the published file): complexes matched on name boundaries, beside the seed's substrings
    strict = multi_db.mitocarta_deep_dive(release_dir, match="strict")
    seed_only = multi_db.complex_membership_diff(result["mitocarta_deep_dive"], strict)
    store.write_json({"mitocarta_deep_dive": strict, "seed_only_pathways": seed_only}, "multi_db_comparison", "strict")
    out = write_json(result, Path(release_settings.out_dir) / multi_db.FILENAME, sort_keys=False, indent=2)
    up = [{"asset": "release_evaluation", "partition": _part(t, db),
           "data_version": _recorded_version(context, "release_evaluation", t, db, store, "release_evaluation", _part(t, db), ext="json")}
          for t in TISSUES for db in COLLECTIONS]
    fgsea = [p for t in multi_db.PUBLISHED_TISSUES for db in multi_db.COLLECTIONS for p in multi_db.fgsea_files(release_dir, t, db)]
    raw = release_file_records(release_dir, fgsea)
    table = pd.DataFrame({t: {db: v["mean_auroc"] for db, v in by_db.items()} for t, by_db in result["auroc"]["pca_lr"].items()}).T
    return dg.MaterializeResult(
        data_version=dg.DataVersion(sha[:16]),
        metadata={"result_file": str(out), "table_sha256": sha,
                  "pca_lr_auroc": dg.MetadataValue.md(frame_markdown(table.round(3))),
                  "auroc_plot": dg.MetadataValue.md(png_markdown(multi_db.auroc_png(result["auroc"]), "AUROC by collection")),
                  "mitocarta_seed_vs_strict": dg.MetadataValue.md(frame_markdown(
                      pd.DataFrame(seed_only, columns=["tissue", "mission", "complex", "seed_mean_NES", "strict_mean_NES"]).round(3))),
                  **provenance_metadata(upstream=up, raw_files=raw, protocol="seed")})


analyses_partitioned_job = dg.define_asset_job(
    "release_analyses_job", selection=dg.AssetSelection.groups("release") | dg.AssetSelection.assets(release_pathway_interpretation),
    description="The release reproduction and the interpretation of its fits (genebench reproduce analyses, run 1).")
multi_db_job = dg.define_asset_job(
    "multi_db_comparison_job", selection=dg.AssetSelection.assets(multi_db_comparison),
    description="multi_db_comparison.json from the reproduced release tables (genebench reproduce analyses, run 2).")
