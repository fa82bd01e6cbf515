"""Category B cross-mission transfer (SPEC §8) and the negative controls NC1 / NC2, per tissue.

transfer_pair_folds -> (blocking checks) -> transfer_predictions -> transfer_evaluation; and
negative_controls on the Category A folds. Tables live in the protocol's table store, like lomo_folds;
the per-study inputs are read through defs/gating/tissue_inputs.py (promoted study versions only)."""


import dagster as dg
import pandas as pd

from genebench_assets.defs.lineage.code_versions import code_version_of
from genebench_assets.defs.expression.assets import normalized_expression
from genebench_assets.defs.models.plugin_fits import configured_plugins, plugin_metadata, versioned_data_version
from genebench_assets.defs.models.resources import ModelSettings
from genebench_assets.defs.pathways.assets import gene_sets, nes_conservation, pathway_scores
from genebench_assets.defs.pathways.resources import GeneSetSettings
from genebench_assets.defs.sources.resources import OsdrSource
from genebench_assets.defs.runtime.partitions import by_tissue, study_rollup_condition, tissue_partitions
from genebench_assets.defs.lineage.provenance import frame_markdown, provenance_metadata
from genebench_assets.defs.runtime.settings import GenebenchSettings, default_shared_data, from_env
from genebench_assets.defs.sources.assets import raw_counts, sample_metadata
from genebench_assets.defs.tasks.assets import lomo_folds
from genebench_assets.defs.gating.tissue_inputs import load_tissue, read_checked_folds
from genebench_assets.science.evaluation.over_seeds import seed_note, with_seed
from genebench_assets.science.markdown_tables import markdown_table
from genebench_assets.science.models.plugin_scope import skip_note

PAIR_FOLDS = "transfer_pair_folds"
PAIR_RAW_FILES = "transfer_pair_folds_raw_files"  # the raw files the folds' study versions came from


def read_pair_folds(store, tissue: str, context=None) -> tuple[dict, list]:
    """The pair folds; with a reader's `context`, through the read gate first (their checks read them without)."""
    from genebench_assets.science.tasks.folds import Fold

    if context is not None:
        from genebench_assets.defs.gating.read_gate import require_checked_inputs

        on_disk = store.sha256(PAIR_FOLDS, tissue, ext="json")[:16] if store.exists(PAIR_FOLDS, tissue, ext="json") else "none"
        require_checked_inputs(context, [(PAIR_FOLDS, tissue, on_disk)], protocol=store.protocol)
    payload = store.read_json(PAIR_FOLDS, tissue)
    return payload, [Fold.from_dict(d) for d in payload["folds"]]


def _pair_expression(store, tissue: str, payload: dict) -> pd.DataFrame:
    """The tissue's expression from exactly the promoted study versions the pair folds recorded (read
    directly, not through load_tissue, so B depends on no Category A asset); refused if one changed."""
    frames, changed = [], []
    for mission, recorded in sorted(payload["study_versions"].items()):
        version = store.promoted(tissue, mission)
        if version is None or version.version != recorded:
            changed.append(f"{mission}: {recorded} -> {version.version if version else None}")
            continue
        frames.append(store.read_promoted_frame(version, "normalized_expression"))
    if changed:
        raise dg.Failure(f"{tissue}: {PAIR_FOLDS} was built from other study versions than the promoted ones "
                         f"({'; '.join(changed)}); re-materialize {PAIR_FOLDS}")
    return pd.concat(frames, axis=1, join="outer")


@dg.asset(
    code_version=code_version_of(__file__, "transfer_pair_folds"),
    group_name="transfer",
    partitions_def=tissue_partitions,
    deps=[
        dg.AssetDep(normalized_expression, partition_mapping=by_tissue),
        dg.AssetDep(sample_metadata, partition_mapping=by_tissue),
        dg.AssetDep(raw_counts, partition_mapping=by_tissue),  # its raw_files table: the checks' evidence
    ],
    automation_condition=study_rollup_condition(),
    description="Category B (SPEC §8): one fold `pair_{TRAIN}_{TEST}` per ordered pair of the tissue's "
    "missions, binary samples; low-expression filter (strict), variance filter and z-score fitted on the "
    "training mission only (the Category A fold builder on the two missions). Pairs whose training "
    "mission has < 3 samples of a class are skipped with the reason.",
)
def transfer_pair_folds(context: dg.AssetExecutionContext, settings: GenebenchSettings) -> dg.MaterializeResult:
    from genebench_assets.science.tasks.transfer_folds import build_pair_folds, cross_mission_task_id

    tissue = context.partition_key
    catalog = settings.catalog()
    store = settings.table_store()
    data = load_tissue(store, catalog, tissue, instance=context.instance)  # verifies and promotes the studies
    task_id = cross_mission_task_id(catalog.task_ids[tissue])
    folds = build_pair_folds(data.expression, data.metadata, tissue=tissue, task_id=task_id,
                             missions=data.missions, protocol=settings.protocol)
    payload = {"tissue": tissue, "task_id": task_id, "protocol": settings.protocol,
               "study_versions": data.study_versions, "folds": [f.to_dict() for f in folds],
               "skipped": [s.to_dict() for s in folds.skipped]}
    _, sha = store.write_json(payload, PAIR_FOLDS, tissue)
    store.write_json(data.raw_files, PAIR_RAW_FILES, tissue)
    table = pd.DataFrame([{"pair": f.fold_id, "n_train": f.n_train, "n_test": f.n_test, "n_genes": len(f.genes),
                           "train": f"{f.train_label_distribution['Flight']}F/{f.train_label_distribution['Ground']}G",
                           "test": f"{f.test_label_distribution['Flight']}F/{f.test_label_distribution['Ground']}G"}
                          for f in folds])
    context.log.info(f"{tissue}: {len(folds)} pair folds, {len(folds.skipped)} skipped ({settings.protocol})")
    return dg.MaterializeResult(
        data_version=dg.DataVersion(sha[:16]),
        metadata={
            "task_id": task_id, "protocol": settings.protocol, "n_pairs": len(folds),
            "table": str(store.path(PAIR_FOLDS, tissue, ext="json")),
            "pairs": dg.MetadataValue.md(frame_markdown(table.set_index("pair")) if len(table) else "(none)"),
            "skipped_pairs": dg.MetadataValue.json(payload["skipped"]),
            "study_versions": dg.MetadataValue.json(data.study_versions), "sha256": sha,
            **provenance_metadata(upstream=data.upstream, raw_files=data.raw_files, protocol=settings.protocol),
        },
    )


@dg.asset(
    code_version=code_version_of(__file__, "transfer_predictions"),
    group_name="transfer",
    partitions_def=tissue_partitions,
    # Pathway features read the gene-set files (strict: GSVA inside the pair, reference = training
    # mission) or, under seed, the stored per-study GSVA scores: both declared.
    deps=[transfer_pair_folds, gene_sets,
          *(dg.AssetDep(a, partition_mapping=by_tissue) for a in (normalized_expression, pathway_scores))],
    automation_condition=study_rollup_condition(),
    description="Scores of every pair's test samples by PCA-LR (SPEC §6, fitted on the training mission) and "
    "by the LFC-direction method (u = unit(mean Flight - mean Ground) on the training mission, score = "
    "(x - mean Ground_train) . u), per feature set of `model_settings.feature_sets`: the pair's genes (log2), "
    "and pathway scores built by Category A's pathway builder on the same pair fold (strict: GSVA with the "
    "kernel reference = the training mission's samples the fold recorded; seed: the stored per-study GSVA).",
)
def transfer_predictions(context: dg.AssetExecutionContext, settings: GenebenchSettings,
                         model_settings: ModelSettings, gene_set_settings: GeneSetSettings,
                         osdr_source: OsdrSource) -> dg.MaterializeResult:
    from types import SimpleNamespace

    from genebench_assets.defs.pathways.fold_features import pathway_fold_matrices
    from genebench_assets.science.evaluation.transfer_evaluation import TRANSFER_MODELS, pair_predictions

    tissue = context.partition_key
    store = settings.table_store()
    payload, folds = read_pair_folds(store, tissue, context)
    expression = _pair_expression(store, tissue, payload)
    feature_sets = [f for f in ("genes", "pathways") if f in model_settings.feature_sets]
    unknown = sorted(set(model_settings.feature_sets) - {"genes", "pathways"})
    if unknown or not feature_sets:
        raise dg.Failure(f"model_settings.feature_sets = {list(model_settings.feature_sets)}: "
                         f"unknown {unknown} (known: genes, pathways)")
    # The one pathway fold builder of Category A (defs/pathways/fold_features.py); it needs the
    # tissue name and the expression of the pair's promoted study versions.
    tissue_view = SimpleNamespace(tissue=tissue, expression=expression)
    collection = gene_set_settings.primary(osdr_source.mode, osdr_source.demo_root(settings.data_dir)) \
        if "pathways" in feature_sets else None
    # Plug-ins (issue 20): named and versioned before any fit (a bad spec ends the run in one line).
    plugins = configured_plugins(model_settings, reserved=TRANSFER_MODELS)
    built: dict[str, tuple] = {}  # each pair's pathway matrices, built once for the built-ins and the plug-ins

    def pathway_matrices(fold):
        if fold.fold_id not in built:
            built[fold.fold_id] = pathway_fold_matrices(fold, tissue_view, settings, gene_set_settings, osdr_source,
                                                        collection)
        return built[fold.fold_id]

    # Seeds (issue 20, `--seeds`): each a full run of the fits; with one (the default, 42) the table is as
    # before, with several it gets a `seed` column and transfer_evaluation reports mean ± sd over seeds.
    seeds = model_settings.run_seeds()
    preds = pd.concat([with_seed(pair_predictions(folds, expression, TRANSFER_MODELS, feature_sets=feature_sets,
                                                  pathway_matrices=pathway_matrices, seed=seed), seed, seeds)
                       for seed in seeds], ignore_index=True)
    if plugins:  # a plug-in's rows after the built-ins'; nothing is written before every fit passed
        plugin_rows, plugin_cost, label_blind = _transfer_plugin_fits(
            context, model_settings, plugins, folds, expression, feature_sets, pathway_matrices)
        preds = pd.concat([preds, plugin_rows], ignore_index=True)
    else:
        plugin_cost, label_blind = {}, {}
    _, sha = store.write_frame(preds, "transfer_predictions", tissue)
    # The plug-ins that made these predictions and the seeds (read by transfer_evaluation's results records).
    store.write_json({"plugins": plugin_metadata(plugins), "fit_cost": plugin_cost, "seeds": seeds},
                     PREDICTION_PLUGINS, tissue)
    models = [*TRANSFER_MODELS, *plugins]
    context.log.info(f"{tissue}: {len(folds)} pairs x {feature_sets} x {models}")
    return dg.MaterializeResult(
        data_version=dg.DataVersion(versioned_data_version(sha, plugins)),
        metadata={"models": models, "seeds": dg.MetadataValue.json(seeds),
                  "plugins": dg.MetadataValue.json(plugin_metadata(plugins)),
                  "label_blind": dg.MetadataValue.json(label_blind), "fit_cost": dg.MetadataValue.json(plugin_cost),
                  "feature_sets": feature_sets,
                  "pathway_collection": collection or "(no pathway features)",
                  "pathway_features": ("GSVA in the pair, reference = training mission" if settings.protocol == "strict"
                                       else "stored per-study GSVA (seed)") if collection else "none",
                  "n_pairs": len(folds), "n_rows": len(preds), "sha256": sha,
                  "table": str(store.path("transfer_predictions", tissue))},
    )


PREDICTION_PLUGINS = "transfer_prediction_plugins"  # sidecar of transfer_predictions: plug-ins, fit cost, seeds


def _transfer_plugin_fits(context, model_settings, plugins: dict, folds, expression, feature_sets,
                          pathway_matrices) -> tuple[pd.DataFrame, dict, dict]:
    """Every configured plug-in on every pair, feature set and seed, through the fit workers, and its positive
    control (Category A's: the plug-in on a planted-label copy of one pair, first feature set and seed, rows
    ``positive_control:<name>``): (prediction rows, fit cost per plug-in, label_blind). One-line failure on any
    fault."""
    from genebench_assets.defs.models.plugin_fits import PluginFit, positive_control_fit, run_plugin_fits
    from genebench_assets.science.evaluation.lomo_evaluation import POSITIVE_CONTROL_PREFIX, positive_control_fold
    from genebench_assets.science.evaluation.transfer_evaluation import PREDICTION_COLUMNS, plugin_matrices, score_rows
    from genebench_assets.science.tasks.folds import fold_test_labels

    seeds = model_settings.run_seeds()
    fits, keys, control, control_keys = [], [], [], []
    control_fold = positive_control_fold(folds)
    for fold in folds:
        for feature_set in feature_sets:
            X_fit, y_fit, X_test = plugin_matrices(fold, expression, feature_set, pathway_matrices)
            for seed in seeds:
                for name in plugins:
                    fits.append(PluginFit(name, f"fold {fold.fold_id} ({feature_set}{seed_note(seed, seeds)})", X_fit,
                                          y_fit.to_numpy(), X_test, seed=seed))
                    keys.append((fold, feature_set, name, list(X_test.index), seed))
            if fold.fold_id == control_fold and feature_set == feature_sets[0]:
                for name in plugins:  # after every plug-in's first fit, which the label-blindness probe takes
                    control.append(positive_control_fit(name, f"fold {fold.fold_id} ({feature_set})", X_fit, y_fit,
                                                         X_test, fold_test_labels(fold).loc[X_test.index], seeds[0]))
                    control_keys.append((fold, feature_set, f"{POSITIVE_CONTROL_PREFIX}{name}", list(X_test.index),
                                         seeds[0]))
    fits, keys = fits + control, keys + control_keys
    results, label_blind, cost = run_plugin_fits(context, model_settings, plugins, fits)
    frames = [with_seed(pd.DataFrame(score_rows(fold, fs, name, ids, res["scores"]), columns=PREDICTION_COLUMNS),
                        seed, seeds) for (fold, fs, name, ids, seed), res in zip(keys, results)]
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=PREDICTION_COLUMNS)), cost, label_blind


def _tissue_markdown(task_id, tissue, tissue_rows: pd.DataFrame) -> str:
    rows = []
    for _, r in tissue_rows.iterrows():
        lo, hi = r["mean_auroc_ci"]
        large_mean = "–" if r["large_mean_auroc"] is None or pd.isna(r["large_mean_auroc"]) else f"{r['large_mean_auroc']:.3f}"
        sd = r.get("sd_auroc_over_seeds")  # --seeds: the mean over seeds ± its sd
        seeds = f" ± {sd:.3f} ({r['n_seeds']} seeds)" if sd is not None and r.get("n_seeds", 1) > 1 else ""
        rows.append([r.get("feature_set", "genes"), r["model"], r["n_pairs"], f"{r['mean_auroc']:.3f}{seeds} [{lo:.3f}, {hi:.3f}]",
                     r["n_auroc_ge_0_70"], r["n_p_lt_0_05"],
                     f"{r['n_large_pairs']} / {large_mean} / {r['n_large_auroc_ge_0_70']} / {r['n_large_p_lt_0_05']}",
                     f"{r['pooled_auroc']:.3f} [{r['pooled_ci_lower']:.3f}, {r['pooled_ci_upper']:.3f}]",
                     "GO" if r["category_a_go"] else "NO-GO"])
    return "\n".join([f"### {task_id} {tissue} — cross-mission transfer (SPEC §8: no GO rule)", "", markdown_table(
        ["features", "model", "pairs", "mean AUROC [95% CI over pairs]", "AUROC>=0.70", "p<0.05",
         "pairs n_test>=10: n / mean / >=0.70 / p<0.05", "pooled AUROC [CI]", "Category A GO rule"], rows)])


@dg.asset(
    code_version=code_version_of(__file__, "transfer_evaluation"),
    group_name="transfer",
    partitions_def=tissue_partitions,
    deps=[transfer_predictions, transfer_pair_folds],
    automation_condition=study_rollup_condition(),
    description="SPEC §8 per pair: AUROC, bootstrap CI (2000), permutation p (1000) with SPEC §7's random "
    "streams; per tissue and model: mean AUROC with a bootstrap CI over pairs, counts of pairs with AUROC >= "
    "0.70 and with p < 0.05 (also for pairs with n_test >= 10), pooled AUROC; Category A's GO fields shown "
    "for comparison only (Category B has no GO rule).",
)
def transfer_evaluation(context: dg.AssetExecutionContext, settings: GenebenchSettings) -> dg.MaterializeResult:
    from genebench_assets.science.evaluation.transfer_evaluation import evaluate_pairs

    tissue = context.partition_key
    store = settings.table_store()
    payload, folds = read_pair_folds(store, tissue, context)
    preds = store.read_frame("transfer_predictions", tissue)
    pairs, tissue_rows = evaluate_pairs(preds, folds, protocol=settings.protocol)
    store.write_frame(pairs, "transfer_evaluation_pairs", tissue)
    _, sha = store.write_json(tissue_rows.to_dict(orient="records"), "transfer_evaluation", tissue)
    per_pair = pairs[["fold_id", "feature_set", "model", "auroc", "ci_lower", "ci_upper", "perm_p", "n_test"]].round(3)
    metadata = {
        "task_id": payload["task_id"], "protocol": settings.protocol, "sha256": sha,
        "summary": dg.MetadataValue.md(_tissue_markdown(payload["task_id"], tissue, tissue_rows)),
        "per_pair": dg.MetadataValue.md(frame_markdown(per_pair.set_index("fold_id"), max_rows=200)),
        "skipped_pairs": dg.MetadataValue.json(payload["skipped"]),
    }
    for _, r in tissue_rows.iterrows():
        metadata[f"mean_auroc_{r['feature_set']}_{r['model']}".replace(":", "_")] = float(r["mean_auroc"])
    upstream = [{"asset": a, "partition": tissue, "data_version": store.sha256(a, tissue, **kw)[:16]}
                for a, kw in (("transfer_predictions", {}), (PAIR_FOLDS, {"ext": "json"}))]
    used = _prediction_plugins(store, tissue)
    controls = _positive_controls(context, tissue, tissue_rows)
    if controls:  # issue 20: each plug-in's positive control, beside its rows in the summary table
        metadata["positive_control"] = dg.MetadataValue.json(controls)
    metadata.update(provenance_metadata(upstream=upstream, raw_files=store.read_json(PAIR_RAW_FILES, tissue),
                                        protocol=settings.protocol,
                                        extra={"plugins": used["plugins"]} if used["plugins"] else None))
    # Issue 20: one results record per (feature set, model) in <data_dir>/results/genelab/<B task>/.
    from genebench_assets.science.results.from_tasks import records_from_transfer
    from genebench_assets.science.results.record import write_record

    records = records_from_transfer(
        task_id=payload["task_id"], protocol=settings.protocol, pairs=pairs, tissue_rows=tissue_rows, preds=preds,
        folds_data_version=upstream[1]["data_version"], plugins=used["plugins"], plugin_cost=used["fit_cost"],
        code_version=context.assets_def.code_versions_by_key.get(context.asset_key) or "unknown",
        seeds=used.get("seeds") or [used.get("seed", 42)], source=f"transfer_predictions [{tissue}] ({settings.protocol})")
    paths = [write_record(settings.data_dir, r) for r in records]
    metadata["results_records"] = str(paths[0].parent) if paths else "none"
    return dg.MaterializeResult(data_version=dg.DataVersion(sha[:16]), metadata=metadata)


def _positive_controls(context, tissue: str, tissue_rows: pd.DataFrame) -> dict:
    """The plug-ins' positive controls of a tissue's evaluation (rows ``positive_control:<name>``)."""
    from genebench_assets.defs.models.plugin_fits import positive_control_outcome
    from genebench_assets.science.evaluation.lomo_evaluation import POSITIVE_CONTROL_PREFIX

    return positive_control_outcome(context, tissue, {str(r["model"])[len(POSITIVE_CONTROL_PREFIX):]: r["mean_auroc"]
                                     for _, r in tissue_rows.iterrows()
                                     if str(r["model"]).startswith(POSITIVE_CONTROL_PREFIX)})


def _prediction_plugins(store, tissue: str) -> dict:
    """The plug-ins transfer_predictions ran (its sidecar); none for a table written before plug-ins ran here."""
    from genebench_assets.science.storage.table_store import TableNotFoundError

    try:
        return store.read_json(PREDICTION_PLUGINS, tissue)
    except TableNotFoundError:
        return {"plugins": {}, "fit_cost": {}, "seeds": [42]}


class NesVsTransferConfig(dg.Config):
    feature_set: str = "genes"  # the published relation used B's gene-level PCA-LR mean AUROC
    model: str = "pca_lr"
    collection: str = ""  # empty: the primary gene-set collection (the first configured)


NES_VS_TRANSFER = "nes_conservation_vs_b_transfer"


@dg.asset(
    code_version=code_version_of(__file__, "nes_conservation_vs_b_transfer"),
    group_name="transfer",
    # Unpartitioned: reads every tissue partition of both (Dagster's default mapping to an unpartitioned asset).
    deps=[transfer_evaluation, nes_conservation],
    description="NES conservation vs cross-mission transfer (SPEC §8) from OUR assets: per tissue, the mean "
    "Spearman r of the missions' NES vectors (nes_conservation) and the tissue's Category B mean transfer "
    "AUROC (transfer_evaluation, PCA-LR on genes by default); Spearman rank correlation over every tissue "
    "that has both, reported with n and p, every catalog tissue listed (the ones lacking a value with what "
    "they lack). The published script hard-coded its AUROCs and dropped a tissue (issue 11 defect 6); the "
    "release-sourced reproduction of that file is `nes_conservation_vs_transfer` (group categories).",
)
def nes_conservation_vs_b_transfer(context: dg.AssetExecutionContext, config: NesVsTransferConfig,
                                   settings: GenebenchSettings, gene_set_settings: GeneSetSettings,
                                   osdr_source: OsdrSource) -> dg.MaterializeResult:
    from genebench_assets.science.categories.nes_transfer import rank_correlation
    from genebench_assets.science.storage.table_store import TableNotFoundError, TableStore

    store = settings.table_store()
    plain = TableStore(settings.data_dir)  # nes_conservation does not depend on the protocol
    collection = config.collection or gene_set_settings.primary(osdr_source.mode, osdr_source.demo_root(settings.data_dir))
    tissues = list(settings.catalog().tissues)
    nes, transfer, rows, upstream = {}, {}, [], []
    for tissue in tissues:
        row = {"tissue": tissue, "nes_mean_r": None, "n_nes_pairs": 0, "transfer_auroc": None, "transfer_ci": None,
               "n_transfer_pairs": 0}
        try:
            doc = plain.read_json("nes_conservation", tissue)
            upstream.append({"asset": "nes_conservation", "partition": tissue,
                             "data_version": plain.sha256("nes_conservation", tissue, ext="json")[:16]})
            if collection not in doc:
                raise dg.Failure(f"nes_conservation {tissue}: no collection {collection!r} (has {sorted(doc)}) in "
                                 f"{plain.path('nes_conservation', tissue, ext='json')}")
            row.update(nes_mean_r=doc[collection].get("mean"), n_nes_pairs=doc[collection].get("n_pairs", 0))
        except TableNotFoundError:
            row["nes_missing"] = "nes_conservation not materialized (genebench materialize --nes)"
        try:
            summary = store.read_json("transfer_evaluation", tissue)
            upstream.append({"asset": "transfer_evaluation", "partition": tissue,
                             "data_version": store.sha256("transfer_evaluation", tissue, ext="json")[:16]})
            hit = [r for r in summary if r.get("feature_set", "genes") == config.feature_set and r["model"] == config.model]
            if hit:
                row.update(transfer_auroc=float(hit[0]["mean_auroc"]), transfer_ci=list(hit[0]["mean_auroc_ci"]),
                           n_transfer_pairs=int(hit[0]["n_pairs"]))
            else:
                row["transfer_missing"] = f"no {config.feature_set}/{config.model} row in transfer_evaluation"
        except TableNotFoundError:
            row["transfer_missing"] = "transfer_evaluation not materialized (genebench materialize --categories)"
        nes[tissue], transfer[tissue] = row["nes_mean_r"], row["transfer_auroc"]
        rows.append(row)
    rc = rank_correlation(nes, transfer)
    rc["transfer_source"] = f"transfer_evaluation ({settings.protocol}, {config.feature_set}, {config.model})"
    doc = {"protocol": settings.protocol, "collection": collection, "feature_set": config.feature_set,
           "model": config.model, "tissues": rows, "rank_correlation": rc}
    _, sha = store.write_json(doc, NES_VS_TRANSFER)
    table = pd.DataFrame(rows).set_index("tissue")[["nes_mean_r", "n_nes_pairs", "transfer_auroc", "n_transfer_pairs"]]
    headline = (f"Spearman rho = {rc['rho']:.3f}, p = {rc['p']:.3f}, n = {rc['n']} tissues" if rc["rho"] is not None
                else f"not computed: {rc['note']}")
    if rc["excluded"]:
        context.log.warning(f"{NES_VS_TRANSFER}: tissues without both values: {rc['excluded']}")
    return dg.MaterializeResult(
        data_version=dg.DataVersion(sha[:16]),
        metadata={"spearman_rho": rc["rho"] if rc["rho"] is not None else float("nan"),
                  "spearman_p": rc["p"] if rc["p"] is not None else float("nan"), "n_tissues": rc["n"],
                  "rank_correlation": headline, "excluded_tissues": dg.MetadataValue.json(rc["excluded"]),
                  "tissues": dg.MetadataValue.md(frame_markdown(table.round(3))), "sha256": sha,
                  "table": str(store.path(NES_VS_TRANSFER, ext="json")),
                  **provenance_metadata(upstream=upstream, raw_files=[], protocol=settings.protocol)},
    )


class NegativeControlConfig(dg.Config):
    model: str = "pca_lr"
    # refits per fold for NC1 (GENEBENCH_NC1_PERMUTATIONS: `genebench materialize --categories` passes no run config)
    n_permutations: int = from_env("GENEBENCH_NC1_PERMUTATIONS", "100", int)
    housekeeping_symbols: str = ""  # empty: ../shared/data/gene_sets/housekeeping_mouse_58.txt
    symbol_map: str = ""  # empty: the release's processed/ensembl_symbol_map.csv


@dg.asset(
    code_version=code_version_of(__file__, "negative_controls"),
    group_name="transfer",
    partitions_def=tissue_partitions,
    deps=[
        lomo_folds,  # the Category A folds, and the study versions they were built from
        dg.AssetDep(normalized_expression, partition_mapping=by_tissue),
        dg.AssetDep(sample_metadata, partition_mapping=by_tissue),
        dg.AssetDep(raw_counts, partition_mapping=by_tissue),  # load_tissue reads its raw_files table
    ],
    automation_condition=study_rollup_condition(),
    description="Negative controls on the Category A folds (SPEC §8). NC1: the model refit on training labels "
    "permuted within the training set, AUROC on the true test labels; the null distribution is shown and must "
    "centre on 0.5, else flagged. NC2: the model on the 58 published housekeeping genes only (mapped to Ensembl "
    "ids through the release's symbol map); a mean AUROC outside [0.35, 0.65] is flagged, never passed silently.",
)
def negative_controls(context: dg.AssetExecutionContext, config: NegativeControlConfig,
                      settings: GenebenchSettings) -> dg.MaterializeResult:
    from pathlib import Path

    from genebench_assets.science.evaluation import lomo_evaluation, metrics
    from genebench_assets.science.evaluation.plots import png_markdown
    from genebench_assets.science.evaluation.transfer_evaluation import (
        housekeeping_folds, housekeeping_gene_ids, nc2_flag, null_centre_flag, null_histogram_png, predict_fold,
        null_aurocs, read_housekeeping_symbols, training_label_permutation_scores)
    from genebench_assets.science.protocols import evaluation_randomness
    from genebench_assets.science.tasks.folds import fold_test_labels

    tissue = context.partition_key
    store = settings.table_store()
    folds = [f for f in read_checked_folds(context, store, tissue) if not f.holdout]  # through the read gate
    data = load_tissue(store, settings.catalog(), tissue)  # checks they are lomo_folds' study versions
    mode = evaluation_randomness(settings.protocol)

    # NC1 — a computed null per fold; its predictions are stored (the check recomputes the null from them)
    null_scores = {f.fold_id: training_label_permutation_scores(
        f, data.expression, config.model, n_perm=config.n_permutations,
        randomness=metrics.Randomness(mode, fold_index=i)) for i, f in enumerate(folds)}
    nulls = {f.fold_id: null_aurocs(null_scores[f.fold_id], f) for f in folds}
    pooled_null = pd.Series([v for arr in nulls.values() for v in arr], dtype=float)
    nc1 = {"model": config.model, "n_permutations_per_fold": config.n_permutations,
           "per_fold": {k: null_centre_flag(v) for k, v in nulls.items()}, "pooled": null_centre_flag(pooled_null.to_numpy()),
           "null_scores": {k: {"sample_ids": list(map(str, v.columns)), "scores": v.to_numpy(dtype=float).tolist()}
                           for k, v in null_scores.items()}}
    png = null_histogram_png(nulls, title=f"NC1 {tissue}: {config.model} on permuted training labels")

    # NC2 — housekeeping genes only
    shared = Path(default_shared_data())
    hk_path = Path(config.housekeeping_symbols or shared / "gene_sets" / "housekeeping_mouse_58.txt")
    map_path = Path(config.symbol_map or shared / "genelab_release" / "processed" / "ensembl_symbol_map.csv")
    for what, p in (("housekeeping symbol list", hk_path), ("symbol map", map_path)):
        if not p.exists():
            raise dg.Failure(f"negative_controls: {what} not found at {p}")
    symbols = read_housekeeping_symbols(hk_path)
    ids, unmapped = housekeeping_gene_ids(symbols, pd.read_csv(map_path))
    nc2 = {"model": config.model, "n_symbols": len(symbols), "n_mapped_symbols": len(symbols) - len(unmapped),
           "unmapped_symbols": unmapped, "n_ensembl_ids": len(ids)}
    hk = [f for f in housekeeping_folds(folds, ids, data.expression) if f.genes]
    nc2["n_genes_in_matrix"] = max((len(f.genes) for f in hk), default=0)
    if not hk:
        nc2.update(mean_auroc=None, flag=f"not computable: none of the {len(ids)} housekeeping Ensembl ids is in "
                   f"the {tissue} expression matrix (simulated demo genes are not real Ensembl ids)")
    else:
        rows = []
        for i, f in enumerate(hk):
            scores, _ = predict_fold(f, data.expression, config.model)
            y = fold_test_labels(f).loc[scores.index].to_numpy()
            rows.append({"fold_id": f.fold_id, "n_genes": len(f.genes), **lomo_evaluation.evaluate_fold(
                y, scores.to_numpy(), randomness=mode, fold_index=i),
                "sample_ids": list(map(str, scores.index)), "scores": scores.to_numpy(dtype=float).tolist()})
        mean = float(pd.DataFrame(rows)["auroc"].mean())
        nc2.update(per_fold=rows, mean_auroc=mean, interval=[0.35, 0.65], flag=nc2_flag(mean))
    doc = {"tissue": tissue, "protocol": settings.protocol, "nc1": nc1, "nc2": nc2}
    _, sha = store.write_json(doc, "negative_controls", tissue)
    flags = [f"NC1: {nc1['pooled']['flag']}"] if nc1["pooled"]["flag"] else []
    flags += [f"NC2: {nc2['flag']}"] if nc2.get("flag") else []
    for flag in flags:
        context.log.warning(f"{tissue}: {flag}")
    return dg.MaterializeResult(
        data_version=dg.DataVersion(sha[:16]),
        metadata={
            "nc1_null_histogram": dg.MetadataValue.md(png_markdown(png, f"NC1 null {tissue}")),
            "nc1_null_mean": nc1["pooled"]["mean"], "nc1_centred_on_0_5": nc1["pooled"]["centred_on_0_5"],
            "nc2_mean_auroc": nc2["mean_auroc"] if nc2["mean_auroc"] is not None else float("nan"),
            "nc2_genes": nc2["n_genes_in_matrix"],
            "nc2_symbols_mapped": f"{nc2['n_mapped_symbols']} of {nc2['n_symbols']}",
            "flags": dg.MetadataValue.md("\n".join(f"- **{f}**" for f in flags) or "none"),
            "n_flags": len(flags), "sha256": sha, "table": str(store.path("negative_controls", tissue, ext="json")),
            "model_plugins": skip_note("NC1"),  # issue 20: the controls of one configured model
        },
    )
