"""Blocking leakage checks on the LOMO folds: a failure stops the predictions downstream.

Each wraps a pure function of science.tasks.leakage_checks and compares the folds with evidence the
fold builder did not use (the raw files, re-read and verified against their recorded sha256; the
expression values themselves); every fold must pass for the check to pass."""

from __future__ import annotations

import dagster as dg

from genebench_assets.defs.gating.check_results import to_check_result
from genebench_assets.defs.runtime.partitions import tissue_partitions
from genebench_assets.defs.pathways.resources import GeneSetSettings
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.defs.sources.resources import OsdrSource
from genebench_assets.defs.tasks.assets import lomo_folds
from genebench_assets.defs.gating.tissue_inputs import load_tissue
from genebench_assets.science.tasks import leakage_checks


def _folds(context, settings):
    from genebench_assets.science.tasks.folds import Fold

    store = settings.table_store()
    return [Fold.from_dict(d) for d in store.read_json("lomo_folds", context.partition_key)]


def _tissue(context, settings):
    return load_tissue(settings.table_store(), settings.catalog(), context.partition_key)


def _evidence(context, settings, data=None):
    """What the tissue's raw files say about each sample (accession, mission, raw group string, sha256
    of its raw counts), re-read from the files recorded when they were fetched."""
    data = data or _tissue(context, settings)
    catalog = settings.catalog()
    missions_by_osd: dict[str, list[str]] = {}
    for s in catalog.studies:
        if s.tissue == context.partition_key:
            missions_by_osd.setdefault(s.osd, []).append(s.mission)
    return leakage_checks.raw_sample_evidence(data.raw_files, missions_by_osd)


def _all_folds(outcomes, description):
    """Combine per-fold outcomes: pass only if every fold passes; say which fold failed and why."""
    from genebench_assets.science.check_outcome import CheckOutcome, truncate_failures

    failures = []
    for fold_id, o in outcomes:
        failures.extend(f"{fold_id}: {x}" for x in (getattr(o, "failures", None) or []))
    return CheckOutcome(
        passed=all(o.passed for _, o in outcomes) and bool(outcomes),
        description=description,
        metadata={"per_fold": {fid: {"passed": o.passed, "compared": o.description, **(o.metadata or {})}
                               for fid, o in outcomes}, "n_failures": len(failures)},
        failures=truncate_failures(failures) if outcomes else ["no fold to check"],
    )


def _check(name, description):
    def decorator(fn):
        return dg.asset_check(
            asset=lomo_folds, name=name, blocking=True, partitions_def=tissue_partitions, description=description
        )(fn)

    return decorator


@_check("leakage_no_animal_in_both_splits_by_name_stem",
        "1. Sample-name stems of test vs training samples (GeneLab GLDS-/OSD- and rna_seq prefixes, "
        "technical-replicate / re-run / lane / read suffixes stripped): the same animal or library under "
        "two ids fails.")
def leakage_no_animal_in_both_splits_by_name_stem(context, settings: GenebenchSettings):
    folds = _folds(context, settings)
    return to_check_result(_all_folds(
        [(f.fold_id, leakage_checks.no_animal_in_both_splits_by_name_stem(f)) for f in folds],
        "sample-name stems, test vs train, every fold"))


@_check("leakage_no_raw_source_in_both_splits",
        "2. Raw counts of every test vs every training sample, re-read from the raw files: equal on every "
        "gene both measure (one library under two ids) fails; so does one raw counts file (sha256) "
        "feeding both train and test.")
def leakage_no_raw_source_in_both_splits(context, settings: GenebenchSettings):
    data = _tissue(context, settings)
    evidence = _evidence(context, settings, data)
    raw_counts = leakage_checks.raw_counts_from_files(data.raw_files)
    return to_check_result(_all_folds(
        [(f.fold_id, leakage_checks.no_raw_source_in_both_splits(f, evidence, raw_counts))
         for f in _folds(context, settings)],
        "raw count columns and raw counts files, test vs train"))


@_check("leakage_fold_missions_match_raw_files",
        "3. The mission of each sample according to the raw counts file whose header holds it (file -> "
        "OSD accession -> catalog mission) vs the fold's train / test assignment, which the fold builder "
        "took from the sample metadata.")
def leakage_fold_missions_match_raw_files(context, settings: GenebenchSettings):
    evidence = _evidence(context, settings)
    return to_check_result(_all_folds(
        [(f.fold_id, leakage_checks.fold_missions_match_raw_files(f, evidence)) for f in _folds(context, settings)],
        "raw-file mission of every sample vs the fold assignment"))


@_check("leakage_fitted_steps_saw_training_only",
        "4. Sample ids recorded by every fitted step (low-expression filter, variance filter, z-score, the "
        "model fit = StandardScaler + PCA + classifier of model_predictions, strict GSVA reference kernels) "
        "vs the fold's training ids and the raw-file missions. A required step missing from the record "
        "fails. In the seed protocol the low-expression filter saw all samples, as published: reported, "
        "and the strict protocol fixes it.")
def leakage_fitted_steps_saw_training_only(context, settings: GenebenchSettings):
    evidence = _evidence(context, settings)
    return to_check_result(_all_folds(
        [(f.fold_id, leakage_checks.fitted_steps_saw_training_only(f, evidence, protocol=settings.protocol))
         for f in _folds(context, settings)],
        "sample ids each fitted step saw vs training samples of the raw-file missions"))


@_check("leakage_feature_columns_trace_to_raw_counts",
        "5. Every gene feature value vs log2(raw count / f + 1) re-computed from the raw counts files "
        "(f: the sample's one scale factor, label-free): a column not computed from its raw counts (a DE "
        "statistic, a planted label) fails; names and pathway-source provenance vs label-derived patterns.")
def leakage_feature_columns_trace_to_raw_counts(context, settings: GenebenchSettings):
    data = _tissue(context, settings)
    raw_counts = leakage_checks.raw_counts_from_files(data.raw_files)
    return to_check_result(_all_folds(
        [(f.fold_id, leakage_checks.feature_columns_trace_to_raw_counts(f, data.expression, raw_counts))
         for f in _folds(context, settings)],
        "feature values vs their raw counts; names and provenance vs label-derived patterns"))


@_check("leakage_no_expression_near_duplicates",
        "6. Expression fingerprint of every test vs every training sample: correlation of within-study "
        f"deviations with the between-study difference partialled out, >= "
        f"{leakage_checks.NEAR_DUPLICATE_THRESHOLD} fails (calibrated on simulated re-processed duplicates "
        "and technical replicates: benchmarks/near_duplicate_calibration.py).")
def leakage_no_expression_near_duplicates(context, settings: GenebenchSettings):
    data = _tissue(context, settings)
    meta = data.metadata
    meta = meta.set_index("sample_id") if "sample_id" in meta.columns else meta
    study_of = {str(s): f"{o}|{m}" for s, o, m in zip(meta.index, meta["osd"], meta["mission"])}
    return to_check_result(_all_folds(
        [(f.fold_id, leakage_checks.no_expression_near_duplicates(f, data.expression, study_of))
         for f in _folds(context, settings)],
        "expression fingerprint, every test vs every training sample"))


@_check("leakage_fold_labels_match_raw_group_strings",
        "7. Fold labels vs labels re-derived from the raw runsheet / SampleTable group strings, sample by "
        "sample; SPEC §5 minimums (>= 4 test samples, both classes in train and test) on the re-derived labels.")
def leakage_fold_labels_match_raw_group_strings(context, settings: GenebenchSettings):
    evidence = _evidence(context, settings)
    return to_check_result(_all_folds(
        [(f.fold_id, leakage_checks.fold_labels_match_raw_group_strings(f, evidence))
         for f in _folds(context, settings)],
        "fold labels vs raw group strings; class minimums"))


@_check("leakage_pathway_features_match_training_only_gsva",
        "8. The pathway fold features lomo_folds wrote (the matrices model_predictions reads) vs the same "
        "features re-computed here without the fold's record: strict - GSVA with the duplicated-symbol choice "
        "and kernel CDFs fitted on the fold's training samples of the raw-file training missions (a builder "
        "that fitted on the test mission or all samples fails); seed - the stored per-study GSVA scores "
        "combined as published. Passes with nothing to compare when the pathways feature set was not built.")
def leakage_pathway_features_match_training_only_gsva(context, settings: GenebenchSettings,
                                                      gene_set_settings: GeneSetSettings, osdr_source: OsdrSource):
    from genebench_assets.defs.pathways import fold_features
    from genebench_assets.science.check_outcome import CheckOutcome

    store = settings.table_store()
    tissue = context.partition_key
    manifest = fold_features.read_manifest(store, tissue)
    if not manifest or not manifest.get("pathways"):
        built = (manifest or {}).get("feature_sets", [])
        return to_check_result(CheckOutcome(True, f"no pathway fold features built (feature sets: {built})",
                                            {"feature_sets": built}))
    data = _tissue(context, settings)
    evidence = _evidence(context, settings, data)
    inputs = fold_features.pathway_fold_inputs(data, settings, gene_set_settings, osdr_source,
                                               protocol=settings.protocol)
    outcomes = []
    for f in _folds(context, settings):
        if f.fold_id not in manifest["pathways"]["tables"]:
            outcomes.append((f.fold_id, CheckOutcome(False, "no stored pathway matrix", {},
                                                     ["lomo_folds wrote no pathway matrix for this fold"])))
            continue
        features = store.read_frame(fold_features.FOLD_FEATURES, tissue, "pathways", f.fold_id)
        outcomes.append((f.fold_id, leakage_checks.pathway_features_match_training_only_gsva(
            f, features, evidence, protocol=settings.protocol, expression=data.expression, **inputs.kwargs())))
    return to_check_result(_all_folds(outcomes, "stored pathway fold features vs their re-computation"))
