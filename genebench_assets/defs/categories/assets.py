"""Categories C (method C), D, J5 (pathway half) and NES-vs-transfer on the published release, as
assets: C partitioned per tissue pair (task C1..C4), D per task, J5 per tissue. Each partition runs
both protocols (seed reproduces the published numbers, strict fixes the seed defects) and writes one
JSON under ``<data_dir>/categories/<asset>/<partition>.json``; ``category_published_files`` writes
the published-layout files into the release out dir. Blocking checks read what the assets wrote."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

from genebench_assets.defs.lineage.code_versions import code_version_of
from genebench_assets.defs.release.resources import ReleaseSettings
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.science.categories import condition_prediction, cross_tissue, gene_vs_pathway
from genebench_assets.science.models.plugin_scope import skip_note
from genebench_assets.science.protocols import PROTOCOLS
from genebench_assets.science.storage.atomic_files import write_text

C_TASKS = list(cross_tissue.TASKS)
D_TASKS = list(condition_prediction.TASKS)
J5_TISSUES = list(gene_vs_pathway.TISSUES)
c_partitions = dg.StaticPartitionsDefinition(C_TASKS)
d_partitions = dg.StaticPartitionsDefinition(D_TASKS)
j5_partitions = dg.StaticPartitionsDefinition(J5_TISSUES)


def result_path(settings: GenebenchSettings, asset: str, partition: str) -> Path:
    return Path(settings.data_dir) / "categories" / asset / f"{partition}.json"


def _write(settings, asset, partition, doc) -> Path:
    return write_text(json.dumps(doc, indent=2), result_path(settings, asset, partition))


def read_result(settings: GenebenchSettings, asset: str, partition: str, context=None) -> dict:
    """A category result; with a reader's `context`, through the read gate first (gating/read_gate.py): the
    latest materialization of (asset, partition) passed every blocking check (its checks read it without)."""
    if context is not None:
        from genebench_assets.defs.gating.read_gate import blocking_checks, require_checked_inputs

        if asset in blocking_checks():  # j5 and NES results have no blocking check to pass
            require_checked_inputs(context, [(asset, partition)])
    path = result_path(settings, asset, partition)
    if not path.is_file():
        raise dg.Failure(f"{asset} partition {partition}: result file {path} is missing (materialize it first)")
    return json.loads(path.read_text())


@dg.asset(code_version=code_version_of(__file__, "cross_tissue_pathway_transfer"), group_name="categories", partitions_def=c_partitions,
          description="Category C method C (pathway cross-tissue transfer) for one tissue pair: top-20 Hallmark "
          "pathways by |mean NES| of the training tissue, GSVA scores, scaler + LR; AUROC, bootstrap CI (2000), "
          "permutation p (10,000); seed and strict protocols.")
def cross_tissue_pathway_transfer(context, settings: GenebenchSettings, release_settings: ReleaseSettings) -> dg.MaterializeResult:
    task_id = context.partition_key
    release = release_settings.checked_release_dir()
    doc = {"task_id": task_id, "train_tissue": cross_tissue.TASKS[task_id][0], "test_tissue": cross_tissue.TASKS[task_id][1]}
    for protocol in PROTOCOLS:
        doc[protocol] = cross_tissue.method_c(release, task_id, protocol=protocol, check=False)
    # where the feature list came from: the tissues named in the fgsea rows it was ranked on
    doc["feature_selection_tissues"] = doc["seed"]["selection_tissues"]
    path = _write(settings, "cross_tissue_pathway_transfer", task_id, doc)
    s, t = doc["seed"], doc["strict"]
    return dg.MaterializeResult(metadata={
        "model_plugins": skip_note("C1-C4 method C"),  # issue 20: never run here, and why
        "path": str(path), "auroc_seed": s["auroc"], "auroc_strict": t["auroc"], "perm_p_seed": s["perm_p"],
        "n_train": s["n_train"], "n_test": s["n_test"], "selected_pathways": dg.MetadataValue.json(s["selected_pathways"])})


@dg.asset_check(asset=cross_tissue_pathway_transfer, blocking=True, partitions_def=c_partitions,
                description="No sample is both in the training tissue and in the test tissue (either protocol).")
def cross_tissue_train_test_disjoint(context, settings: GenebenchSettings) -> dg.AssetCheckResult:
    doc = read_result(settings, "cross_tissue_pathway_transfer", context.partition_key)
    shared = {p: sorted(set(doc[p]["train_samples"]) & set(doc[p]["test_scores"])) for p in PROTOCOLS}
    bad = {p: ids for p, ids in shared.items() if ids}
    return dg.AssetCheckResult(passed=not bad, metadata={"shared_samples": dg.MetadataValue.json(bad),
                               "n_train": doc["seed"]["n_train"], "n_test": doc["seed"]["n_test"]},
                               description=(f"{doc['task_id']}: sample {next(iter(bad.values()))[0]!r} is in both tissues" if bad else None))


@dg.asset_check(asset=cross_tissue_pathway_transfer, blocking=True, partitions_def=c_partitions,
                description="Strict: the feature list is derived from the training tissue only (no test-label-derived feature).")
def cross_tissue_features_from_training_tissue(context, settings: GenebenchSettings) -> dg.AssetCheckResult:
    doc = read_result(settings, "cross_tissue_pathway_transfer", context.partition_key)
    tissues = doc["feature_selection_tissues"]
    ok = tissues == [doc["train_tissue"]]
    return dg.AssetCheckResult(passed=ok, metadata={"feature_selection_tissues": dg.MetadataValue.json(tissues),
                                                    "train_tissue": doc["train_tissue"], "test_tissue": doc["test_tissue"]},
                               description=None if ok else f"{doc['task_id']}: pathways ranked on fgsea rows of {tissues}, "
                               f"not only the training tissue {doc['train_tissue']!r}")


@dg.asset(code_version=code_version_of(__file__, "condition_prediction_pathway"), group_name="categories", partitions_def=d_partitions,
          description="Category D task (confounder prediction, macro-F1) with Hallmark GSVA features: "
          "repeated stratified 5x10 (D3, D5 thymus) or leave-one-out; permutation p; seed and strict protocols.")
def condition_prediction_pathway(context, settings: GenebenchSettings, release_settings: ReleaseSettings) -> dg.MaterializeResult:
    task_id = context.partition_key
    release = release_settings.checked_release_dir()
    y_s = condition_prediction.task_samples(release, task_id)
    counts = condition_prediction.class_counts(y_s)
    doc = {"task_id": task_id, "min_per_class": condition_prediction.MIN_PER_CLASS, "class_counts": counts,
           "labels": condition_prediction.stored_labels(y_s)}
    problems = condition_prediction.class_minimum_problems(counts)
    for protocol in PROTOCOLS:
        # too few samples in a class: nothing is fitted; the blocking check reports it
        doc[protocol] = None if problems else condition_prediction.run_task(release, task_id, protocol=protocol, check=False)
    path = _write(settings, "condition_prediction_pathway", task_id, doc)
    metadata = {"path": str(path), "class_counts": dg.MetadataValue.json(counts), "model_plugins": skip_note("D3-D6")}
    if not problems:
        metadata.update(macro_f1_seed=doc["seed"]["macro_f1"], macro_f1_strict=doc["strict"]["macro_f1"], perm_p_seed=doc["seed"]["perm_p"])
    return dg.MaterializeResult(metadata=metadata)


@dg.asset_check(asset=condition_prediction_pathway, blocking=True, partitions_def=d_partitions,
                description="Every class of the D task has at least the minimum number of samples, recounted from "
                "the stored per-sample labels; the recount equals the recorded counts and each protocol's fitted "
                "samples and confusion-matrix true classes.")
def condition_class_minimums(context, settings: GenebenchSettings) -> dg.AssetCheckResult:
    doc = read_result(settings, "condition_prediction_pathway", context.partition_key)
    recount, problems = condition_prediction.recounted_class_problems(doc, [(p, doc.get(p)) for p in PROTOCOLS])
    return dg.AssetCheckResult(passed=not problems, metadata={"class_counts": dg.MetadataValue.json(recount),
                                                              "problems": dg.MetadataValue.json(problems)},
                               description=f"{doc['task_id']}: {problems[0]}" if problems else None)


@dg.asset(code_version=code_version_of(__file__, "j5_pathway_lomo"), group_name="categories", partitions_def=j5_partitions,
          description="J5, pathway half: the published LOMO with Hallmark GSVA features (per-fold and mean AUROC), "
          "seed and strict protocols.")
def j5_pathway_lomo(context, settings: GenebenchSettings, release_settings: ReleaseSettings) -> dg.MaterializeResult:
    tissue = context.partition_key
    release = release_settings.checked_release_dir()
    doc = {"tissue": tissue}
    for protocol in PROTOCOLS:
        mean, per_fold = gene_vs_pathway.pathway_lomo_aurocs(release, tissue, protocol)
        doc[protocol] = {"pathway_mean_auroc": mean, "pathway_per_fold": per_fold}
    path = _write(settings, "j5_pathway_lomo", tissue, doc)
    return dg.MaterializeResult(metadata={"path": str(path), "model_plugins": skip_note("J5 pathway LOMO"),
                                          "mean_auroc_seed": doc["seed"]["pathway_mean_auroc"],
                                          "mean_auroc_strict": doc["strict"]["pathway_mean_auroc"]})


@dg.asset(code_version=code_version_of(__file__, "nes_conservation_vs_transfer"), group_name="categories",
          description="NES conservation (pairwise Spearman r of fgsea NES across missions) vs Category B transfer "
          "AUROC; rank correlation over every tissue with n and p.")
def nes_conservation_vs_transfer(context, settings: GenebenchSettings, release_settings: ReleaseSettings) -> dg.MaterializeResult:
    from genebench_assets.science.categories import nes_transfer

    release = release_settings.checked_release_dir()
    transfer, source = strict_transfer_aurocs(settings, release)
    result = nes_transfer.protocol_results(release, strict_transfer=transfer, strict_source=source)
    path = _write(settings, "nes_conservation_vs_transfer", "all", result)
    rc, strict = result["rank_correlation"], (result["strict"] or {}).get("rank_correlation") or {}
    return dg.MaterializeResult(metadata={"path": str(path), "spearman_rho": rc["rho"], "spearman_p": rc["p"], "n_tissues": rc["n"],
                                          "spearman_rho_strict": strict.get("rho"), "transfer_source_strict": source})


def published_results_dir(release: Path) -> Path:
    """The published GeneLab result files: $GENEBENCH_PUBLISHED_RESULTS, else published_results/ beside the release."""
    import os

    return Path(os.environ.get("GENEBENCH_PUBLISHED_RESULTS", Path(release).parent / "published_results"))


def strict_transfer_aurocs(settings: GenebenchSettings, release: Path) -> tuple[dict | None, str]:
    """Strict NES-vs-transfer's B AUROCs and where they come from: the release's B evaluation
    (B_cross_mission_summary.json, PCA-LR), else our transfer_evaluation assets, else none (said why)."""
    from genebench_assets.science.categories import nes_transfer

    for path in (Path(release) / nes_transfer.B_SUMMARY_FILE,
                 published_results_dir(release) / "genelab_category_results" / nes_transfer.B_SUMMARY_FILE):
        if path.is_file():
            return nes_transfer.transfer_from_b_summary(path), f"B evaluation {path} (pca_lr mean_auroc, unrounded)"
    from genebench_assets.science.storage.table_store import TableNotFoundError

    store, found = settings.table_store(), {}
    for tissue in nes_transfer.TISSUES:
        try:
            rows = store.read_json("transfer_evaluation", tissue)
        except TableNotFoundError:
            continue
        hit = [r for r in rows if r.get("feature_set", "genes") == "genes" and r["model"] == "pca_lr"]
        if hit:
            found[tissue] = {"auroc": float(hit[0]["mean_auroc"]), "ci": list(hit[0]["mean_auroc_ci"]), "n": int(hit[0]["n_pairs"])}
    if found:
        return found, f"our transfer_evaluation assets ({settings.protocol}, genes, pca_lr)"
    return None, "no B evaluation: neither B_cross_mission_summary.json nor transfer_evaluation assets found"


@dg.asset(code_version=code_version_of(__file__, "category_published_files"), group_name="categories",
          deps=[cross_tissue_pathway_transfer, condition_prediction_pathway, j5_pathway_lomo, nes_conservation_vs_transfer],
          description="The published category result files (C, D, J5, NES vs transfer) rebuilt from the category "
          "assets: seed numbers in the published layout, strict numbers and the defects beside them.")
def category_published_files(context, settings: GenebenchSettings, release_settings: ReleaseSettings) -> dg.MaterializeResult:
    from genebench_assets.science.categories import published_layout as pl

    c = {t: read_result(settings, "cross_tissue_pathway_transfer", t, context) for t in C_TASKS}
    d = {t: read_result(settings, "condition_prediction_pathway", t, context) for t in D_TASKS}
    j = {t: read_result(settings, "j5_pathway_lomo", t, context) for t in J5_TISSUES}
    nes = read_result(settings, "nes_conservation_vs_transfer", "all", context)
    docs = {
        pl.C_FILE: pl.c_summary({t: v["seed"] for t, v in c.items()}, {t: v["strict"] for t, v in c.items()}),
        pl.D_FILE: pl.d_summary({t: v["seed"] for t, v in d.items()}, {t: v["strict"] for t, v in d.items()}),
        pl.J5_FILE: pl.j5_summary({t: (v["seed"]["pathway_mean_auroc"], v["seed"]["pathway_per_fold"]) for t, v in j.items()},
                                  {t: (v["strict"]["pathway_mean_auroc"], v["strict"]["pathway_per_fold"]) for t, v in j.items()}),
        pl.NES_FILE: pl.nes_summary(nes),
    }
    paths = pl.write_all(release_settings.out_dir, docs)
    return dg.MaterializeResult(metadata={"files": dg.MetadataValue.json([str(p) for p in paths])})


@dg.asset(code_version=code_version_of(__file__, "leakage_audit"), group_name="categories",
          deps=[cross_tissue_pathway_transfer, condition_prediction_pathway, j5_pathway_lomo, nes_conservation_vs_transfer],
          description="The leakage audit (SPEC §11, issue 24): per figure, seed vs strict (with its CI), each defect's "
          "evidence computed from the data and the move attributed one defect at a time in a fixed order; also "
          "written as leakage_audit.json / .md beside the published-layout files.")
def leakage_audit(context, settings: GenebenchSettings, release_settings: ReleaseSettings) -> dg.MaterializeResult:
    from genebench_assets.science.categories import leakage_audit as audit

    release = release_settings.checked_release_dir()
    # our gene-level C results (demo / live / mirror sources), when materialized: method B's strict value
    gene = {t: json.loads(result_path(settings, "cross_tissue_gene_transfer", t).read_text()) for t in C_TASKS
            if result_path(settings, "cross_tissue_gene_transfer", t).is_file()}
    evidence = audit.collect_evidence(release, published_results_dir(release), gene)
    rows = audit.audit_rows({t: read_result(settings, "cross_tissue_pathway_transfer", t, context) for t in C_TASKS},
                            {t: read_result(settings, "condition_prediction_pathway", t, context) for t in D_TASKS},
                            {t: read_result(settings, "j5_pathway_lomo", t, context) for t in J5_TISSUES},
                            read_result(settings, "nes_conservation_vs_transfer", "all", context), evidence)
    path = _write(settings, "leakage_audit", "all", {"order": list(audit.ORDER), "rows": rows, "evidence": evidence})
    files = audit.write_audit(release_settings.out_dir, rows, evidence)
    changed = [r["task"] for r in rows if r["difference"] not in (None, 0.0)]
    return dg.MaterializeResult(metadata={"path": str(path), "files": dg.MetadataValue.json([str(f) for f in files]),
                                          "audit": dg.MetadataValue.md(audit.render_markdown(rows)),
                                          "n_rows": len(rows), "tasks_changed_by_strict": dg.MetadataValue.json(changed),
                                          "moved_by": dg.MetadataValue.json({r["task"]: r["moved_by"] for r in rows if r["moved_by"]})})


category_partitioned_jobs = {
    "categories_cross_tissue_job": dg.define_asset_job("categories_cross_tissue_job", selection=[cross_tissue_pathway_transfer],
                                                       partitions_def=c_partitions),
    "categories_condition_job": dg.define_asset_job("categories_condition_job", selection=[condition_prediction_pathway],
                                                    partitions_def=d_partitions),
    "categories_j5_job": dg.define_asset_job("categories_j5_job", selection=[j5_pathway_lomo], partitions_def=j5_partitions),
}
categories_summary_job = dg.define_asset_job(
    "categories_summary_job", selection=[nes_conservation_vs_transfer, category_published_files, leakage_audit])
