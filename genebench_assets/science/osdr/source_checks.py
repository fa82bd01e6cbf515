"""Pure checks on raw counts and sample metadata (issue 2 "Checks"). Each returns a CheckOutcome;
`genebench_assets.defs.sources.checks` wraps them as blocking Dagster asset checks."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from genebench_assets.science.check_outcome import CheckOutcome

REQUIRED_METADATA = ("osd", "tissue", "mission", "group", "label", "strain", "source_file")
KNOWN_GROUPS = ("Flight", "GC", "VC", "BC", "AG")
# The label rule of the data contract: Flight = 1, GC / VC = 0, anything else not binary (NaN).
LABEL_OF_GROUP = {"Flight": 1.0, "GC": 0.0, "VC": 0.0}
FINGERPRINT_R = 0.9999
FINGERPRINT_MAX_GENES = 5000


def _sample_ids(metadata: pd.DataFrame) -> pd.Series:
    """Sample ids from a `sample_id` column if there is one (e.g. after reset_index), else the index."""
    if "sample_id" in metadata.columns:
        return metadata["sample_id"].astype(str).reset_index(drop=True)
    return pd.Series(metadata.index.astype(str), name="sample_id")


def _where(metadata: pd.DataFrame, positions) -> str:
    """' (OSD-48, OSD-137)' for the rows at `positions`, when the metadata knows the study."""
    if "osd" not in metadata.columns:
        return ""
    return f" ({', '.join(sorted(set(metadata['osd'].iloc[list(positions)].astype(str))))})"


def unique_sample_ids(metadata: pd.DataFrame) -> CheckOutcome:
    """Every sample id occurs once (a duplicate would be counted twice and could sit in train and test)."""
    ids = _sample_ids(metadata)
    dup = ids[ids.duplicated(keep=False)]
    failures = [
        f"{sid} appears {len(pos)} times{_where(metadata, pos)}"
        for sid, pos in dup.groupby(dup, sort=True).groups.items()
    ]
    return CheckOutcome.from_failures(
        "sample ids are unique", failures, {"n_samples": len(ids), "n_duplicated_ids": len(failures)}
    )


def counts_are_nonnegative_integers(counts: pd.DataFrame) -> CheckOutcome:
    """Every count is a finite, non-negative whole number (float columns holding whole numbers pass:
    Parquet round-trips of joined tables may widen int64 to float64)."""
    description = "counts are finite, non-negative integers"
    if counts.size == 0:
        return CheckOutcome(False, description, {"shape": list(counts.shape)}, ["the count matrix is empty"])
    non_numeric = [c for c in counts.columns if not pd.api.types.is_numeric_dtype(counts[c])
                   or pd.api.types.is_bool_dtype(counts[c])]
    if non_numeric:
        return CheckOutcome.from_failures(
            description, [f"sample {c}: non-numeric column ({counts[c].dtype})" for c in non_numeric],
            {"shape": list(counts.shape)},
        )
    values = counts.to_numpy(dtype="float64")
    finite = np.isfinite(values)
    problems = [
        ("missing or infinite", ~finite),
        ("negative", finite & (values < 0)),
        ("fractional", finite & (values != np.round(values))),
    ]
    failures, metadata = [], {"shape": list(counts.shape), "dtypes": sorted({str(d) for d in counts.dtypes})}
    for what, mask in problems:
        metadata[f"n_{what.split()[0]}"] = int(mask.sum())
        rows, cols = np.nonzero(mask)
        failures += [
            f"{what} count {values[r, c]:g} for gene {counts.index[r]} in sample {counts.columns[c]}"
            for r, c in zip(rows[:20], cols[:20])
        ]
        if len(rows) > 20:
            failures.append(f"... {len(rows) - 20} more {what} counts")
    return CheckOutcome.from_failures(description, failures, metadata)


def required_metadata_present(metadata: pd.DataFrame, required: tuple[str, ...] = REQUIRED_METADATA) -> CheckOutcome:
    """Every required column exists and is filled for every sample; `group` is a known group; `label`
    follows the group (Flight 1, GC / VC 0, BC / AG NaN) rather than being required to be non-null."""
    failures: list[str] = []
    missing_cols = [c for c in required if c not in metadata.columns]
    failures += [f"column {c!r} is missing" for c in missing_cols]
    ids = _sample_ids(metadata).to_numpy()
    n_empty = {}
    for col in required:
        if col in missing_cols or col == "label":
            continue
        values = metadata[col]
        empty = values.isna().to_numpy() | (values.astype(str).str.strip() == "").to_numpy()
        n_empty[col] = int(empty.sum())
        failures += [f"sample {sid}: {col} is empty" for sid in ids[empty][:20]]
    if "group" in metadata.columns:
        unknown = ~metadata["group"].isin(KNOWN_GROUPS).to_numpy() & metadata["group"].notna().to_numpy()
        failures += [f"sample {sid}: unknown group {g!r}" for sid, g in
                     zip(ids[unknown][:20], metadata["group"].to_numpy()[unknown][:20].tolist())]
        if "label" in required and "label" in metadata.columns:
            expected = metadata["group"].map(LABEL_OF_GROUP).astype("float64").to_numpy()
            label = pd.to_numeric(metadata["label"], errors="coerce").to_numpy(dtype="float64")
            wrong = ~((expected == label) | (np.isnan(expected) & np.isnan(label)))
            failures += [f"sample {sid}: label {lab!r} does not follow group {g!r}" for sid, lab, g in
                         zip(ids[wrong][:20], metadata["label"].to_numpy()[wrong][:20].tolist(),
                             metadata["group"].to_numpy()[wrong][:20].tolist())]
    return CheckOutcome.from_failures(
        f"required metadata present: {', '.join(required)}", failures,
        {"n_samples": len(metadata), "missing_columns": missing_cols, "n_empty": n_empty},
    )


def _binary_counts(metadata: pd.DataFrame, after_exclusions: bool = True) -> tuple[int, int]:
    """(Flight, Ground) among non-excluded (or, if not `after_exclusions`, all) binary samples; label if
    present, else group."""
    kept = metadata
    if after_exclusions and "excluded" in metadata.columns:
        kept = metadata[~metadata["excluded"].fillna(False).astype(bool)]
    if "label" in kept.columns:
        label = pd.to_numeric(kept["label"], errors="coerce")
        return int((label == 1).sum()), int((label == 0).sum())
    cls = kept["group"].map({"Flight": "Flight", "GC": "Ground", "VC": "Ground"})
    return int((cls == "Flight").sum()), int((cls == "Ground").sum())


def flight_ground_minimums(metadata: pd.DataFrame, min_per_class: int = 3) -> CheckOutcome:
    """At least `min_per_class` Flight and Ground (GC + VC) samples among non-excluded binary samples."""
    n_flight, n_ground = _binary_counts(metadata)
    failures = [f"{name}: {n} < {min_per_class} after exclusions"
                for name, n in (("Flight", n_flight), ("Ground", n_ground)) if n < min_per_class]
    return CheckOutcome.from_failures(
        f">= {min_per_class} Flight and >= {min_per_class} Ground non-excluded samples", failures,
        {"n_flight": n_flight, "n_ground": n_ground, "min_per_class": min_per_class},
    )


def expected_counts_match(metadata: pd.DataFrame, expected_flight: int, expected_ground: int, *,
                          after_exclusions: bool = True) -> CheckOutcome:
    """Flight / Ground counts after exclusions equal the catalog's (SPEC §2). `after_exclusions=False`
    counts every binary sample: for studies added by the refresh sensor, whose expected counts are
    their sample table's as discovered, before any QC exclusion."""
    n_flight, n_ground = _binary_counts(metadata, after_exclusions)
    when = "after exclusions" if after_exclusions else "before exclusions"
    failures = [f"{name}: {got} samples {when}, catalog expects {want}"
                for name, got, want in (("Flight", n_flight, expected_flight), ("Ground", n_ground, expected_ground))
                if got != want]
    return CheckOutcome.from_failures(
        f"Flight / Ground counts {when} vs the catalog", failures,
        {"n_flight": n_flight, "n_ground": n_ground,
         "expected_flight": int(expected_flight), "expected_ground": int(expected_ground)},
    )


def advisory(outcome: CheckOutcome, why: str) -> CheckOutcome:
    """A failed outcome turned into a passing one that still shows what it found (`advisory_mismatch`):
    for checks a user catalog declares advisory (`expected_counts: advisory`)."""
    if outcome.passed:
        return outcome
    return CheckOutcome(True, f"{outcome.description} (advisory: {why})",
                        {**outcome.metadata, "advisory": True, "advisory_mismatch": list(outcome.failures)}, [])


def expression_fingerprint(frame: pd.DataFrame) -> pd.DataFrame:
    """What `no_sample_in_two_studies` compares, per study (genes x samples): it depends on that study's
    table only, so a caller may compute it once per table and pass it with `fingerprinted=True`.

    log2(CPM + 1) for counts (whole numbers), the values as given for log2 expression: Pearson r on
    a log scale is not dominated by a handful of very highly expressed genes, and CPM makes a
    re-sequenced or re-scaled copy of a sample look like the original."""
    frame = frame.dropna(axis=0, how="any").astype("float64")
    values = frame.to_numpy()
    if values.size and (values >= 0).all() and (values == np.round(values)).all():
        lib = values.sum(axis=0)
        lib[lib == 0] = 1.0
        frame = pd.DataFrame(np.log2(values / lib * 1e6 + 1.0), index=frame.index, columns=frame.columns)
    return frame


def no_sample_in_two_studies(samples_by_study: Mapping[str, pd.DataFrame], threshold: float = FINGERPRINT_R,
                             max_genes: int = FINGERPRINT_MAX_GENES, *, fingerprinted: bool = False) -> CheckOutcome:
    """The duplicate-study trap (OSD-168 re-processes OSD-48 / OSD-137): no sample may belong to two
    studies. Detected (1) by sample id and (2) by expression fingerprint: Pearson r >= `threshold`
    between samples of different studies, on the genes all studies share (the `max_genes` with the
    highest mean, for speed: one matrix product over all samples). Input per study: counts or log2
    expression, genes x samples; with `fingerprinted=True`, each study's `expression_fingerprint`
    instead (the same outcome, without recomputing it)."""
    studies = {k: v for k, v in samples_by_study.items() if v is not None and v.shape[1] > 0}
    failures: list[str] = []

    owners: dict[str, list[str]] = {}
    for study, frame in studies.items():
        for sid in map(str, frame.columns):
            owners.setdefault(sid, []).append(study)
    by_id = {sid: sorted(set(s)) for sid, s in owners.items() if len(set(s)) > 1}
    failures += [f"sample id {sid} is in {', '.join(s)}" for sid, s in sorted(by_id.items())]

    prints = dict(studies) if fingerprinted else {study: expression_fingerprint(frame) for study, frame in studies.items()}
    common = None
    for fp in prints.values():
        common = fp.index if common is None else common.intersection(fp.index)
    n_pairs = 0
    n_genes = 0 if common is None else len(common)
    if len(prints) >= 2 and n_genes >= 3:
        stacked = pd.concat([fp.loc[common] for fp in prints.values()], axis=1)
        if n_genes > max_genes:  # the most expressed shared genes: least noise, same for every study
            top = np.argsort(-stacked.mean(axis=1).to_numpy(), kind="stable")[:max_genes]
            stacked = stacked.iloc[np.sort(top)]
        study_of = np.concatenate([[i] * fp.shape[1] for i, fp in enumerate(prints.values())])
        names = list(prints)
        x = stacked.to_numpy(dtype="float64").T
        x = x - x.mean(axis=1, keepdims=True)
        norm = np.linalg.norm(x, axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.where(norm > 0, x / norm, 0.0)  # constant samples correlate with nothing
        r = z @ z.T
        cross = study_of[:, None] < study_of[None, :]  # each pair of different studies once
        rows, cols = np.nonzero(cross & (r >= threshold))
        n_pairs = len(rows)
        ids = list(stacked.columns)
        order = np.argsort(-r[rows, cols], kind="stable")
        failures += [
            f"{ids[rows[k]]} ({names[study_of[rows[k]]]}) ~ {ids[cols[k]]} ({names[study_of[cols[k]]]}): "
            f"Pearson r = {r[rows[k], cols[k]]:.6f}"
            for k in order
        ]
        n_genes = stacked.shape[0]
    return CheckOutcome.from_failures(
        f"no sample in two studies: by sample id, and by Pearson r >= {threshold} on log expression "
        "between samples of different studies",
        failures,
        {"n_studies": len(studies), "n_samples": int(sum(f.shape[1] for f in studies.values())),
         "n_shared_ids": len(by_id), "n_fingerprint_pairs": int(n_pairs), "n_genes_compared": int(n_genes)},
    )
