"""Category C methods A and B with gene features (issue 11), on a source with gene-level matrices
(demo, live OSDR, mirror): partitioned per C task like method C, both protocols side by side.

cross_tissue_gene_folds -> (blocking checks: train/test disjoint; strict gene lists read no test
label) -> cross_tissue_gene_transfer. Both tissues are read as the promoted study versions their
lomo_folds recorded (defs/gating/tissue_inputs.py), so C sees exactly the studies Category A saw."""


import dagster as dg

from genebench_assets.defs.categories.assets import _write, c_partitions, d_partitions, read_result, result_path
from genebench_assets.defs.lineage.code_versions import code_version_of
from genebench_assets.defs.runtime.partitions import tissue_partitions
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.science.categories import condition_prediction, cross_tissue
from genebench_assets.science.evaluation.over_seeds import result_over_seeds, seed_note
from genebench_assets.science.markdown_tables import markdown_table
from genebench_assets.science.models.plugin_scope import skip_note
from genebench_assets.science.protocols import PROTOCOLS

GENE_FOLDS = "cross_tissue_gene_folds"
GENE_TRANSFER = "cross_tissue_gene_transfer"
METHODS = ("method_a", "method_b")
SEED_FIELDS = ("auroc", "ci_low", "ci_high", "perm_p")  # each seed's, beside the mean over seeds (--seeds)
# Upstream assets by key, not by import: `genebench reproduce categories` imports this package on its own,
# and importing the tissue assets from here would pull the whole benchmark graph into that import.
LOMO_FOLDS, EVALUATION_SUMMARY = dg.AssetKey("lomo_folds"), dg.AssetKey("evaluation_summary")

# C task <- the lomo_folds partitions of its two tissues (only tissues this code location partitions).
_TISSUES = set(tissue_partitions.get_partition_keys())
c_task_tissues = dg.StaticPartitionMapping({
    t: [task for task, pair in cross_tissue.TASKS.items() if t in pair]
    for t in sorted({t for pair in cross_tissue.TASKS.values() for t in pair} & _TISSUES)})


def _load_tissues(context, settings: GenebenchSettings, task: str, tissues: tuple[str, ...]) -> list:
    """The task's tissues (QC-kept samples of their promoted studies), or one line naming the tissues
    that are not in the catalog. Through the read gate: each tissue's lomo_folds (which promoted those
    study versions) passed its blocking leakage checks."""
    from genebench_assets.defs.gating.tissue_inputs import load_tissue, require_checked_folds

    catalog = settings.catalog()
    absent = [t for t in tissues if t not in catalog.tissues]
    if absent:
        raise dg.Failure(f"{task}: tissue(s) {absent} not in the catalog ({settings.catalog_path or 'packaged'})")
    store = settings.table_store()
    require_checked_folds(context, store, tissues)
    return [load_tissue(store, catalog, t) for t in tissues]


def _sides(context, settings: GenebenchSettings, task_id: str):
    from genebench_assets.science.categories.cross_tissue_genes import TissueSide

    train_tissue, test_tissue = cross_tissue.TASKS[task_id]
    data = _load_tissues(context, settings, f"{task_id} ({train_tissue} -> {test_tissue})", (train_tissue, test_tissue))
    return [TissueSide(d.tissue, d.expression, d.metadata) for d in data], data


@dg.asset(
    code_version=code_version_of(__file__, "cross_tissue_gene_folds"),
    group_name="categories",
    partitions_def=c_partitions,
    deps=[dg.AssetDep(LOMO_FOLDS, partition_mapping=c_task_tissues)],
    description="Category C methods A and B (SPEC §8), gene features: the training tissue's and test tissue's "
    "binary samples, and each method's gene list with where it came from. A: common genes, variance filter "
    "fitted on the training tissue. B: DEG genes (Welch t, BH q < 0.05) - strict: of the training tissue only; "
    "seed (as published, flagged): training DEGs that are also test-tissue DEGs, i.e. read the test labels.",
)
def cross_tissue_gene_folds(context: dg.AssetExecutionContext, settings: GenebenchSettings) -> dg.MaterializeResult:
    from genebench_assets.science.categories import cross_tissue_genes

    task_id = context.partition_key
    (train, test), data = _sides(context, settings, task_id)
    doc = {"task_id": task_id, "train_tissue": train.tissue, "test_tissue": test.tissue,
           "study_versions": {d.tissue: d.study_versions for d in data}}
    for protocol in PROTOCOLS:
        doc[protocol] = cross_tissue_genes.build_gene_folds(train, test, task_id=task_id, protocol=protocol)
    path = _write(settings, GENE_FOLDS, task_id, doc)
    s, t = doc["seed"], doc["strict"]
    return dg.MaterializeResult(metadata={
        "path": str(path), "n_train": len(t["method_a"]["train_ids"]), "n_test": len(t["method_a"]["test_ids"]),
        "method_a_genes": len(t["method_a"]["genes"]), "method_b_genes_strict": len(t["method_b"]["genes"]),
        "method_b_genes_seed": len(s["method_b"]["genes"]),
        "method_b_gene_list_from": dg.MetadataValue.json({p: doc[p]["method_b"]["gene_list_from"] for p in PROTOCOLS}),
        "seed_flag": s["method_b"].get("flag", "")})


@dg.asset_check(asset=cross_tissue_gene_folds, blocking=True, partitions_def=c_partitions,
                description="No sample id in both the training and the test tissue, for either method and protocol.")
def cross_tissue_gene_folds_disjoint(context, settings: GenebenchSettings) -> dg.AssetCheckResult:
    doc = read_result(settings, GENE_FOLDS, context.partition_key)
    shared = {f"{p}/{m}": sorted(set(doc[p][m]["train_ids"]) & set(doc[p][m]["test_ids"]))
              for p in PROTOCOLS for m in METHODS}
    bad = {k: v for k, v in shared.items() if v}
    return dg.AssetCheckResult(passed=not bad, metadata={"shared_samples": dg.MetadataValue.json(bad)},
                               description=f"{doc['task_id']}: {next(iter(bad))}: sample {next(iter(bad.values()))[0]!r} "
                               "is in both tissues" if bad else None)


@dg.asset_check(asset=cross_tissue_gene_folds, blocking=True, partitions_def=c_partitions,
                description="Strict: no gene list is derived from test labels. Evidence: the samples whose labels "
                "each list read, and method B's list recomputed with the test tissue's labels permuted (a list that "
                "changes was derived from them). The seed's method B does read them (issue 11 defect 1): reported, "
                "not failed.")
def cross_tissue_gene_lists_from_training_tissue(context, settings: GenebenchSettings) -> dg.AssetCheckResult:
    from genebench_assets.science.categories.cross_tissue_genes import gene_list_depends_on_test_labels

    task_id = context.partition_key
    doc = read_result(settings, GENE_FOLDS, task_id)
    (train, test), _ = _sides(context, settings, task_id)
    found = {p: [f for m in METHODS for f in gene_list_depends_on_test_labels(train, test, doc[p][m])] for p in PROTOCOLS}
    failures = found["strict"]
    return dg.AssetCheckResult(
        passed=not failures,
        metadata={"failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in failures) or "none"),
                  "seed_exceptions": dg.MetadataValue.md("\n".join(f"- {f}" for f in found["seed"]) or "none")},
        description=failures[0] if failures else None)


@dg.asset(
    code_version=code_version_of(__file__, "cross_tissue_gene_transfer"),
    group_name="categories",
    partitions_def=c_partitions,
    deps=[cross_tissue_gene_folds, dg.AssetDep(LOMO_FOLDS, partition_mapping=c_task_tissues)],
    required_resource_keys={"settings", "model_settings"},  # model_settings: plug-ins (issue 20)
    description="Category C methods A and B with gene features: PCA-LR (scaler, PCA(min(50, n-1)), LR) fitted on "
    "the training tissue; AUROC on the test tissue, bootstrap CI (2000), permutation p (10,000); seed and "
    "strict side by side, the seed's test-label-derived method B flagged.",
)
def cross_tissue_gene_transfer(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    # resources by key (required_resource_keys): a ModelSettings annotation would import defs/models, which
    # pulls the tissue graph into `genebench reproduce categories`' import (see LOMO_FOLDS above)
    from genebench_assets.defs.models.plugin_fits import configured_plugins, versioned_data_version
    from genebench_assets.science.categories import cross_tissue_genes

    settings: GenebenchSettings = context.resources.settings
    model_settings = context.resources.model_settings
    task_id = context.partition_key
    plugins = configured_plugins(model_settings, reserved=("pca_lr",))  # issue 20: before anything is read
    folds = read_result(settings, GENE_FOLDS, task_id, context)
    (train, test), data = _sides(context, settings, task_id)
    recorded = folds["study_versions"]
    changed = [d.tissue for d in data if recorded.get(d.tissue) != d.study_versions]
    if changed:
        raise dg.Failure(f"{task_id}: {GENE_FOLDS} was built from other study versions of {changed}; re-materialize it")
    doc = {"task_id": task_id, "train_tissue": train.tissue, "test_tissue": test.tissue}
    # Seeds (issue 20, `--seeds`): each a full fit of every model; one seed (42, the default) writes the file as
    # before, several the mean ± sd over seeds with each seed's AUROC, CI and p (over_seeds.result_over_seeds).
    seeds = model_settings.run_seeds()
    results, scores = {}, {}
    for protocol in PROTOCOLS:
        doc[protocol] = {}
        for m in METHODS:
            fold = folds[protocol][m]
            doc[protocol][m] = cross_tissue_genes.too_few_genes(fold)
            if doc[protocol][m] is None:
                per_seed, scores[(protocol, m, "pca_lr")] = [], []
                for seed in seeds:
                    fitted, info = cross_tissue_genes.fit_scores(fold, train, test, seed)
                    per_seed.append({**cross_tissue_genes.evaluate_scores(fold, fitted, info=info), "seed": seed})
                    scores[(protocol, m, "pca_lr")] += [float(v) for v in fitted]
                doc[protocol][m] = result_over_seeds(per_seed, "auroc", SEED_FIELDS)
            results[(protocol, m, "pca_lr")] = doc[protocol][m]
    plugin_meta = _c_plugin_fits(context, model_settings, plugins, task_id, folds, train, test, doc, results, scores)
    path = _write(settings, GENE_TRANSFER, task_id, doc)
    rows = []

    def fmt(v, spec=".3f"):
        return "–" if v is None else format(v, spec)

    for m in METHODS:
        s, t = doc["seed"][m], doc["strict"][m]
        diff = None if s["auroc"] is None or t["auroc"] is None else t["auroc"] - s["auroc"]
        note = "; ".join(x for x in (s.get("flag"), s.get("not_computed") and f"seed: {s['not_computed']}",
                                     t.get("not_computed") and f"strict: {t['not_computed']}") if x) or "-"
        rows.append([m, fmt(s["auroc"]), fmt(t["auroc"]), fmt(diff, "+.3f"), f"{s['n_features']} / {t['n_features']}", note])
    side_by_side = markdown_table(
        ["method", "seed AUROC", "strict AUROC", "strict - seed", "genes seed / strict", "note"], rows)
    # Issue 20: one results record per protocol, method and model in <data_dir>/results/genelab/<C task>/.
    from genebench_assets.science.results.from_tasks import records_from_cross_tissue
    from genebench_assets.science.results.record import write_record
    from genebench_assets.science.storage.atomic_files import sha256_file

    records = records_from_cross_tissue(
        task_id=task_id, results=results, scores=scores,
        folds_data_version=sha256_file(result_path(settings, GENE_FOLDS, task_id))[:16],
        code_version=context.assets_def.code_versions_by_key.get(context.asset_key) or "unknown",
        plugins=plugins, plugin_cost=plugin_meta.pop("_cost", {}), seeds=seeds,
        source=f"{GENE_TRANSFER} [{task_id}]")
    paths = [write_record(settings.data_dir, r) for r in records]
    return dg.MaterializeResult(
        data_version=dg.DataVersion(versioned_data_version(sha256_file(path), plugins)) if plugins else None,
        metadata={
            "path": str(path), "side_by_side": dg.MetadataValue.md(side_by_side), **plugin_meta,
            "seeds": dg.MetadataValue.json(seeds),
            "results_records": str(paths[0].parent) if paths else "none",
            **{f"auroc_{m}_{p}": doc[p][m]["auroc"] if doc[p][m]["auroc"] is not None else float("nan")
               for p in PROTOCOLS for m in METHODS}})


def _c_plugin_fits(context, model_settings, plugins: dict, task_id: str, folds: dict, train, test,
                   doc: dict, results: dict, scores: dict) -> dict:
    """Every plug-in on each protocol's method A and B fold (issue 20), beside PCA-LR: fitted on the training
    tissue through the fit workers, scored on the test tissue with the same metrics; into doc["plugins"]
    (only when plug-ins are configured: the file is otherwise as before), `results` and `scores` (for the
    records). Returns the metadata to show (fit cost under "_cost")."""
    from genebench_assets.defs.models.plugin_fits import (
        PluginFit, plugin_metadata, positive_control_fit, positive_control_outcome, run_plugin_fits)
    from genebench_assets.science.categories import cross_tissue_genes
    from genebench_assets.science.evaluation.lomo_evaluation import POSITIVE_CONTROL_PREFIX

    if not plugins:
        return {}
    seeds = model_settings.run_seeds()
    fits, keys = [], []
    for protocol in PROTOCOLS:
        for m in METHODS:
            fold = folds[protocol][m]
            if cross_tissue_genes.too_few_genes(fold) is None:
                X_train, y_train, X_test = cross_tissue_genes.fold_inputs(fold, train, test)
                for seed in seeds:
                    for name in plugins:
                        fits.append(PluginFit(name, f"fold {task_id}_{m} ({protocol}{seed_note(seed, seeds)})",
                                              X_train, y_train, X_test, seed=seed))
                        keys.append((protocol, m, name, seed))
    # Positive control (Category A's, issue 20): each plug-in once on a planted-label copy of strict method A (its
    # gene list never reads a test label), first seed; only that copy reads the test labels, to plant them.
    control = folds["strict"]["method_a"]
    if cross_tissue_genes.too_few_genes(control) is None:
        X_train, y_train, X_test = cross_tissue_genes.fold_inputs(control, train, test)
        fits += [positive_control_fit(name, f"fold {task_id}_method_a (strict)", X_train, y_train, X_test,
                                      control["y_test"], seeds[0]) for name in plugins]
    fitted, label_blind, cost = run_plugin_fits(context, model_settings, plugins, fits)
    doc["plugins"] = {name: {"spec": p["spec"], "code_version": p["code_version"],
                             **{protocol: {} for protocol in PROTOCOLS}} for name, p in plugins.items()}
    controls = {}
    for name, res in zip(plugins, fitted[len(keys):]):
        r = cross_tissue_genes.evaluate_scores(control, res["scores"], model=f"{POSITIVE_CONTROL_PREFIX}{name}")
        doc["plugins"][name]["positive_control"] = {"fold": "strict/method_a", **r}
        controls[name] = r["auroc"]
    controls = positive_control_outcome(context, task_id, controls)
    for protocol in PROTOCOLS:
        for m in METHODS:
            for name in plugins:
                fold = folds[protocol][m]
                if (protocol, m, name, seeds[0]) in keys:
                    per_seed, scores[(protocol, m, name)] = [], []
                    for seed in seeds:
                        fitted_scores = fitted[keys.index((protocol, m, name, seed))]["scores"]
                        per_seed.append({**cross_tissue_genes.evaluate_scores(fold, fitted_scores, model=name),
                                         "seed": seed})
                        scores[(protocol, m, name)] += [float(v) for v in fitted_scores]
                    r = result_over_seeds(per_seed, "auroc", SEED_FIELDS)
                else:
                    r = cross_tissue_genes.too_few_genes(fold, model=name)
                doc["plugins"][name][protocol][m] = results[(protocol, m, name)] = r
    return {"plugins": dg.MetadataValue.json(plugin_metadata(plugins)), "label_blind": dg.MetadataValue.json(label_blind),
            "plugin_aurocs": dg.MetadataValue.json({n: {p: {m: doc["plugins"][n][p][m]["auroc"] for m in METHODS}
                                                        for p in PROTOCOLS} for n in plugins}),
            "positive_control": dg.MetadataValue.json(controls), "_cost": cost}


@dg.asset(
    code_version=code_version_of(__file__, "j5_gene_vs_pathway"),
    group_name="categories",
    partitions_def=tissue_partitions,
    deps=[EVALUATION_SUMMARY],  # and its evaluation_folds table
    description="J5 (SPEC §8) on a source with gene-level matrices: the same LOMO folds evaluated with gene "
    "features and with pathway (GSVA) features, per model, side by side (mean AUROC, pathway - gene, per fold). "
    "Needs evaluation_summary built with both feature sets.",
)
def j5_gene_vs_pathway(context: dg.AssetExecutionContext, settings: GenebenchSettings) -> dg.MaterializeResult:
    from genebench_assets.science.categories.gene_vs_pathway import side_by_side

    tissue = context.partition_key
    store = settings.table_store()
    result = side_by_side(store.read_frame("evaluation_summary", tissue), store.read_frame("evaluation_folds", tissue))
    if result["missing_feature_sets"]:
        raise dg.Failure(f"j5_gene_vs_pathway {tissue}: evaluation_summary ({store.path('evaluation_summary', tissue)}) "
                         f"has no {result['missing_feature_sets']} rows; materialize the tissue with "
                         "GENEBENCH_FEATURE_SETS=genes,pathways")
    doc = {"tissue": tissue, "protocol": settings.protocol, **result}
    path = _write(settings, "j5_gene_vs_pathway", f"{settings.protocol}/{tissue}", doc)
    side_by_side = markdown_table(
        ["model", "gene mean AUROC", "pathway mean AUROC", "pathway - gene"],
        [[m, f"{r['gene_mean_auroc']:.3f}", f"{r['pathway_mean_auroc']:.3f}", f"{r['difference']:+.3f}"]
         for m, r in result["models"].items()])
    return dg.MaterializeResult(metadata={"path": str(path), "protocol": settings.protocol,
                                          "side_by_side": dg.MetadataValue.md(side_by_side)})


d_task_tissue = dg.StaticPartitionMapping({
    t: [task for task, spec in condition_prediction.TASKS.items() if spec["tissue"] == t]
    for t in sorted({spec["tissue"] for spec in condition_prediction.TASKS.values()} & _TISSUES)})


@dg.asset(
    code_version=code_version_of(__file__, "condition_prediction_genes"),
    group_name="categories",
    partitions_def=d_partitions,
    deps=[dg.AssetDep(LOMO_FOLDS, partition_mapping=d_task_tissue)],
    description="Category D task (confounder prediction, macro-F1) with gene features on a source with gene-level "
    "matrices: the tissue's QC-kept samples (promoted study versions lomo_folds recorded), log2 expression of the "
    "genes observed in every task sample; the same cross-validation, models and metrics as the pathway D tasks "
    "(scaler fitted inside each training split). Too few samples in a class: nothing is fitted, the check says so.",
)
def condition_prediction_genes(context: dg.AssetExecutionContext, settings: GenebenchSettings) -> dg.MaterializeResult:
    from genebench_assets.science.tasks.folds import observed_genes

    task_id = context.partition_key
    tissue = condition_prediction.TASKS[task_id]["tissue"]
    (data,) = _load_tissues(context, settings, task_id, (tissue,))
    y_s = condition_prediction.source_task_samples(data.metadata, task_id)
    counts = condition_prediction.class_counts(y_s)
    doc = {"task_id": task_id, "tissue": tissue, "min_per_class": condition_prediction.MIN_PER_CLASS,
           "class_counts": counts, "labels": condition_prediction.stored_labels(y_s),
           "study_versions": data.study_versions, "genes": None}
    if not condition_prediction.class_minimum_problems(counts):
        genes = observed_genes(data.expression, list(y_s.index))
        X = data.expression.loc[genes, list(y_s.index)].T.to_numpy(dtype=float)
        doc["genes"] = condition_prediction.evaluate_features(X, y_s, task_id)
    path = _write(settings, "condition_prediction_genes", task_id, doc)
    metadata = {"path": str(path), "class_counts": dg.MetadataValue.json(counts), "model_plugins": skip_note("D3-D6")}
    if doc["genes"]:
        metadata.update(macro_f1=doc["genes"]["macro_f1"], accuracy=doc["genes"]["accuracy"],
                        perm_p=doc["genes"]["perm_p"], n_genes=doc["genes"]["n_features"],
                        cv=doc["genes"]["_details"]["cv"])
    return dg.MaterializeResult(metadata=metadata)


@dg.asset_check(asset=condition_prediction_genes, blocking=True, partitions_def=d_partitions,
                description="Every class of the D task has at least the minimum number of samples (gene features), "
                "recounted from the stored per-sample labels; the recount equals the recorded counts and the fit's "
                "samples and confusion-matrix true classes.")
def condition_genes_class_minimums(context, settings: GenebenchSettings) -> dg.AssetCheckResult:
    doc = read_result(settings, "condition_prediction_genes", context.partition_key)
    recount, problems = condition_prediction.recounted_class_problems(doc, [("genes", doc.get("genes"))])
    return dg.AssetCheckResult(passed=not problems, metadata={"class_counts": dg.MetadataValue.json(recount),
                                                              "problems": dg.MetadataValue.json(problems)},
                               description=f"{doc['task_id']}: {problems[0]}" if problems else None)


categories_gene_job = dg.define_asset_job(
    "categories_gene_job", selection=[cross_tissue_gene_folds, cross_tissue_gene_transfer],
    description="Category C methods A and B with gene features (demo / live / mirror sources), per C task.")
categories_gene_d_job = dg.define_asset_job(
    "categories_gene_d_job", selection=[condition_prediction_genes],
    description="Category D tasks with gene features (demo / live / mirror sources), per D task.")
