"""Blocking leakage checks on the LOMO folds: a failure stops the predictions downstream.

Each wraps a pure function of science.tasks.leakage_checks and compares the folds with evidence the
fold builder did not use (the raw files, re-read and verified against their recorded sha256; the
expression values themselves); every fold must pass for the check to pass."""

from __future__ import annotations

import dataclasses
from functools import cached_property
from typing import Any, Callable

import dagster as dg

from genebench_assets.defs.gating.check_results import to_check_result
from genebench_assets.defs.runtime.partitions import tissue_partitions
from genebench_assets.defs.tasks.assets import lomo_folds
from genebench_assets.defs.gating.tissue_inputs import load_tissue
from genebench_assets.science.tasks import leakage_checks


class _Evidence:
    """What a check of one tissue partition compares the folds with, read once and only when asked for."""

    def __init__(self, context):
        self.context, self.settings = context, context.resources.settings

    @cached_property
    def folds(self):
        from genebench_assets.science.tasks.folds import Fold

        return [Fold.from_dict(d) for d in self.settings.table_store().read_json("lomo_folds", self.context.partition_key)]

    @cached_property
    def data(self):
        return load_tissue(self.settings.table_store(), self.settings.catalog(), self.context.partition_key)

    @cached_property
    def evidence(self):
        """What the tissue's raw files say about each sample (accession, mission, raw group string, sha256
        of its raw counts), re-read from the files recorded when they were fetched."""
        return leakage_checks.raw_sample_evidence(
            self.data.raw_files, self.settings.catalog().missions_by_osd(self.context.partition_key))

    @cached_property
    def raw_counts(self):
        return leakage_checks.raw_counts_from_files(self.data.raw_files)

    @cached_property
    def expression(self):
        return self.data.expression

    @cached_property
    def study_of(self):
        meta = self.data.metadata
        meta = meta.set_index("sample_id") if "sample_id" in meta.columns else meta
        return {str(s): f"{o}|{m}" for s, o, m in zip(meta.index, meta["osd"], meta["mission"])}

    @cached_property
    def protocol(self):
        return self.settings.protocol


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


@dataclasses.dataclass(frozen=True)
class LeakageCheckSpec:
    """One blocking leakage check on lomo_folds: `science(fold, *evidence, **keyword evidence)` per fold,
    the evidence named by `needs` / `keyword_needs` (attributes of `_Evidence`); `outcomes` replaces the
    per-fold loop for a check that needs more (returns the per-fold outcomes, or one CheckOutcome)."""

    name: str
    description: str
    compared: str  # the combined outcome's description
    science: Callable[..., Any]
    needs: tuple[str, ...] = ()
    keyword_needs: tuple[str, ...] = ()
    resources: frozenset[str] = frozenset({"settings"})
    outcomes: Callable[["LeakageCheckSpec", Any], Any] | None = None


def _pathway_outcomes(spec: LeakageCheckSpec, ev: _Evidence):
    """Check 8: the stored pathway fold features vs their re-computation without the fold's record."""
    from genebench_assets.defs.pathways import fold_features
    from genebench_assets.science.check_outcome import CheckOutcome

    settings, resources = ev.settings, ev.context.resources
    store = settings.table_store()
    tissue = ev.context.partition_key
    manifest = fold_features.read_manifest(store, tissue)
    if not manifest or not manifest.get("pathways"):
        built = (manifest or {}).get("feature_sets", [])
        return CheckOutcome(True, f"no pathway fold features built (feature sets: {built})", {"feature_sets": built})
    inputs = fold_features.pathway_fold_inputs(ev.data, settings, resources.gene_set_settings, resources.osdr_source,
                                               protocol=settings.protocol)
    evidence = ev.evidence
    outcomes = []
    for f in ev.folds:
        if f.fold_id not in manifest["pathways"]["tables"]:
            outcomes.append((f.fold_id, CheckOutcome(False, "no stored pathway matrix", {},
                                                     ["lomo_folds wrote no pathway matrix for this fold"])))
            continue
        features = store.read_frame(fold_features.FOLD_FEATURES, tissue, "pathways", f.fold_id)
        outcomes.append((f.fold_id, spec.science(
            f, features, evidence, protocol=settings.protocol, expression=ev.expression, **inputs.kwargs())))
    return outcomes


LEAKAGE_CHECK_SPECS: tuple[LeakageCheckSpec, ...] = (
    LeakageCheckSpec(
        "leakage_no_animal_in_both_splits_by_name_stem",
        "1. Sample-name stems of test vs training samples (GeneLab GLDS-/OSD- and rna_seq prefixes, "
        "technical-replicate / re-run / lane / read suffixes stripped): the same animal or library under "
        "two ids fails.",
        "sample-name stems, test vs train, every fold",
        leakage_checks.no_animal_in_both_splits_by_name_stem),
    LeakageCheckSpec(
        "leakage_no_raw_source_in_both_splits",
        "2. Raw counts of every test vs every training sample, re-read from the raw files: equal on every "
        "gene both measure (one library under two ids) fails; so does one raw counts file (sha256) "
        "feeding both train and test.",
        "raw count columns and raw counts files, test vs train",
        leakage_checks.no_raw_source_in_both_splits, needs=("evidence", "raw_counts")),
    LeakageCheckSpec(
        "leakage_fold_missions_match_raw_files",
        "3. The mission of each sample according to the raw counts file whose header holds it (file -> "
        "OSD accession -> catalog mission) vs the fold's train / test assignment, which the fold builder "
        "took from the sample metadata.",
        "raw-file mission of every sample vs the fold assignment",
        leakage_checks.fold_missions_match_raw_files, needs=("evidence",)),
    LeakageCheckSpec(
        "leakage_fitted_steps_saw_training_only",
        "4. Sample ids recorded by every fitted step (low-expression filter, variance filter, z-score, the "
        "model fit = StandardScaler + PCA + classifier of model_predictions, strict GSVA reference kernels) "
        "vs the fold's training ids and the raw-file missions. A required step missing from the record "
        "fails. In the seed protocol the low-expression filter saw all samples, as published: reported, "
        "and the strict protocol fixes it.",
        "sample ids each fitted step saw vs training samples of the raw-file missions",
        leakage_checks.fitted_steps_saw_training_only, needs=("evidence",), keyword_needs=("protocol",)),
    LeakageCheckSpec(
        "leakage_feature_columns_trace_to_raw_counts",
        "5. Every gene feature value vs log2(raw count / f + 1) re-computed from the raw counts files "
        "(f: the sample's one scale factor, label-free): a column not computed from its raw counts (a DE "
        "statistic, a planted label) fails; names and pathway-source provenance vs label-derived patterns.",
        "feature values vs their raw counts; names and provenance vs label-derived patterns",
        leakage_checks.feature_columns_trace_to_raw_counts, needs=("expression", "raw_counts")),
    LeakageCheckSpec(
        "leakage_no_expression_near_duplicates",
        "6. Expression fingerprint of every test vs every training sample: correlation of within-study "
        f"deviations with the between-study difference partialled out, >= "
        f"{leakage_checks.NEAR_DUPLICATE_THRESHOLD} fails (calibrated on simulated re-processed duplicates "
        "and technical replicates: benchmarks/near_duplicate_calibration.py).",
        "expression fingerprint, every test vs every training sample",
        leakage_checks.no_expression_near_duplicates, needs=("expression", "study_of")),
    LeakageCheckSpec(
        "leakage_fold_labels_match_raw_group_strings",
        "7. Fold labels vs labels re-derived from the raw runsheet / SampleTable group strings, sample by "
        "sample; SPEC §5 minimums (>= 4 test samples, both classes in train and test) on the re-derived labels.",
        "fold labels vs raw group strings; class minimums",
        leakage_checks.fold_labels_match_raw_group_strings, needs=("evidence",)),
    LeakageCheckSpec(
        "leakage_pathway_features_match_training_only_gsva",
        "8. The pathway fold features lomo_folds wrote (the matrices model_predictions reads) vs the same "
        "features re-computed here without the fold's record: strict - GSVA with the duplicated-symbol choice "
        "and kernel CDFs fitted on the fold's training samples of the raw-file training missions (a builder "
        "that fitted on the test mission or all samples fails); seed - the stored per-study GSVA scores "
        "combined as published. Passes with nothing to compare when the pathways feature set was not built.",
        "stored pathway fold features vs their re-computation",
        leakage_checks.pathway_features_match_training_only_gsva,
        resources=frozenset({"settings", "gene_set_settings", "osdr_source"}), outcomes=_pathway_outcomes),
)


def leakage_check(spec: LeakageCheckSpec) -> dg.AssetChecksDefinition:
    """The blocking, tissue-partitioned asset check on lomo_folds that `spec` describes; every fold must pass."""

    def _check(context):
        ev = _Evidence(context)
        if spec.outcomes is not None:
            outcomes = spec.outcomes(spec, ev)
            if not isinstance(outcomes, list):
                return to_check_result(outcomes)
        else:
            outcomes = [(f.fold_id, spec.science(f, *(getattr(ev, n) for n in spec.needs),
                                                 **{n: getattr(ev, n) for n in spec.keyword_needs}))
                        for f in ev.folds]
        return to_check_result(_all_folds(outcomes, spec.compared))

    _check.__name__ = spec.name
    return dg.asset_check(asset=lomo_folds, name=spec.name, blocking=True, partitions_def=tissue_partitions,
                          description=spec.description, required_resource_keys=set(spec.resources))(_check)


LEAKAGE_CHECKS: list[dg.AssetChecksDefinition] = [leakage_check(spec) for spec in LEAKAGE_CHECK_SPECS]
