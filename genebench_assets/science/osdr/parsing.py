"""One parser for GeneLab files, whatever the source mode (demo, live OSDR, mirror).

Counts (`*_Unnormalized_Counts*.csv`, RSEM or STAR: genelab_files.py): first column = gene id (its
header may be empty), other columns = samples. RSEM writes *expected* counts, which may be fractional
(the older pipeline's files are); like DESeq2 users we round them half-to-even to integers and record
how many cells were rounded (`df.attrs["parse_report"]`). Negative, missing, infinite or non-numeric
cells are errors.

Line endings LF or CRLF; a final newline is optional (older GeneLab files have CRLF and none). A
truncated file is recognised by its last line having fewer fields than the header (with no final
newline: cut during a copy or download), by a gene count other than the one the source declares
(mirror `study.yaml` `n_genes`) and, for live downloads, by a size other than the listing's
`file_size` (live_client.py). A cut inside the last value that leaves every field is caught only by
the declared size or a checksum (mirror `SHA256SUMS`, the download cache's manifest).

Sample tables, the layouts we read (the group column is found by name, case-insensitively):
- GeneLab runsheet (`*_bulkRNASeq_v1/v2_runsheet.csv`): `Sample Name` + `Factor Value[Spaceflight]`;
- GeneLab SampleTable (`*_SampleTable*.csv`): the sample id in a `sample` / `Sample Name` / `sample_id`
  column or, as R's `write.csv` leaves it, in an unnamed first column; the group in
  `Factor Value[Spaceflight]`, else `condition`, else `group`. A `condition` that joins several factor
  values (`Space Flight & Upon euthanasia`, optionally in parentheses) yields the one part that is a
  known group string; the whole string is kept in `condition_raw`.

`assemble_study` / `assemble_pair` turn these into the counts and sample-metadata contracts of
docs/ARCHITECTURE.md (QC columns are added later by `sample_qc`).
"""

from __future__ import annotations

import csv
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from genebench_assets.science.osdr.polars_csv import read_csv_cells
from genebench_assets.science.osdr.group_labels import BC, AG, binary_label, is_known_group_string, map_group
from genebench_assets.science.osdr.source_files import (
    COUNTS,
    RUNSHEET,
    SAMPLE_TABLE,
    MissingStudyFilesError,
    SourceFile,
    StudyDataError,
)
from genebench_assets.science.osdr.strains import name_tokens, parse_strain
from genebench_assets.science.osdr.study_catalog import Study

log = logging.getLogger("genebench.osdr.parsing")

METADATA_COLUMNS = [
    "osd",
    "glds_prefix",
    "tissue",
    "mission",
    "site",
    "source_file",
    "group_raw",
    "group",
    "label",
    "strain",
    "excluded",
    "exclusion_reason",
]
# Groups kept in the metadata but not binary samples (SPEC §2: kept for the D tasks).
NON_BINARY_GROUPS = (BC, AG)
_MAX_LISTED = 10  # ids listed in an error message before "... and N more"


def _listed(items: list[Any]) -> str:
    items = list(items)
    head = ", ".join(repr(i) for i in items[:_MAX_LISTED])
    return head + (f" ... and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else "")


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _duplicates(values: list[str]) -> list[str]:
    seen: set[str] = set()
    dups: dict[str, None] = {}
    for v in values:
        if v in seen:
            dups[v] = None
        seen.add(v)
    return list(dups)


# ------------------------------------------------------------------------------- CSV structure
def _open_text(path: Path, osd: str):
    try:
        f = open(path, newline="", encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise MissingStudyFilesError(osd, path.name, f"file not found at {path}") from exc
    return f


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as f:
        f.seek(0, 2)
        if f.tell() == 0:
            return True
        f.seek(-1, 2)
        return f.read(1) in (b"\n", b"\r")


def _line_endings(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    return "CRLF" if b"\r\n" in head else "LF"


def _scan_csv(path: Path, osd: str, keep_rows: bool) -> tuple[list[str], int, list[list[str]], int]:
    """Check a CSV is rectangular, streaming; returns (header, number of data rows, rows if asked,
    line number of the last data row).

    Blank lines are skipped (as pandas does); LF and CRLF line endings are read alike and a final
    newline is optional. A last line with fewer fields than the header and no final newline is a
    truncated file; errors name the file, the line and the field counts.
    """
    name = path.name
    header: list[str] | None = None
    header_line = 0
    n_rows = 0
    last_line = 0
    rows: list[list[str]] = []
    with _open_text(path, osd) as f:
        reader = csv.reader(f, strict=True)
        try:
            for row in reader:
                if not row:
                    continue
                if header is None:
                    header, header_line = row, reader.line_num
                    continue
                if len(row) != len(header):
                    line = reader.line_num
                    if len(row) < len(header) and next((r for r in reader if r), None) is None \
                            and not _ends_with_newline(path):
                        raise StudyDataError(
                            osd, name,
                            f"truncated: the last line (line {line}) has {len(row)} of the header's "
                            f"{len(header)} fields and the file ends without a newline, so it was cut during "
                            "a copy or download",
                            field=f"line {line}", value=",".join(row)[:80],
                        )
                    raise StudyDataError(
                        osd, name,
                        f"malformed CSV: line {line} has {len(row)} fields, the header "
                        f"(line {header_line}) has {len(header)}",
                        field=f"line {line}", value=",".join(row)[:80],
                    )
                n_rows += 1
                last_line = reader.line_num
                if keep_rows:
                    rows.append(row)
        except csv.Error as exc:
            raise StudyDataError(osd, name, f"malformed CSV at line {reader.line_num}: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise StudyDataError(osd, name, f"not a UTF-8 text file ({exc})") from exc
    if header is None or not any(h.strip() for h in header):
        raise StudyDataError(osd, name, "empty file", field="size", value=path.stat().st_size)
    if n_rows == 0:
        raise StudyDataError(osd, name, "header only: no data rows", field="header", value=",".join(header)[:80])
    return header, n_rows, rows, last_line


# ------------------------------------------------------------------------------------ counts
def read_counts_csv(path: str | Path, *, osd: str, fractional: str = "round",
                    expected_genes: int | None = None) -> pd.DataFrame:
    """GeneLab unnormalized counts -> int64 genes x samples, index name `gene_id`.

    fractional="round" (default) rounds RSEM expected counts half-to-even and records the number of
    rounded cells in `attrs["parse_report"]`; fractional="error" rejects them. LF or CRLF, with or
    without a final newline. A file whose last line has fewer fields than the header, or whose gene
    count differs from ``expected_genes`` (when the source declares it), is rejected: a truncated
    table must not pass as a smaller study.
    """
    if fractional not in ("round", "error"):
        raise ValueError(f"fractional must be 'round' or 'error', got {fractional!r}")
    path = Path(path)
    name = path.name
    header, n_rows, _, last_line = _scan_csv(path, osd, keep_rows=False)
    if expected_genes is not None and n_rows != expected_genes:
        raise StudyDataError(osd, name, f"{n_rows} gene rows, but the source declares {expected_genes} "
                             f"(truncated or wrong file; last data line {last_line})",
                             field="n_genes", value=n_rows)
    samples = [h.strip() for h in header[1:]]
    if not samples:
        raise StudyDataError(osd, name, "no sample columns: the header has only the gene id column",
                             field="header", value=",".join(header))
    empty = [i + 2 for i, s in enumerate(samples) if not s]
    if empty:
        raise StudyDataError(osd, name, f"empty sample id in header column(s) {empty}", field="header",
                             value=",".join(header)[:80])
    dup_samples = _duplicates(samples)
    if dup_samples:
        raise StudyDataError(osd, name, f"duplicated sample ids: {_listed(dup_samples)}", field="sample_id",
                             value=dup_samples[0])

    # The structure is known to be rectangular: let pandas' C parser read the values.
    try:
        # polars reads the cells (x2.4 faster than pd.read_csv here: benchmarks/counts_parsing.py)
        raw = read_csv_cells(path)
    except (pd.errors.ParserError, ValueError) as exc:
        raise StudyDataError(osd, name, f"malformed CSV: {exc}") from exc
    raw.columns = range(raw.shape[1])
    genes = [g.strip() for g in raw[0].astype(str)]
    if any(not g for g in genes):
        raise StudyDataError(osd, name, f"empty gene id on data row {genes.index('') + 1}", field="gene_id", value="")
    dup_genes = _duplicates(genes)
    if dup_genes:
        raise StudyDataError(osd, name, f"duplicated gene ids: {_listed(dup_genes)}", field="gene_id",
                             value=dup_genes[0])
    columns = []
    for j, sample in enumerate(samples, start=1):
        col = raw[j]
        if col.dtype == object:
            num = pd.to_numeric(col.str.strip(), errors="coerce")
            bad = num.isna().to_numpy()
            if bad.any():
                gi = int(np.argmax(bad))
                cell = col.iloc[gi]
                problem = "missing count (empty cell)" if not str(cell).strip() else "non-numeric count"
                if str(cell).strip().lower() in ("na", "nan", "null", "none"):
                    problem = "missing count (NA)"
                raise StudyDataError(
                    osd, name, f"{problem} for gene {genes[gi]!r}, sample {sample!r} ({int(bad.sum())} such cell(s) "
                    f"in this column)", field="count", value=cell,
                )
            col = num
        columns.append(col.to_numpy(dtype=np.float64))
    values = np.column_stack(columns)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        gi, si = map(int, np.argwhere(bad)[0])
        v = values[gi, si]
        what = "negative count" if v < 0 else "non-finite count"
        raise StudyDataError(
            osd, name,
            f"{what} for gene {genes[gi]!r}, sample {samples[si]!r} ({int(bad.sum())} bad cell(s) in the file)",
            field="count", value=_plain(raw[si + 1].iloc[gi]),
        )
    rounded = np.rint(values)  # half-to-even
    frac = np.abs(values - rounded) > 1e-9
    n_rounded = int(frac.sum())
    if n_rounded and fractional == "error":
        gi, si = map(int, np.argwhere(frac)[0])
        raise StudyDataError(
            osd, name,
            f"fractional count for gene {genes[gi]!r}, sample {samples[si]!r} ({n_rounded} fractional cell(s))",
            field="count", value=_plain(raw[si + 1].iloc[gi]),
        )
    if rounded.max() >= 2.0**63:
        raise StudyDataError(osd, name, "count too large for int64", field="count", value=float(rounded.max()))
    df = pd.DataFrame(rounded.astype(np.int64), index=pd.Index(genes, name="gene_id"), columns=samples)
    if n_rounded:
        log.info("%s: %s: rounded %d fractional RSEM expected counts to integers", osd, name, n_rounded)
    df.attrs["parse_report"] = {
        "osd": osd,
        "file_name": name,
        "n_genes": len(genes),
        "n_samples": len(samples),
        "n_rounded": n_rounded,
        "max_abs_rounding": float(np.abs(values - rounded).max()),
        "line_endings": _line_endings(path),
        "final_newline": _ends_with_newline(path),
    }
    return df


# ------------------------------------------------------------------------------ sample tables
_SAMPLE_COLUMNS = ("sample name", "sample", "sample_id", "sample id", "samples")
_GROUP_COLUMN_PATTERN = re.compile(r"^factor\s*value\s*\[\s*space\s*flight\s*\]$", re.IGNORECASE)
_GROUP_FALLBACKS = ("condition", "group")


def _find_group_column(columns: list[str]) -> str | None:
    for c in columns:
        if _GROUP_COLUMN_PATTERN.match(c.strip()):
            return c
    lowered = {c.strip().lower(): c for c in columns}
    for fallback in _GROUP_FALLBACKS:
        if fallback in lowered:
            return lowered[fallback]
    return None


def _group_part(condition: str) -> str:
    """The known group string inside a joined SampleTable condition, else the whole string."""
    text = condition.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    if "&" not in text:
        return text
    known = [p.strip() for p in text.split("&") if is_known_group_string(p)]
    return known[0] if len(known) == 1 else condition


def read_sample_table(path: str | Path, *, osd: str) -> pd.DataFrame:
    """A runsheet or SampleTable -> index `sample_id`, columns `group_raw`, `table_file`, `table_layout`
    (+ `condition_raw`, `original_sample_name` when the file has them)."""
    path = Path(path)
    name = path.name
    raw_header, _, body, _ = _scan_csv(path, osd, keep_rows=True)
    header = [h.strip() for h in raw_header]
    frame = pd.DataFrame(body, columns=range(len(header)), dtype=object)
    lowered = [h.lower() for h in header]

    sample_idx = next((lowered.index(c) for c in _SAMPLE_COLUMNS if c in lowered), None)
    if sample_idx is None and header[0] in ("", "Unnamed: 0"):
        sample_idx = 0  # R write.csv row names
    group_col = _find_group_column(header)
    if sample_idx is None or group_col is None:
        missing = "sample id column" if sample_idx is None else "group column"
        raise StudyDataError(
            osd, name,
            f"not a recognised runsheet / SampleTable: no {missing} (looked for {list(_SAMPLE_COLUMNS)} or an "
            f"unnamed first column, and 'Factor Value[Spaceflight]' / {list(_GROUP_FALLBACKS)})",
            field="header", value=",".join(header)[:120],
        )
    group_idx = header.index(group_col)
    sample_ids = [str(s).strip() for s in frame[sample_idx]]
    if any(not s for s in sample_ids):
        raise StudyDataError(osd, name, f"empty sample id on data row {sample_ids.index('') + 1}",
                             field=header[sample_idx] or "sample_id", value="")
    dups = _duplicates(sample_ids)
    if dups:
        raise StudyDataError(osd, name, f"duplicated sample ids: {_listed(dups)}",
                             field=header[sample_idx] or "sample_id", value=dups[0])
    raw_groups = [str(g).strip() for g in frame[group_idx]]
    is_runsheet = bool(_GROUP_COLUMN_PATTERN.match(group_col)) and lowered[sample_idx] == "sample name"
    out = pd.DataFrame(index=pd.Index(sample_ids, name="sample_id"))
    if _GROUP_COLUMN_PATTERN.match(group_col):
        out["group_raw"] = raw_groups
    else:
        out["group_raw"] = [_group_part(g) for g in raw_groups]
        out["condition_raw"] = raw_groups
    if "original sample name" in lowered:
        out["original_sample_name"] = [str(s).strip() for s in frame[lowered.index("original sample name")]]
    out["table_file"] = name
    out["table_layout"] = "runsheet" if is_runsheet else "sample_table"
    return out


# ----------------------------------------------------------------------------------- assembly
def _pick(files: list[SourceFile], kinds: tuple[str, ...]) -> SourceFile | None:
    for kind in kinds:  # kinds in order of preference; within a kind, the caller's order
        for f in files:
            if f.kind == kind:
                return f
    return None


def assemble_study(study: Study, files: list[SourceFile], *, fractional: str = "round") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts (int64 genes x samples) and sample metadata (contract columns, no QC yet) of one study.

    The study's `sample_filter` is applied in order name_token, strain, exclude_groups; samples it
    removes are dropped (reasons logged and kept in `metadata.attrs["dropped_samples"]`). BC and AG
    samples of the kept set stay, with `excluded=True` and a reason. The group table is the runsheet
    when there is one (explicit `Factor Value[Spaceflight]`), else the SampleTable. `source_file` is the
    counts file's name; `strain` is None when the sample name carries no strain token (GSM / SRR ids).
    """
    own = [f for f in files if f.osd == study.osd]
    counts_file = _pick(own, (COUNTS,))
    table_file = _pick(own, (RUNSHEET, SAMPLE_TABLE))
    if counts_file is None or table_file is None:
        missing = [k for k, f in (("unnormalized counts", counts_file), ("runsheet / SampleTable", table_file)) if f is None]
        raise MissingStudyFilesError(
            study.osd, None,
            f"no {' and no '.join(missing)} file among {[f.file_name for f in own] or 'no files'}",
            field="kind", value=", ".join(missing),
        )
    counts = read_counts_csv(counts_file.path, osd=study.osd, fractional=fractional,
                             expected_genes=counts_file.expected_rows)
    table = read_sample_table(table_file.path, osd=study.osd)

    in_counts, in_table = list(counts.columns), set(table.index)
    only_counts = [s for s in in_counts if s not in in_table]
    only_table = [s for s in table.index if s not in set(in_counts)]
    if only_counts or only_table:
        raise StudyDataError(
            study.osd, f"{counts_file.file_name} vs {table_file.file_name}",
            f"sample ids differ between counts and sample table: only in counts: [{_listed(only_counts)}]; "
            f"only in table: [{_listed(only_table)}]",
            field="sample_id", value=(only_counts or only_table)[0],
        )
    table = table.loc[in_counts]
    dropped: dict[str, str] = {}
    flt = study.sample_filter or {}

    token = flt.get("name_token")
    if token:
        for s in list(table.index):
            if token not in name_tokens(s):
                dropped[s] = f"sample_filter name_token: name lacks token {token!r}"
        table = table.drop(index=[s for s in table.index if s in dropped])

    groups = [map_group(v, osd=study.osd, sample=s, file_name=table_file.file_name)
              for s, v in table["group_raw"].items()]
    table = table.assign(group=groups)
    strains: list[str | None] = []
    for s in table.index:
        try:
            strains.append(parse_strain(s))
        except ValueError as exc:
            raise StudyDataError(study.osd, counts_file.file_name, str(exc), field="sample_id", value=s) from exc
    table = table.assign(strain=strains)

    want_strain = flt.get("strain")
    if want_strain:
        unknown = [s for s, v in table["strain"].items() if v is None]
        if unknown:
            raise StudyDataError(
                study.osd, counts_file.file_name,
                f"sample_filter strain {want_strain!r} needs a strain token in every sample name; none in "
                f"[{_listed(unknown)}]",
                field="sample_id", value=unknown[0],
            )
        for s, v in table["strain"].items():
            if v != want_strain:
                dropped[s] = f"sample_filter strain: {v} is not {want_strain}"
        table = table.drop(index=[s for s in table.index if s in dropped])

    exclude_groups = list(flt.get("exclude_groups") or [])
    if exclude_groups:
        for s, g in table["group"].items():
            if g in exclude_groups:
                dropped[s] = f"sample_filter exclude_groups: group {g}"
        table = table.drop(index=[s for s in table.index if s in dropped])

    if table.empty:
        raise StudyDataError(study.osd, counts_file.file_name, f"sample_filter {flt} leaves no samples",
                             field="sample_filter", value=str(flt))
    for s, reason in dropped.items():
        log.info("%s (%s %s): dropped %s: %s", study.osd, study.tissue, study.mission, s, reason)

    excluded = table["group"].isin(NON_BINARY_GROUPS)
    meta = pd.DataFrame(
        {
            "osd": study.osd,
            "glds_prefix": study.glds_prefix,
            "tissue": study.tissue,
            "mission": study.mission,
            "site": study.site,
            "source_file": counts_file.file_name,
            "group_raw": table["group_raw"],
            "group": table["group"],
            "label": [binary_label(g) for g in table["group"]],
            "strain": table["strain"],
            "excluded": excluded.astype(bool),
            "exclusion_reason": [
                f"group {g} is not a binary sample (kept for D tasks)" if x else ""
                for g, x in zip(table["group"], excluded)
            ],
        },
        index=pd.Index(table.index, name="sample_id"),
    )[METADATA_COLUMNS]
    meta["label"] = meta["label"].astype(np.float64)
    meta.attrs["dropped_samples"] = dropped
    meta.attrs["table_file"] = table_file.file_name

    report = dict(counts.attrs.get("parse_report", {}))
    if counts_file.quantifier is not None:  # whose counts these are: recorded beside the rounding report
        report["quantifier"] = counts_file.quantifier
    counts = counts[list(meta.index)]
    counts.attrs["parse_report"] = report
    return counts, meta


def assemble_pair(
    studies: list[Study], files_by_osd: dict[str, list[SourceFile]], *, fractional: str = "round"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts and metadata of a (tissue, mission) pair drawn from one or several studies.

    One study: its int64 counts. Several studies (skin MHU-2 = OSD-238 + OSD-239): counts are
    outer-joined on gene id and returned as float64, because a gene missing from one study stays
    missing (NaN), never 0 (docs/ARCHITECTURE.md). Metadata rows are concatenated in study order.
    A sample id in two studies is an error.
    """
    if not studies:
        raise ValueError("assemble_pair needs at least one study")
    parts: list[tuple[Study, pd.DataFrame, pd.DataFrame]] = []
    for study in studies:
        if study.osd not in files_by_osd:
            raise MissingStudyFilesError(study.osd, None, "no files were fetched for this study")
        counts, meta = assemble_study(study, files_by_osd[study.osd], fractional=fractional)
        parts.append((study, counts, meta))
    owner: dict[str, str] = {}
    for study, _, meta in parts:
        clash = [s for s in meta.index if s in owner]
        if clash:
            raise StudyDataError(
                study.osd, meta["source_file"].iloc[0],
                f"sample ids also in {owner[clash[0]]}: [{_listed(clash)}] (the same sample in two studies)",
                field="sample_id", value=clash[0],
            )
        owner.update({s: study.osd for s in meta.index})
    dropped = {s: r for _, _, m in parts for s, r in m.attrs.get("dropped_samples", {}).items()}
    reports = [c.attrs.get("parse_report", {}) for _, c, _ in parts]
    if len(parts) == 1:
        counts, meta = parts[0][1], parts[0][2]
    else:
        counts = pd.concat([c.astype(np.float64) for _, c, _ in parts], axis=1, join="outer", sort=False)
        counts.index.name = "gene_id"
        meta = pd.concat([m for _, _, m in parts], axis=0)
    # merged_from: the contract of a merged pair allows the NaNs of its outer join (science/contracts.py)
    counts.attrs = {"parse_reports": reports, "merged_from": [s.osd for s, _, _ in parts]}
    meta.attrs = {"dropped_samples": dropped}
    return counts, meta
