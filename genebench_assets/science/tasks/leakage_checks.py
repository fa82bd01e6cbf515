"""Leakage checks on Category A folds (issues 4, 9). Pure functions, each returning a `CheckOutcome`
whose description and metadata say what was compared; the Dagster layer makes them blocking asset
checks (`defs/tasks/checks.py`).

Every check compares the fold (what the fold builder decided) with evidence the builder did not use,
so each can fail on a leak the builder would not refuse by itself:

1 `no_animal_in_both_splits_by_name_stem`   sample-name stems (GeneLab prefixes and technical-replicate
                                             suffixes stripped) of train vs test
2 `no_raw_source_in_both_splits`            raw counts of each test vs each training sample (equal on
                                             every shared gene = one library), and sha256 of their raw
                                             counts files
3 `fold_missions_match_raw_files`           the mission of each sample's raw counts file (file header ->
                                             accession -> catalog) vs the fold's train / test assignment
4 `fitted_steps_saw_training_only`          the sample ids every fitted step recorded (filters, z-score,
                                             scaler + PCA + classifier, GSVA reference) vs the training
                                             samples of the raw-file missions
5 `feature_columns_trace_to_raw_counts`     every gene feature value vs log2(raw count / f + 1) from the
                                             raw counts files (f: the sample's one scale factor);
                                             label-derived names / provenance tags
6 `no_expression_near_duplicates`           expression fingerprint (correlation of within-study
                                             deviations, the between-study difference partialled out)
                                             of every test vs every training sample, threshold
                                             calibrated on re-processed duplicates (benchmarks/)
7 `fold_labels_match_raw_group_strings`     fold labels vs labels re-derived from the raw files' group
                                             strings, and the SPEC §5 class minimums on the re-derived
                                             labels
8 `pathway_features_match_training_only_gsva` the stored pathway fold matrix (what the model reads) vs
                                             GSVA re-computed with kernels on the raw-file training
                                             samples (strict) / the stored per-study scores (seed)
and `text_llm_examples_from_train_only` for the text-LLM track's few-shot examples.

The evidence of checks 1-3, 4 and 7 comes from `raw_sample_evidence`, which re-reads the raw files
(verified against the sha256 recorded when they were fetched), not the tables the folds were built from.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from genebench_assets.science.check_outcome import CheckOutcome
from genebench_assets.science.protocols import PROTOCOLS
from genebench_assets.science.tasks.folds import (
    MIN_TEST_SAMPLES,
    STEP_GSVA_REFERENCE,
    STEP_LOW_EXPRESSION,
    STEP_MODEL_FIT,
    STEP_PATHWAY_SCORING,
    STEP_VARIANCE,
    STEP_ZSCORE,
    Fold,
    label_distribution,
)

__all__ = [
    "CheckOutcome",
    "SEED_PROTOCOL_EXCEPTIONS",
    "NEAR_DUPLICATE_THRESHOLD",
    "sample_name_stem",
    "raw_sample_evidence",
    "no_animal_in_both_splits_by_name_stem",
    "no_raw_source_in_both_splits",
    "fold_missions_match_raw_files",
    "fitted_steps_saw_training_only",
    "feature_columns_trace_to_raw_counts",
    "implied_size_factors",
    "raw_counts_from_files",
    "no_label_derived_features",
    "fingerprint_similarity",
    "no_expression_near_duplicates",
    "fold_labels_match_raw_group_strings",
    "pathway_features_match_training_only_gsva",
    "text_llm_examples_from_train_only",
]

# Steps that, in the seed (published) protocol, legitimately saw test samples. Check 4 reports them
# in the seed protocol without failing; the strict protocol fits them on training samples only.
SEED_PROTOCOL_EXCEPTIONS = {
    STEP_LOW_EXPRESSION: "the published pipeline filtered low-expression genes over all samples of the tissue",
    STEP_PATHWAY_SCORING: "the published pipeline ran GSVA per mission, the test mission included",
}
# The fitted steps a fold of each feature type must record (a step missing from the record is a step
# nobody can verify).
REQUIRED_STEPS = {
    "genes": (STEP_LOW_EXPRESSION, STEP_VARIANCE, STEP_ZSCORE, STEP_MODEL_FIT),
    "pathways": (STEP_ZSCORE, STEP_MODEL_FIT),
}


def _ids(values: Iterable) -> list[str]:
    return [str(v) for v in values]


# ------------------------------------------------------------------------------ raw evidence
_PREFIX = re.compile(r"^(?:(?:glds|osd)-\d+[_.\-])?(?:rna[_\-]?seq[_.\-])?", re.IGNORECASE)
# Technical-replicate / re-run / lane / read suffixes: the same library or animal re-sequenced or
# re-processed. Animal replicate numbers (`Rep1_F1`) are NOT stripped: they name different animals.
_SUFFIX = re.compile(
    r"(?:[_.\-](?:tech[_\-]?rep|techrep|tr|rerun|re[_\-]?seq|resequenced|reprocessed|repeat|run|lane|l00|v)\d*"
    r"|[_.\-]r[12]|[_.\-]s\d{1,3}|[_.\-](?:raw|trimmed|sorted|dedup))+$",
    re.IGNORECASE,
)


def sample_name_stem(name: str) -> str:
    """The animal / library part of a GeneLab sample name: no `GLDS-N_`/`OSD-N_`/`rna_seq_` prefix, no
    technical-replicate, lane or read suffix, lower case, separators unified.
    `GLDS-326_rna_seq_Mmus_C57-6J_GST_RR9_FLT_Rep1_F1_techrep2` -> `mmus_c57-6j_gst_rr9_flt_rep1_f1`."""
    s = str(name).strip()
    s = _PREFIX.sub("", s)
    s = _SUFFIX.sub("", s)
    return re.sub(r"[.\s]+", "_", s).lower()


def _mission_token(mission: str) -> str:
    return re.sub(r"[^a-z0-9]", "", mission.lower())


def _mission_from_name(name: str, missions: Sequence[str]) -> str | None:
    """A catalog mission named by a token of the sample name (`..._RR9_...`, `RR-1.Mmus...`), if exactly one."""
    tokens = {_mission_token(t) for t in re.split(r"[_.]+", str(name)) if t}
    hits = [m for m in missions if _mission_token(m) in tokens]
    return hits[0] if len(hits) == 1 else None


def _column_sha256(values: pd.Series) -> str:
    col = values.sort_index()
    h = hashlib.sha256("\n".join(map(str, col.index)).encode())
    h.update(np.ascontiguousarray(col.to_numpy(dtype=np.int64)).tobytes())
    return h.hexdigest()


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


EVIDENCE_COLUMNS = ["osd", "counts_file", "counts_file_sha256", "counts_column_sha256", "raw_missions",
                    "mission_from_raw", "group_raw", "label_from_raw"]


def raw_sample_evidence(raw_files: Sequence[Mapping], missions_by_osd: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Per sample, what the raw files say, read from the files themselves (not from the tables the
    folds were built from). Index = sample id as in the counts file header; columns:
    osd, counts_file, counts_file_sha256, counts_column_sha256 (the sample's raw counts),
    raw_missions (catalog missions of the file's accession, ";"-joined), mission_from_raw (that
    mission, or the one the sample name names when the accession covers several; None when it cannot
    be decided), group_raw (the runsheet / SampleTable group string), label_from_raw (1.0 / 0.0 / NaN).

    `raw_files`: the provenance records written at fetch time (osd, file_name, kind, path, sha256).
    A file whose bytes no longer match its recorded sha256, or that is gone, is listed in
    `attrs["problems"]` (the checks fail on it: the evidence would not be the data that was used)."""
    from genebench_assets.science.osdr.group_labels import binary_label, map_group
    from genebench_assets.science.osdr.parsing import read_counts_csv, read_sample_table

    problems: list[str] = []
    rows: dict[str, dict] = {}
    groups: dict[str, tuple[str, float]] = {}
    seen: set[tuple[str, str]] = set()
    for rec in raw_files:
        key = (str(rec.get("osd")), str(rec.get("sha256")))
        kind = rec.get("kind")
        if kind not in ("counts", "runsheet", "sample_table") or (key + (kind,)) in seen:
            continue
        seen.add(key + (kind,))
        osd, path = str(rec["osd"]), Path(str(rec["path"]))
        if not path.is_file():
            problems.append(f"{osd} {rec.get('file_name')}: raw file missing at {path}")
            continue
        sha = _file_sha256(path)
        if sha != rec.get("sha256"):
            problems.append(f"{osd} {rec.get('file_name')}: sha256 {sha[:12]}… differs from the recorded "
                            f"{str(rec.get('sha256'))[:12]}… (file changed since it was fetched)")
            continue
        if kind == "counts":
            counts = read_counts_csv(path, osd=osd)
            missions = sorted(set(missions_by_osd.get(osd, ())))
            for sample in counts.columns:
                mission = missions[0] if len(missions) == 1 else _mission_from_name(sample, missions)
                rows[str(sample)] = {
                    "osd": osd, "counts_file": str(rec.get("file_name")), "counts_file_sha256": sha,
                    "counts_column_sha256": _column_sha256(counts[sample]), "raw_missions": ";".join(missions),
                    "mission_from_raw": mission,
                }
        else:
            table = read_sample_table(path, osd=osd)
            for sample, g in table["group_raw"].items():
                try:
                    label = binary_label(map_group(g, osd=osd, sample=str(sample), file_name=path.name))
                except ValueError as exc:
                    problems.append(str(exc))
                    label = np.nan
                groups[str(sample)] = (str(g), label)
    out = pd.DataFrame.from_dict(rows, orient="index", columns=EVIDENCE_COLUMNS[:6])
    out.index.name = "sample_id"
    out["group_raw"] = [groups.get(s, (None, np.nan))[0] for s in out.index]
    out["label_from_raw"] = [groups.get(s, (None, np.nan))[1] for s in out.index]
    out.attrs["problems"] = problems
    return out


def raw_counts_from_files(raw_files: Sequence[Mapping]) -> pd.DataFrame:
    """genes x samples raw counts of every counts file in `raw_files` whose bytes still match the
    recorded sha256 (outer join on genes); parsed from the files, not from the stored tables."""
    from genebench_assets.science.osdr.parsing import read_counts_csv

    frames, seen = [], set()
    for rec in raw_files:
        if rec.get("kind") != "counts" or rec.get("sha256") in seen:
            continue
        seen.add(rec.get("sha256"))
        path = Path(str(rec["path"]))
        if path.is_file() and _file_sha256(path) == rec.get("sha256"):
            frames.append(read_counts_csv(path, osd=str(rec["osd"])))
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, axis=1, join="outer")
    return out.loc[:, ~out.columns.duplicated(keep="first")]


def _evidence_failures(evidence: pd.DataFrame, ids: Sequence[str]) -> list[str]:
    failures = list(evidence.attrs.get("problems", []))
    absent = [s for s in ids if s not in evidence.index]
    failures += [f"{s}: in no raw counts file of the tissue" for s in absent]
    return failures


# 1 -------------------------------------------------------------------------------------------
def no_animal_in_both_splits_by_name_stem(fold: Fold) -> CheckOutcome:
    """No training sample and test sample share a sample-name stem (`sample_name_stem`): the same
    animal or library under two ids (a GLDS prefix, a `_techrep2` / `_rerun` / lane suffix)."""
    train, test = _ids(fold.train_ids), _ids(fold.test_ids)
    stems: dict[str, list[str]] = {}
    for s in train:
        stems.setdefault(sample_name_stem(s), []).append(s)
    failures = [f"test {t} and train {', '.join(stems[sample_name_stem(t)])} share the name stem "
                f"{sample_name_stem(t)!r}" for t in test if sample_name_stem(t) in stems]
    return CheckOutcome.from_failures(
        f"sample-name stems of the {len(test)} test vs the {len(train)} training samples "
        "(GeneLab prefixes and technical-replicate suffixes stripped)",
        failures,
        {"n_train": len(train), "n_test": len(test), "example_stem": sample_name_stem(test[0]) if test else None},
    )


# 2 -------------------------------------------------------------------------------------------
def no_raw_source_in_both_splits(fold: Fold, evidence: pd.DataFrame, raw_counts: pd.DataFrame | None = None,
                                 *, min_shared_genes: int = 100) -> CheckOutcome:
    """No test sample's raw counts equal a training sample's on every gene both files measure (the
    same library under another id, whatever its file's gene set), and no single-mission raw counts
    file feeds both train and test (sha256 of the file; a file of several missions is reported, not
    failed). `raw_counts`: genes x samples parsed from the raw files."""
    train, test = _ids(fold.train_ids), _ids(fold.test_ids)
    failures = _evidence_failures(evidence, train + test)
    ev = evidence.reindex(train + test)
    tr, te = ev.loc[train], ev.loc[test]
    n_pairs = 0
    if raw_counts is not None and len(raw_counts):
        tr_ids = [s for s in train if s in raw_counts.columns]
        te_ids = [s for s in test if s in raw_counts.columns]
        A = raw_counts[tr_ids].to_numpy(dtype=float)
        for t in te_ids:
            b = raw_counts[t].to_numpy(dtype=float)[:, None]
            both = np.isfinite(A) & np.isfinite(b)
            equal = ((A == b) | ~both).all(axis=0) & (both.sum(axis=0) >= min_shared_genes)
            n_pairs += len(tr_ids)
            for j in np.flatnonzero(equal):
                failures.append(f"test {t} has the same raw counts as train {tr_ids[j]} "
                                f"({int(both[:, j].sum())} shared genes, all equal)")
    else:
        failures.append("no raw counts to compare")
    shared_files = sorted(set(tr["counts_file_sha256"].dropna()) & set(te["counts_file_sha256"].dropna()))
    multi_mission_files = []
    for h in shared_files:
        rows = ev[ev["counts_file_sha256"] == h]
        names = sorted(set(rows["counts_file"]))
        per_row = [[m for m in str(ms).split(";") if m] for ms in rows["raw_missions"].fillna("")]
        missions = sorted({m for ms in per_row for m in ms})
        if per_row and all(len(ms) > 1 for ms in per_row):
            # One study file holding several missions (thymus OSD-289: MHU-1 and MHU-2) legitimately
            # feeds both sides with different animals; the per-sample comparison above still applies.
            multi_mission_files.append({"file": ", ".join(names), "missions": missions})
            continue
        failures.append(f"raw counts file {', '.join(names)} (sha256 {h[:12]}…) of mission "
                        f"{', '.join(missions) or '?'} feeds both train and test")
    return CheckOutcome.from_failures(
        "raw counts of every test vs every training sample (equal on all shared genes fails) and the sha256 "
        "of their raw counts files",
        failures,
        {"n_train": len(train), "n_test": len(test), "n_pairs_compared": n_pairs,
         "multi_mission_files_in_both_splits": multi_mission_files,
         "test_files": sorted(set(te["counts_file"].dropna())), "train_files": sorted(set(tr["counts_file"].dropna()))},
    )


# 3 -------------------------------------------------------------------------------------------
def fold_missions_match_raw_files(fold: Fold, evidence: pd.DataFrame) -> CheckOutcome:
    """Each sample's mission according to its raw counts file (the accession of the file whose header
    holds it -> the catalog's mission) vs the fold: every test sample is of the held-out mission,
    no training sample is, and each training sample is of one of the training missions. The fold
    builder read the `mission` column of the sample metadata, i.e. the partition a study was stored
    under; this check reads the files."""
    train, test = _ids(fold.train_ids), _ids(fold.test_ids)
    failures = _evidence_failures(evidence, train + test)
    ev = evidence.reindex(train + test)
    undetermined = []
    for part, ids in (("train", train), ("test", test)):
        for s in ids:
            if s not in evidence.index:
                continue
            mission, osd = ev.at[s, "mission_from_raw"], ev.at[s, "osd"]
            possible = [m for m in str(ev.at[s, "raw_missions"] or "").split(";") if m]
            if mission is None or (isinstance(mission, float) and np.isnan(mission)):
                if part == "test" and fold.test_mission not in possible:
                    failures.append(f"test {s}: raw file of {osd} is of missions {possible}, not {fold.test_mission}")
                elif part == "train" and possible and all(m == fold.test_mission for m in possible):
                    failures.append(f"train {s}: raw file of {osd} is of the held-out mission {fold.test_mission}")
                else:
                    undetermined.append(s)
                continue
            if part == "test" and mission != fold.test_mission:
                failures.append(f"test {s}: raw file of {osd} is of mission {mission}, not the held-out {fold.test_mission}")
            if part == "train" and mission == fold.test_mission:
                failures.append(f"train {s}: raw file of {osd} is of the held-out mission {mission}")
            elif part == "train" and mission not in fold.train_missions:
                failures.append(f"train {s}: raw file of {osd} is of mission {mission}, not a training mission")
    return CheckOutcome.from_failures(
        f"mission of each sample's raw counts file vs the fold's assignment (held-out {fold.test_mission})",
        failures,
        {"test_mission": fold.test_mission, "train_missions": list(fold.train_missions),
         "raw_missions_of_train": sorted(set(ev.loc[train, "mission_from_raw"].dropna())),
         "raw_missions_of_test": sorted(set(ev.loc[test, "mission_from_raw"].dropna())),
         "n_undetermined": len(undetermined)},
    )


# 4 -------------------------------------------------------------------------------------------
def fitted_steps_saw_training_only(
    fold: Fold,
    evidence: pd.DataFrame | None = None,
    *,
    protocol: str | None = None,
    seed_exceptions: Mapping[str, str] = SEED_PROTOCOL_EXCEPTIONS,
    required_steps: Mapping[str, Sequence[str]] = REQUIRED_STEPS,
) -> CheckOutcome:
    """Every fitted step's recorded sample ids are training samples: in the fold's training ids AND,
    when `evidence` is given, of a training mission according to the raw files (so a test-mission
    sample the metadata mislabelled as training is caught here too). The steps a fold of its feature
    type must record (`required_steps`: filters, z-score, the model fit = scaler + PCA + classifier,
    for pathway folds the GSVA reference) must all be there.

    `protocol` (default: the fold's own) decides how a step listed in `seed_exceptions` that saw
    non-training samples is judged: "strict" -> failure; "seed" -> reported in the metadata
    (`seed_protocol_exceptions`), not a failure. Any other step seeing a non-training sample fails."""
    protocol = protocol or fold.protocol
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be 'seed' or 'strict', got {protocol!r}")
    train, test = set(_ids(fold.train_ids)), set(_ids(fold.test_ids))
    failures, exceptions, per_step = [], {}, {}
    raw_test_mission = set()
    if evidence is not None:
        missions = evidence["mission_from_raw"]
        raw_test_mission = {str(s) for s, m in missions.items() if m == fold.test_mission}
    for step, ids in fold.fitted_steps.items():
        ids = _ids(ids)
        extra = [s for s in ids if s not in train or s in raw_test_mission]
        n_test_seen = sum(1 for s in extra if s in test or s in raw_test_mission)
        per_step[step] = {"n_seen": len(ids), "n_not_training": len(extra), "n_test_seen": n_test_seen}
        if not extra:
            continue
        msg = (f"{step} saw {len(extra)} non-training samples ({n_test_seen} of the held-out mission "
               f"{fold.test_mission}), e.g. {extra[:3]}")
        if protocol == "seed" and step in seed_exceptions:
            exceptions[step] = f"{msg}: documented seed-protocol exception ({seed_exceptions[step]})"
        else:
            failures.append(msg)
    required = [s for s in required_steps.get(fold.feature_type, ()) if s not in fold.fitted_steps]
    if fold.feature_type == "pathways" and protocol == "strict" and STEP_GSVA_REFERENCE not in fold.fitted_steps:
        required.append(STEP_GSVA_REFERENCE)
    failures += [f"the fold records no {s!r} step" for s in required]
    description = (f"sample ids each fitted step saw ({', '.join(fold.fitted_steps) or 'none'}) vs the "
                   f"{len(train)} training ids and the raw-file missions ({protocol} protocol)")
    if exceptions:
        description += "; seed-protocol exceptions reported, not blocking: " + ", ".join(sorted(exceptions))
    return CheckOutcome.from_failures(
        description,
        failures,
        {"protocol": protocol, "steps": per_step, "seed_protocol_exceptions": exceptions},
    )


# 5 -------------------------------------------------------------------------------------------
# Provenance tags that mean "computed from the labels" (DE results, enrichment of DE rankings).
LABEL_DERIVED_PROVENANCE = (
    "label", "differential_expression", "dge", "deseq", "deseq2", "log2fc", "lfc", "fold_change",
    "de_statistic", "wald", "fgsea", "prerank", "nes", "limma", "edger", "target",
)
# Distinctive substrings of a feature name with separators removed ("log2_fold_change" -> "log2foldchange").
_LABEL_NAME_SUBSTRINGS = ("log2fc", "logfc", "foldchange", "log2ratio", "pvalue", "padj", "qvalue", "waldstat")
# Whole tokens (split on non-alphanumerics), so gene symbols such as Stat1 or Lfng do not match.
# Left out of names on purpose, caught by provenance instead: "nes" (Nes, nestin, is a mouse gene)
# and "target" (pathways such as HALLMARK_E2F_TARGETS). "stat" after "jak" is the JAK-STAT pathway.
_LABEL_NAME_TOKENS = {"lfc", "lfcse", "stat", "pval", "fdr", "label", "labels", "ytrue", "flight"}


def _label_like_name(name: str) -> str | None:
    lower = str(name).lower()
    compact = re.sub(r"[^a-z0-9]", "", lower)
    for sub in _LABEL_NAME_SUBSTRINGS:
        if sub in compact:
            return sub
    tokens = [t for t in re.split(r"[^a-z0-9]+", lower) if t]
    for i, tok in enumerate(tokens):
        if tok in _LABEL_NAME_TOKENS and not (tok == "stat" and i > 0 and tokens[i - 1] == "jak"):
            return tok
    return None


def _label_like_tag(tag: str) -> str | None:
    t = re.sub(r"[^a-z0-9]+", "_", str(tag).lower()).strip("_")
    parts = set(t.split("_"))
    for bad in LABEL_DERIVED_PROVENANCE:
        if bad == t or bad in parts or (len(bad) > 4 and bad in t):
            return bad
    return None


def no_label_derived_features(
    feature_names: Sequence[str], feature_provenance: Mapping[str, str | Sequence[str]] | None = None
) -> CheckOutcome:
    """No input is label-derived by its name (`log2FC`, `stat`, `padj`, ...) or by its provenance tags
    (feature -> tag or tags; a feature without a tag fails when a provenance mapping is given). Used
    by `feature_columns_trace_to_raw_counts` for features that are not genes (pathway scores)."""
    failures, by_name, by_tag, untagged = [], 0, 0, 0
    for name in feature_names:
        hit = _label_like_name(name)
        if hit:
            by_name += 1
            failures.append(f"{name}: name looks label-derived ({hit!r})")
        if feature_provenance is None:
            continue
        tags = feature_provenance.get(name)
        if tags is None:
            untagged += 1
            failures.append(f"{name}: no provenance recorded")
            continue
        for tag in [tags] if isinstance(tags, str) else list(tags):
            bad = _label_like_tag(tag)
            if bad:
                by_tag += 1
                failures.append(f"{name}: provenance {tag!r} is label-derived ({bad!r})")
    return CheckOutcome.from_failures(
        "feature names and provenance tags vs label-derived patterns (log2FC, DE statistics, p-values, NES)",
        failures,
        {"n_features": len(feature_names), "provenance_checked": feature_provenance is not None,
         "n_flagged_by_name": by_name, "n_flagged_by_provenance": by_tag, "n_without_provenance": untagged},
    )


def implied_size_factors(expression: pd.DataFrame, raw_counts: pd.DataFrame) -> pd.Series:
    """Per sample, the one scale factor that maps its raw counts to its expression values
    (expression = log2(count / factor + 1)): the median over its genes with a count > 0 of
    count / (2 ** expression - 1). A normalization that is a per-sample scaling (DESeq2 size factors,
    CPM, ...) has one such factor; a value that was not computed from its count will not fit it."""
    genes = expression.index.intersection(raw_counts.index)
    ids = [s for s in expression.columns if s in raw_counts.columns]
    x = expression.loc[genes, ids].to_numpy(dtype=float)
    c = raw_counts.loc[genes, ids].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = c / (np.exp2(x) - 1.0)
    ratio[~(c > 0) | ~np.isfinite(ratio)] = np.nan
    return pd.Series(np.nanmedian(ratio, axis=0) if len(genes) else np.full(len(ids), np.nan), index=ids)


def feature_columns_trace_to_raw_counts(
    fold: Fold,
    expression: pd.DataFrame,
    raw_counts: pd.DataFrame | None,
    *,
    rtol: float = 1e-6,
) -> CheckOutcome:
    """Each feature column's provenance, established from the data rather than declared.

    Gene folds: every feature value the model will read (`expression[fold.genes, train + test]`)
    must equal log2(raw count / f_s + 1), with the raw counts parsed from the sha256-recorded files
    and f_s the sample's single scale factor (`implied_size_factors`, estimated over all its genes: a
    per-sample factor is label-free). A column that is not a gene of the raw counts, or whose values
    its raw counts do not give - a DE statistic, a planted label, a value edited after normalization
    - fails. Names are also screened for label-derived patterns.
    Pathway folds: the recorded provenance of the feature source (`fold.feature_source`, e.g.
    `gsva`; `fgsea_nes` of a DE ranking is label-derived) and the names are screened."""
    genes = _ids(fold.genes)
    names = no_label_derived_features(genes)
    failures = list(names.failures)
    meta: dict = {"feature_type": fold.feature_type, "feature_source": fold.feature_source, "n_features": len(genes)}
    if fold.feature_type != "genes":
        tagged = no_label_derived_features(genes, {g: fold.feature_source for g in genes})
        return CheckOutcome.from_failures(
            f"{len(genes)} pathway features: names and the provenance of their source ({fold.feature_source})",
            tagged.failures, meta)
    ids = _ids(fold.train_ids) + _ids(fold.test_ids)
    description = (f"{len(genes)} gene features x {len(ids)} samples vs log2(raw count / f + 1) from the raw "
                   "counts files (f: each sample's one scale factor); names vs label-derived patterns")
    if raw_counts is None:
        failures.append("no raw counts to re-compute the features from")
        return CheckOutcome.from_failures(description, failures, meta)
    not_genes = [g for g in genes if g not in raw_counts.index]
    failures += [f"{g}: feature is not a gene of the raw counts files" for g in not_genes]
    no_counts = [s for s in ids if s not in raw_counts.columns or s not in expression.columns]
    failures += [f"{s}: no raw counts for this sample" for s in no_counts]
    ok_genes = [g for g in genes if g in raw_counts.index]
    ok_ids = [s for s in ids if s not in no_counts]
    factors = implied_size_factors(expression[ok_ids], raw_counts)
    expr = expression.reindex(index=ok_genes, columns=ok_ids).to_numpy(dtype=float)
    counts = raw_counts.loc[ok_genes, ok_ids].to_numpy(dtype=float)
    recomputed = np.log2(counts / factors.loc[ok_ids].to_numpy(dtype=float)[None, :] + 1.0)
    diff = np.abs(expr - recomputed)
    diff[np.isnan(diff)] = np.inf
    bad = diff > rtol * np.maximum(1.0, np.abs(recomputed))
    bad_rows = np.flatnonzero(bad.any(axis=1))
    for i in bad_rows:
        j = int(np.argmax(diff[i]))
        failures.append(f"{ok_genes[i]}: feature values are not log2(raw count / f + 1) of its raw counts "
                        f"(sample {ok_ids[j]}: {expr[i, j]:.4g} vs {recomputed[i, j]:.4g}; "
                        f"{int(bad[i].sum())} of {len(ok_ids)} samples differ)")
    finite = diff[np.isfinite(diff)]
    meta.update({"n_not_raw_genes": len(not_genes), "n_not_reproduced": int(len(bad_rows)),
                 "max_abs_difference": float(finite.max()) if finite.size else None,
                 "n_flagged_by_name": names.metadata.get("n_flagged_by_name", 0)})
    return CheckOutcome.from_failures(description, failures, meta)


# 6 -------------------------------------------------------------------------------------------
# Calibrated on the demo simulator (benchmarks/near_duplicate_calibration.py, 4 study pairs, 6,000
# genes, seed 42, simulator v2): different animals -0.21 .. 0.20 (3,976 pairs); re-processed duplicates
# (Poisson 90 % depth + 10 % per-gene pipeline bias) 0.91 .. 0.98; technical replicates 0.96 .. 0.99. The
# threshold sits near the middle of the gap (0.20, 0.91). Plain Pearson of z-scores, the old statistic,
# gives duplicates 0.79 .. 0.92 and a smaller gap (0.66 vs 0.71).
NEAR_DUPLICATE_THRESHOLD = 0.5
EXPRESSED_QUANTILE = 0.5  # genes below the median mean log2 expression are mostly Poisson noise


def fingerprint_similarity(
    expression: pd.DataFrame, study_of: Mapping[str, str], test_ids: Sequence[str], train_ids: Sequence[str],
    *, expressed_quantile: float = EXPRESSED_QUANTILE,
) -> pd.DataFrame:
    """test x train matrix of the expression fingerprint statistic.

    Per sample, its deviation from its own study's gene means (log2 expression, the well-expressed
    half of the genes observed in every sample) - what is individual to the animal / library. For a
    pair (test in study T, train in study S) the between-study difference m_S - m_T is partialled out
    of both deviations before they are correlated: a library re-processed into study T carries its
    deviation from S plus exactly that difference (and a per-gene pipeline bias), so the plain
    correlation of z-scores (r ~ 0.88) blurs into unrelated animals, while this statistic does not."""
    test_ids, train_ids = _ids(test_ids), _ids(train_ids)
    ids = train_ids + test_ids
    X = expression.loc[:, ids].astype(float)
    X = X[np.isfinite(X.to_numpy()).all(axis=1)]
    if len(X) > 10:
        X = X[X.mean(axis=1) >= X.mean(axis=1).quantile(expressed_quantile)]
    studies = pd.Series({s: str(study_of.get(s, "?")) for s in ids})
    means = {st: X[list(g.index)].mean(axis=1).to_numpy() for st, g in studies.groupby(studies)}
    R = X.to_numpy() - np.column_stack([means[studies[s]] for s in ids])
    # Each gene weighted alike: deviations scaled by the gene's pooled within-study SD, so the few
    # genes of a shared group effect (Flight) do not dominate the correlation of unrelated animals.
    sd = np.sqrt((R ** 2).mean(axis=1))
    R = R / np.where(sd > 0, sd, 1.0)[:, None]
    col = {s: i for i, s in enumerate(ids)}
    out = pd.DataFrame(np.nan, index=pd.Index(test_ids, name="test"), columns=pd.Index(train_ids, name="train"))
    for t_study in sorted(set(studies[test_ids])):
        t_cols = [s for s in test_ids if studies[s] == t_study]
        for s_study in sorted(set(studies[train_ids])):
            s_cols = [s for s in train_ids if studies[s] == s_study]
            basis = [np.ones(len(X))]
            if s_study != t_study:
                basis.append(means[s_study] - means[t_study])
            Q, _ = np.linalg.qr(np.column_stack(basis))
            A = R[:, [col[s] for s in t_cols]]
            B = R[:, [col[s] for s in s_cols]]
            A = A - Q @ (Q.T @ A)
            B = B - Q @ (Q.T @ B)
            na, nb = np.linalg.norm(A, axis=0), np.linalg.norm(B, axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                out.loc[t_cols, s_cols] = (A.T @ B) / np.outer(na, nb)
    return out


def no_expression_near_duplicates(
    fold: Fold, expression: pd.DataFrame, study_of: Mapping[str, str], *, threshold: float = NEAR_DUPLICATE_THRESHOLD,
) -> CheckOutcome:
    """No test sample is the same animal / library as a training sample by expression fingerprint
    (`fingerprint_similarity` >= `threshold`): catches exact copies, technical replicates and
    re-processed duplicates (another pipeline's counts of the same reads) under any name."""
    train, test = _ids(fold.train_ids), _ids(fold.test_ids)
    sim = fingerprint_similarity(expression, study_of, test, train)
    values = sim.to_numpy()
    meta = {"n_train": len(train), "n_test": len(test), "threshold": threshold,
            "statistic": "correlation of within-study deviations, between-study difference partialled out"}
    failures = []
    if np.isfinite(values).any():
        i, j = np.unravel_index(np.nanargmax(np.where(np.isfinite(values), values, -np.inf)), values.shape)
        meta.update({"max_similarity": float(values[i, j]), "max_pair": [test[i], train[j]],
                     "median_similarity": float(np.nanmedian(values))})
        for i, j in np.argwhere(np.nan_to_num(values, nan=-np.inf) >= threshold):
            failures.append(f"test {test[i]} vs train {train[j]}: fingerprint similarity {values[i, j]:.3f}")
    else:
        failures.append("no comparable expression: cannot compare")
    return CheckOutcome.from_failures(
        f"expression fingerprint of every test vs every training sample (>= {threshold} fails)", failures, meta)


# 7 -------------------------------------------------------------------------------------------
def fold_labels_match_raw_group_strings(
    fold: Fold, evidence: pd.DataFrame, *, min_test: int = MIN_TEST_SAMPLES, min_per_class: int = 1,
) -> CheckOutcome:
    """The fold's labels vs the labels re-derived from the raw files' group strings (runsheet /
    SampleTable `Factor Value[Spaceflight]`: Flight 1, GC / VC 0, BC / AG none), sample by sample;
    then the SPEC §5 minimums (>= `min_test` test samples, each class >= `min_per_class` in train and
    test) counted on the re-derived labels, so a mis-parsed or edited label cannot make them pass."""
    train, test = _ids(fold.train_ids), _ids(fold.test_ids)
    failures = [p for p in _evidence_failures(evidence, train + test)]
    raw = evidence["label_from_raw"].reindex(train + test)
    group = evidence["group_raw"].reindex(train + test)
    for s, y in zip(train + test, list(fold.y_train) + list(fold.y_test)):
        r = raw.get(s)
        if r is None or (isinstance(r, float) and np.isnan(r)):
            failures.append(f"{s}: fold label {y} but the raw group string {group.get(s)!r} gives no binary label")
        elif float(r) != float(y):
            failures.append(f"{s}: fold label {y} but the raw group string {group.get(s)!r} gives {float(r)}")
    dist_train = label_distribution(raw.loc[train].dropna())
    dist_test = label_distribution(raw.loc[test].dropna())
    if len(test) < min_test:
        failures.append(f"test has {len(test)} samples (< {min_test})")
    for part, dist in (("train", dist_train), ("test", dist_test)):
        failures += [f"{part} has {n} {cls} samples by the raw group strings (< {min_per_class})"
                     for cls, n in dist.items() if n < min_per_class]
    return CheckOutcome.from_failures(
        "fold labels vs labels re-derived from the raw group strings; class minimums on the re-derived labels",
        failures,
        {"raw_train_label_distribution": dist_train, "raw_test_label_distribution": dist_test, "min_test": min_test},
    )


# 8 -------------------------------------------------------------------------------------------
def pathway_features_match_training_only_gsva(
    fold: Fold,
    features: pd.DataFrame,
    evidence: pd.DataFrame | None = None,
    *,
    protocol: str | None = None,
    expression: pd.DataFrame | None = None,
    symbol_map: pd.Series | None = None,
    gene_sets: Mapping[str, Iterable[str]] | None = None,
    scores_by_mission: Mapping[str, pd.DataFrame] | None = None,
    min_size: int = 15,
    max_size: int = 500,
    atol: float = 1e-12,
) -> CheckOutcome:
    """The pathway matrix stored for a fold (pathways x train + test ids: what model_predictions reads)
    vs the same features re-computed here, without the fold's record of its GSVA reference:

    strict: GSVA of the fold's samples with the duplicated-symbol choice and the kernel CDFs fitted on
      the fold's training ids that the raw files place in a training mission (`evidence`), called on
      the scoring primitives directly rather than through the builder, so a builder that fitted on
      other samples than it recorded (the test mission, all samples) is caught: GSVA scores of a
      sample depend on the reference it was scored against.
    seed: the stored per-study GSVA scores of the fold's missions, combined as published
      (`folds.fold_pathway_scores`); that those scores saw the test mission is the documented seed
      exception (check 4 reports it).
    Also: the matrix holds exactly the fold's train then test ids; pathway names are screened for
    label-derived patterns."""
    from genebench_assets.science.tasks.folds import fold_pathway_scores

    protocol = protocol or fold.protocol
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be 'seed' or 'strict', got {protocol!r}")
    ids = _ids(fold.train_ids) + _ids(fold.test_ids)
    failures = list(no_label_derived_features(_ids(features.index)).failures)
    meta: dict = {"protocol": protocol, "n_pathways": int(features.shape[0]), "n_samples": int(features.shape[1])}
    if _ids(features.columns) != ids:
        extra = [s for s in _ids(features.columns) if s not in set(ids)]
        failures.append(f"the stored matrix holds {features.shape[1]} samples, not the fold's {len(ids)} train + "
                        f"test ids in order (extra: {extra[:3]})")
        return CheckOutcome.from_failures("stored pathway features vs the fold's samples", failures, meta)
    if protocol == "seed":
        missions = sorted(set(fold.train_missions) | {fold.test_mission})
        absent = [m for m in missions if m not in (scores_by_mission or {})]
        if absent:
            failures.append(f"no stored per-study GSVA scores for missions {absent} to compare with")
            return CheckOutcome.from_failures("stored pathway features vs per-study GSVA scores", failures, meta)
        expected = fold_pathway_scores(scores_by_mission, missions).reindex(columns=ids)
        description = (f"{features.shape[0]} pathway features x {len(ids)} samples vs the stored per-study GSVA "
                       f"scores of missions {', '.join(missions)} (seed protocol, as published)")
    else:
        from genebench_assets.science.pathways.gene_sets import map_ensembl_to_symbols
        from genebench_assets.science.pathways.pathway_scoring import gsva_with_reference

        if expression is None or symbol_map is None or gene_sets is None:
            raise ValueError("the strict protocol's check needs expression, symbol map and gene sets")
        train_missions = set(fold.train_missions)
        raw_mission = evidence["mission_from_raw"] if evidence is not None else None
        reference = [s for s in _ids(fold.train_ids)
                     if raw_mission is None or (s in raw_mission.index and raw_mission[s] in train_missions)]
        meta["n_reference"] = len(reference)
        expr = expression.copy(deep=False)
        expr.columns = expr.columns.astype(str)
        missing = [s for s in ids if s not in expr.columns]
        if missing or len(reference) < 2:
            failures.append(f"cannot re-compute: samples without expression {missing[:3]}, "
                            f"{len(reference)} training samples by the raw files")
            return CheckOutcome.from_failures("stored pathway features vs GSVA on training samples", failures, meta)
        block = expr[ids].dropna(axis=0, how="any")
        by_symbol, _ = map_ensembl_to_symbols(block, symbol_map, variance_samples=reference)
        expected = gsva_with_reference(by_symbol, gene_sets, reference_samples=reference, kcdf="Gaussian",
                                       min_size=min_size, max_size=max_size)[ids]
        description = (f"{features.shape[0]} pathway features x {len(ids)} samples vs GSVA re-computed with kernels "
                       f"fitted on the {len(reference)} training samples of the raw-file training missions")
    got = features.copy()
    got.index = got.index.astype(str)
    expected.index = expected.index.astype(str)
    if list(got.index) != list(expected.index):
        only_stored = [p for p in got.index if p not in set(expected.index)]
        only_expected = [p for p in expected.index if p not in set(got.index)]
        failures.append(f"pathways differ: {len(only_stored)} stored only (e.g. {only_stored[:3]}), "
                        f"{len(only_expected)} expected only (e.g. {only_expected[:3]})")
    else:
        diff = np.abs(got.to_numpy(dtype=float) - expected.to_numpy(dtype=float))
        diff = np.where(np.isnan(diff), np.inf, diff)
        meta["max_abs_difference"] = float(diff.max()) if diff.size else 0.0
        if diff.size and diff.max() > atol:
            r, c = np.unravel_index(int(np.argmax(diff)), diff.shape)
            n_train_bad = int((diff[:, : len(fold.train_ids)] > atol).any(axis=0).sum())
            failures.append(
                f"{int((diff > atol).any(axis=0).sum())} of {len(ids)} samples' features ({n_train_bad} training) "
                f"differ from the re-computation, max |diff| {diff.max():.3g} at {got.index[r]} x {ids[c]}: "
                "the features were not computed as recorded")
    return CheckOutcome.from_failures(description, failures, meta)


# text-LLM track --------------------------------------------------------------------------------
def text_llm_examples_from_train_only(
    example_ids: Sequence[str], fold: Fold, metadata: pd.DataFrame | None = None
) -> CheckOutcome:
    """Few-shot examples of the text-LLM track are training samples of the fold only: each id is a
    training id, none a test id, and (when `metadata` is given) none from the held-out mission."""
    train, test = set(_ids(fold.train_ids)), set(_ids(fold.test_ids))
    failures = []
    for e in _ids(example_ids):
        if e in test:
            failures.append(f"{e} is a test sample")
        elif e not in train:
            failures.append(f"{e} is not a training sample of {fold.fold_id}")
    if metadata is not None:
        meta = metadata.set_index("sample_id") if "sample_id" in metadata.columns else metadata
        missions = pd.Series(meta["mission"].astype(str).to_numpy(), index=meta.index.astype(str))
        missions = missions[~missions.index.duplicated(keep="first")]
        failures += [f"{e} is from the held-out mission {fold.test_mission}"
                     for e in _ids(example_ids) if missions.get(e) == fold.test_mission]
    return CheckOutcome.from_failures(
        f"{len(example_ids)} few-shot example ids vs the fold's training ids",
        failures,
        {"n_examples": len(example_ids), "n_train": len(train), "fold_id": fold.fold_id},
    )
