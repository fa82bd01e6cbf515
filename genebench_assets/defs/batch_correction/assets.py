"""J3 batch correction and the A1 variants (issue 21) on the gene-level sources (demo / live / mirror).
Science: science/batch_correction/ (what seed and strict fit: corrections.py's docstring; docs/analyses.md).

- ``batch_corrected_features``: per LOMO fold (and per Category B pair for limma) the corrected features of
  the fold's samples and what entered the fit; blocking check ``batch_correction_test_labels_never_enter``
  (checks.py) on it;
- ``batch_correction_comparison``: reads them through the read gate: J3 Category A (none / limma_rbe /
  combat_seq) and B (none / limma_rbe) in the published layout, and the A1 ComBat variant
  (``A1_combat_baseline_results.json`` layout) for the ComBat tissue;
- ``a1_iss_only_results``: the A1 task without the MHU missions, its own LOMO folds
  (``A1_iss_only_baseline_results.json`` layout)."""


import dataclasses
from datetime import datetime, timezone

import dagster as dg
import pandas as pd

from genebench_assets.defs.gating.tissue_inputs import load_tissue, lomo_folds_data_version, read_checked_folds
from genebench_assets.defs.lineage.code_versions import code_version_of
from genebench_assets.defs.lineage.provenance import combined_version, provenance_metadata
from genebench_assets.defs.models.assets import ModelSettings
from genebench_assets.defs.runtime.partitions import by_tissue, study_rollup_condition, tissue_partitions
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.defs.sources.assets import raw_counts
from genebench_assets.defs.tasks.assets import lomo_folds
from genebench_assets.science.optional_extras import MissingExtra, installed, require_extra

FEATURES = "batch_corrected_features"
COMBAT_TISSUES = ("liver",)  # ComBat-seq as published: the A1 tissue only (J3 combat_seq, A1_combat)
STORED_METHODS = ("limma_rbe", "combat_seq")


@dataclasses.dataclass
class CorrectionInputs:
    expression: pd.DataFrame  # log2, genes observed in every LOMO sample
    counts: pd.DataFrame  # integer raw counts, genes counted in every sample of the count files
    batch_of: pd.Series  # sample -> mission
    seed_ids: dict[str, list[str]]  # method -> the samples the seed's one fit saw
    metadata: pd.DataFrame
    upstream: list[dict]
    raw_files: list[dict]
    missions: list[str]


def correction_inputs(store, catalog, tissue: str) -> CorrectionInputs:
    """The promoted studies of the tissue (LOMO missions) and their raw count files (sha256-verified)."""
    from genebench_assets.science.batch_correction.corrections import integer_counts
    from genebench_assets.science.tasks.folds import _prepare_metadata, observed_genes
    from genebench_assets.science.tasks.leakage_checks import raw_counts_from_files

    data = load_tissue(store, catalog, tissue)
    meta = _prepare_metadata(data.metadata, tissue)
    meta = meta[meta["mission"].isin(data.missions)]
    expr = data.expression.copy()
    expr.columns = expr.columns.astype(str)
    kept = [s for s in meta.index[~meta["excluded"]] if s in expr.columns]
    expression = expr.loc[observed_genes(expr, kept), kept]
    counts = raw_counts_from_files(data.raw_files)
    counts.columns = counts.columns.astype(str)
    in_files = [s for s in meta.index if s in counts.columns]  # the seed: every sample of the count files
    counts = integer_counts(counts[in_files]) if in_files else counts
    return CorrectionInputs(expression, counts, meta["mission"], {"limma_rbe": kept, "combat_seq": in_files},
                            meta, data.upstream, data.raw_files, list(data.missions))


def correction_matrix(inputs: CorrectionInputs, method: str) -> pd.DataFrame:
    return inputs.counts if method == "combat_seq" else inputs.expression


def methods_for(tissue: str) -> tuple[str, ...]:
    return STORED_METHODS if tissue in COMBAT_TISSUES else ("limma_rbe",)


def pair_folds(inputs: CorrectionInputs, catalog, tissue: str, protocol: str):
    """Category B pairs (the J3 script's pairwise transfer), the fold builder of defs/transfer."""
    from genebench_assets.science.tasks.transfer_folds import build_pair_folds

    return build_pair_folds(inputs.expression, inputs.metadata.reset_index(), tissue=tissue,
                            task_id=catalog.task_ids[tissue], missions=inputs.missions, protocol=protocol)


def features_data_version(store, tissue: str) -> str:
    return store.sha256(FEATURES, tissue, "manifest", ext="json")[:16]


def _simulated(raw_files) -> bool:
    return any(f.get("source_mode") == "demo" for f in raw_files)


@dg.asset(
    code_version=code_version_of(__file__, "batch_corrected_features"),
    group_name="batch_correction",
    partitions_def=tissue_partitions,
    deps=[lomo_folds, dg.AssetDep(raw_counts, partition_mapping=by_tissue)],
    # Automated only where it can run: without the optional extra (inmoose, GPL) the daemon would launch a run
    # that fails on liver every time; asked for explicitly, it stops in one line naming the extra.
    automation_condition=study_rollup_condition() if installed("batch-correction") else None,
    description="Issue 21 (J3): per LOMO fold, and per Category B pair for limma, the batch-corrected features of "
    "the fold's samples - limma-style removeBatchEffect on log2 expression (every tissue) and ComBat-seq "
    "(inmoose) on counts (liver, as published) - with what entered each fit. seed: one fit on every sample of "
    "the tissue, test mission included, as published; strict: fitted on the fold's training samples, the test "
    "mission moved toward the training reference from its own unlabelled samples. No label enters either.",
)
def batch_corrected_features(context: dg.AssetExecutionContext, settings: GenebenchSettings) -> dg.MaterializeResult:
    from genebench_assets.science.batch_correction.corrections import correct_fold

    tissue = context.partition_key
    if "combat_seq" in methods_for(tissue):  # inmoose: an optional extra (science/optional_extras.py)
        try:
            require_extra("batch-correction", f"batch_corrected_features [{tissue}]")
        except MissingExtra as exc:
            raise dg.Failure(str(exc)) from None
    store = settings.table_store()
    folds = [f for f in read_checked_folds(context, store, tissue) if not f.holdout]  # the read gate
    inputs = correction_inputs(store, settings.catalog(), tissue)
    pairs = pair_folds(inputs, settings.catalog(), tissue, settings.protocol)
    entries, shas = [], []
    for method in methods_for(tissue):
        cache: dict = {}
        work = [("lomo", f) for f in folds] + ([("pair", f) for f in pairs] if method == "limma_rbe" else [])
        for kind, fold in work:
            frame, record = correct_fold(method, correction_matrix(inputs, method), inputs.batch_of, fold,
                                         settings.protocol, inputs.seed_ids[method], cache=cache)
            _, sha = store.write_frame(frame, FEATURES, tissue, method, fold.fold_id)
            shas.append(sha)
            entries.append({"method": method, "kind": kind, "fold": fold.to_dict(), "record": record.to_dict(),
                            "sha256": sha, "n_genes": int(frame.shape[0])})
    manifest = {"tissue": tissue, "protocol": settings.protocol, "entries": entries,
                "lomo_folds_version": lomo_folds_data_version(store, tissue)}
    _, sha = store.write_json(manifest, FEATURES, tissue, "manifest")
    counts = pd.DataFrame([{"method": e["method"], "kind": e["kind"], "fold": e["fold"]["fold_id"],
                            "fitted_on": len(e["record"]["fitted_on"]), "labels_from": len(e["record"]["labels_from"]),
                            "test_transform": e["record"]["test_transform"]} for e in entries])
    from genebench_assets.science.markdown_tables import markdown_table

    upstream = [*inputs.upstream, {"asset": "lomo_folds", "partition": tissue,
                                   "data_version": manifest["lomo_folds_version"]}]
    metadata = {"protocol": settings.protocol, "sha256": sha, "methods": ", ".join(methods_for(tissue)),
                "n_corrections": len(entries), "simulated": _simulated(inputs.raw_files),
                "fits": dg.MetadataValue.md(markdown_table(counts.columns.tolist(), counts.values.tolist()) if len(counts) else "none"),
                **provenance_metadata(upstream=upstream, raw_files=inputs.raw_files, protocol=settings.protocol)}
    return dg.MaterializeResult(data_version=dg.DataVersion(sha[:16]), metadata=metadata)


def read_checked_features(context, store, tissue: str) -> dict:
    """The manifest of batch_corrected_features through the read gate: its blocking check passed on the
    version on disk, under this protocol; otherwise one line, nothing read."""
    from genebench_assets.defs.gating.read_gate import require_checked_inputs

    version = features_data_version(store, tissue) if store.exists(FEATURES, tissue, "manifest", ext="json") else "none"
    require_checked_inputs(context, [(FEATURES, tissue, version)], protocol=store.protocol)
    return store.read_json(FEATURES, tissue, "manifest")


def _models(model_settings: ModelSettings, published) -> list[str]:
    chosen = [m for m in published if m in model_settings.models]
    return chosen or list(published)


@dg.asset(
    code_version=code_version_of(__file__, "batch_correction_comparison"),
    group_name="batch_correction",
    partitions_def=tissue_partitions,
    deps=[batch_corrected_features, lomo_folds],
    automation_condition=study_rollup_condition(),
    description="Issue 21: J3 - LOMO (Category A) and pairwise transfer (Category B) PCA-LR AUROC on the uncorrected, "
    "removeBatchEffect and ComBat-seq features (J3_batch_correction_comparison.json layout for this tissue), and "
    "the A1 ComBat variant on the A1 folds (A1_combat_baseline_results.json layout). Reads the corrected "
    "features only if their label-blindness check passed.",
)
def batch_correction_comparison(context: dg.AssetExecutionContext, settings: GenebenchSettings,
                                model_settings: ModelSettings) -> dg.MaterializeResult:
    from genebench_assets.science.batch_correction import evaluation as E
    from genebench_assets.science.protocols import submission_randomness
    from genebench_assets.science.tasks.folds import Fold

    tissue = context.partition_key
    store = settings.table_store()
    manifest = read_checked_features(context, store, tissue)
    inputs = correction_inputs(store, settings.catalog(), tissue)
    seed = model_settings.seed
    a_scores: dict[str, dict[str, float]] = {"none": {}}
    b_pairs: dict[str, list] = {"none": [], "limma_rbe": []}
    combat_rows: dict[str, list] = {}
    # run_baselines' bootstrap and permutations: default_rng(42) under seed (protocols.submission_randomness)
    randomness = submission_randomness(settings.protocol)
    done_none = set()
    for i, e in enumerate(manifest["entries"]):
        fold = Fold.from_dict(e["fold"])
        frame = store.read_frame(FEATURES, tissue, e["method"], fold.fold_id)
        score = E.j3_fold_auroc if e["kind"] == "lomo" else E.j3_pair_auroc
        if e["kind"] == "lomo":
            a_scores.setdefault(e["method"], {})[fold.test_mission] = score(frame, fold, seed=seed)
        else:
            b_pairs[e["method"]].append(_pair_row(fold, score(frame, fold, seed=seed)))
        if fold.fold_id not in done_none:  # the uncorrected baseline on the same fold
            done_none.add(fold.fold_id)
            plain = inputs.expression[[*fold.train_ids, *fold.test_ids]]
            if e["kind"] == "lomo":
                a_scores["none"][fold.test_mission] = E.j3_fold_auroc(plain, fold, seed=seed)
            else:
                b_pairs["none"].append(_pair_row(fold, E.j3_pair_auroc(plain, fold, seed=seed)))
        if e["method"] == "combat_seq":
            for model in _models(model_settings, E.COMBAT_MODELS):
                combat_rows.setdefault(model, []).append(
                    E.variant_fold_result(frame, fold, model, randomness=randomness, seed=seed, fold_index=i))
    cat_a = E.j3_tissue(tissue, {c: E.j3_condition(a_scores[c]) for c in E.J3_CONDITIONS_A if c in a_scores})
    cat_b = E.j3_tissue(tissue, {c: E.j3_pairs(b_pairs[c]) for c in E.J3_CONDITIONS_B})
    stamp = datetime.now(timezone.utc).replace(tzinfo=None).isoformat()
    out = {"tissue": tissue, "protocol": settings.protocol, "simulated": _simulated(inputs.raw_files),
           "J3_batch_correction_comparison": E.j3_published({tissue: cat_a}, {tissue: cat_b}, timestamp=stamp),
           "A1_combat_baseline_results": E.a1_combat_published(combat_rows) if combat_rows else None}
    _, sha = store.write_json(out, "batch_correction_comparison", tissue)
    upstream = [*inputs.upstream, {"asset": FEATURES, "partition": tissue,
                                   "data_version": features_data_version(store, tissue)}]
    metadata = {"protocol": settings.protocol, "sha256": sha, "simulated": out["simulated"],
                "j3_category_a": dg.MetadataValue.json(cat_a), "j3_summary": dg.MetadataValue.json(
                    out["J3_batch_correction_comparison"]["summary"])}
    for c in E.J3_CONDITIONS_A:
        if c in cat_a and cat_a[c]["mean_auroc"] is not None:
            metadata[f"j3_mean_auroc_{c}"] = float(cat_a[c]["mean_auroc"])
    for model, r in (out["A1_combat_baseline_results"] or {}).items():
        metadata[f"a1_combat_mean_auroc_{model}"] = float(r["mean_auroc"])
    metadata.update(provenance_metadata(upstream=upstream, raw_files=inputs.raw_files, protocol=settings.protocol))
    return dg.MaterializeResult(data_version=dg.DataVersion(combined_version([sha])), metadata=metadata)


def _pair_row(fold, auroc: float) -> dict:
    (train,) = fold.train_missions
    return {"train": train, "test": fold.test_mission, "auroc": auroc, "n_train": fold.n_train, "n_test": fold.n_test}


@dg.asset(
    code_version=code_version_of(__file__, "a1_iss_only_results"),
    group_name="batch_correction",
    partitions_def=tissue_partitions,
    deps=[lomo_folds],
    automation_condition=study_rollup_condition(),
    description="Issue 21: the A1 (liver) task on the NASA Rodent Research missions only - the JAXA MHU missions left "
    "out of every fold - with its own LOMO folds (the Category A fold builder, this protocol) and the published "
    "models (A1_iss_only_baseline_results.json layout). Other tissues: recorded as not applicable.",
)
def a1_iss_only_results(context: dg.AssetExecutionContext, settings: GenebenchSettings,
                        model_settings: ModelSettings) -> dg.MaterializeResult:
    from genebench_assets.science.batch_correction import evaluation as E
    from genebench_assets.science.protocols import submission_randomness
    from genebench_assets.science.tasks.folds import build_lomo_folds

    tissue = context.partition_key
    store = settings.table_store()
    catalog = settings.catalog()
    lomo = read_checked_folds(context, store, tissue)  # the read gate: the variant only runs on checked A folds
    if catalog.task_ids.get(tissue) != "A1":
        out = {"tissue": tissue, "protocol": settings.protocol, "applicable": False}
        _, sha = store.write_json(out, "a1_iss_only_results", tissue)
        return dg.MaterializeResult(data_version=dg.DataVersion(sha[:16]),
                                    metadata={"applicable": False, "why": "the ISS-only variant is of A1 (liver)"})
    data = load_tissue(store, catalog, tissue)
    missions = E.iss_only_missions(data.missions)
    folds = build_lomo_folds(data.expression, data.metadata, tissue=tissue, task_id="A1", missions=missions,
                             protocol=settings.protocol)
    # its own folds, yet the same samples as the checked A1 folds for every mission they share
    by_mission = {f.test_mission: f for f in lomo if not f.holdout}
    for f in folds:
        ref = by_mission.get(f.test_mission)
        if ref is None or set(f.test_ids) != set(ref.test_ids) or not set(f.train_ids) <= set(ref.train_ids):
            raise dg.Failure(f"a1_iss_only_results [{tissue}]: fold {f.fold_id} does not match the checked lomo_folds")
    randomness = submission_randomness(settings.protocol)
    rows: dict[str, list] = {}
    for model in _models(model_settings, E.ISS_ONLY_MODELS):
        for i, fold in enumerate(folds):
            rows.setdefault(model, []).append(E.variant_fold_result(data.expression, fold, model, randomness=randomness,
                                                                    seed=model_settings.seed, variance_filter=False,
                                                                    fold_index=i))
    published = E.iss_only_published(rows, missions=missions)
    out = {"tissue": tissue, "protocol": settings.protocol, "applicable": True, "simulated": _simulated(data.raw_files),
           "excluded_missions": sorted(set(data.missions) - set(missions)), "skipped": [s.to_dict() for s in folds.skipped],
           "A1_iss_only_baseline_results": published, "folds": rows}
    _, sha = store.write_json(out, "a1_iss_only_results", tissue)
    upstream = [*data.upstream, {"asset": "lomo_folds", "partition": tissue,
                                 "data_version": lomo_folds_data_version(store, tissue)}]
    metadata = {"protocol": settings.protocol, "sha256": sha, "missions": ", ".join(missions),
                "excluded_missions": ", ".join(out["excluded_missions"]), "best_model": str(published["best_model"]),
                "verdict": published["go_nogo"]["verdict"],
                **{f"mean_auroc_{m}": float(r["mean_auroc"]) for m, r in published["model_results"].items()},
                **provenance_metadata(upstream=upstream, raw_files=data.raw_files, protocol=settings.protocol)}
    return dg.MaterializeResult(data_version=dg.DataVersion(sha[:16]), metadata=metadata)


J3_FILE = "J3_batch_correction_comparison"


def comparison_version(store, tissue: str) -> str:
    """The data version batch_correction_comparison recorded for a tissue: combined_version of its JSON's sha256."""
    return combined_version([store.sha256("batch_correction_comparison", tissue, ext="json")])


@dg.asset(
    code_version=code_version_of(__file__, "j3_batch_correction_summary"),
    group_name="batch_correction",
    deps=[batch_correction_comparison],
    description="Issue 21 (J3): the one published file, J3_batch_correction_comparison.json, over every tissue "
    "whose batch_correction_comparison exists (category_a / category_b per tissue, the deltas and the H2 verdict "
    "over all of them, as batch_correction_eval.run_evaluation computes them). Reads each tissue's comparison "
    "through the read gate (its latest materialization, under this protocol, is the file on disk).",
)
def j3_batch_correction_summary(context: dg.AssetExecutionContext, settings: GenebenchSettings) -> dg.MaterializeResult:
    from genebench_assets.defs.gating.read_gate import require_checked_inputs
    from genebench_assets.science.batch_correction import evaluation as E
    from genebench_assets.science.storage.atomic_files import write_json

    store = settings.table_store()
    tissues = [t for t in settings.catalog().tissues if store.exists("batch_correction_comparison", t, ext="json")]
    if not tissues:
        raise dg.Failure("j3_batch_correction_summary: no tissue has a batch_correction_comparison under the "
                         f"{settings.protocol} protocol yet; materialize it first (it follows batch_corrected_features)")
    require_checked_inputs(context, [("batch_correction_comparison", t, comparison_version(store, t)) for t in tissues],
                           protocol=settings.protocol)
    per_tissue = {t: store.read_json("batch_correction_comparison", t) for t in tissues}
    cat_a = {t: d[J3_FILE]["category_a"][t] for t, d in per_tissue.items() if t in d[J3_FILE]["category_a"]}
    cat_b = {t: d[J3_FILE]["category_b"][t] for t, d in per_tissue.items() if t in d[J3_FILE]["category_b"]}
    stamp = datetime.now(timezone.utc).replace(tzinfo=None).isoformat()
    doc = E.j3_published(cat_a, cat_b, timestamp=stamp)
    _, sha = store.write_json({k: v for k, v in doc.items() if k != "timestamp"}, "j3_batch_correction_summary")
    out = write_json(doc, store.path("j3_batch_correction_summary", J3_FILE, ext="json"), sort_keys=False, indent=2)
    missing = [t for t in settings.catalog().tissues if t not in tissues]
    upstream = [{"asset": "batch_correction_comparison", "partition": t, "data_version": comparison_version(store, t)}
                for t in tissues]
    return dg.MaterializeResult(data_version=dg.DataVersion(sha[:16]), metadata={
        "protocol": settings.protocol, "result_file": str(out), "tissues": ", ".join(tissues),
        "tissues_without_comparison": ", ".join(missing) or "none",
        "simulated": any(d.get("simulated") for d in per_tissue.values()),
        "summary": dg.MetadataValue.json(doc["summary"]),
        **provenance_metadata(upstream=upstream, raw_files=[], protocol=settings.protocol)})
