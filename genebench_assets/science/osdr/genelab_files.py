"""Which GeneLab files of a study we use (SPEC §3): a pure choice over a list of file names.

Every source mode (live OSDR listing, mirror folder, embedded demo) hands its file names to
`select_study_files`, so the three modes cannot disagree about which file is "the counts".

For each kind the candidate names are tried in order and the first one present wins (P is the
study's GeneLab prefix, e.g. GLDS-48; OSD-686 uses GLDS-617):

- counts:            P_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv, then P_rna_seq_RSEM_Unnormalized_Counts.csv
- normalized counts: P_rna_seq_Normalized_Counts_GLbulkRNAseq.csv, then P_rna_seq_Normalized_Counts.csv
- sample table:      P_rna_seq_SampleTable_GLbulkRNAseq.csv, then P_rna_seq_SampleTable.csv
- runsheet:          P_rna_seq_bulkRNASeq_v2_runsheet.csv / P_bulkRNASeq_v2_runsheet.csv, then the same
                     with v1 (real runsheets are named without `_rna_seq`, e.g. GLDS-48_bulkRNASeq_v1_runsheet.csv)

Counts plus (sample table or runsheet) are required; normalized counts are optional.
Names are matched exactly (GeneLab's spelling is stable; a fuzzy match could pick the wrong file).
"""

from __future__ import annotations

import re

from genebench_assets.science.osdr.source_files import (
    COUNTS,
    NORMALIZED_COUNTS,
    RUNSHEET,
    SAMPLE_TABLE,
    MissingStudyFilesError,
    StudyDataError,
)

# Suffixes after the prefix, per kind, in order of preference (first match wins).
_SUFFIXES: dict[str, tuple[str, ...]] = {
    COUNTS: (
        "_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv",
        "_rna_seq_RSEM_Unnormalized_Counts.csv",
    ),
    NORMALIZED_COUNTS: (
        "_rna_seq_Normalized_Counts_GLbulkRNAseq.csv",
        "_rna_seq_Normalized_Counts.csv",
    ),
    SAMPLE_TABLE: (
        "_rna_seq_SampleTable_GLbulkRNAseq.csv",
        "_rna_seq_SampleTable.csv",
    ),
    RUNSHEET: (
        "_rna_seq_bulkRNASeq_v2_runsheet.csv",
        "_bulkRNASeq_v2_runsheet.csv",
        "_rna_seq_bulkRNASeq_v1_runsheet.csv",
        "_bulkRNASeq_v1_runsheet.csv",
    ),
}
KINDS = (COUNTS, NORMALIZED_COUNTS, SAMPLE_TABLE, RUNSHEET)
REQUIRED = COUNTS
ONE_OF_TABLES = (SAMPLE_TABLE, RUNSHEET)  # at least one of these is required

_PREFIX_RE = re.compile(r"^GLDS-\d+$")
_MAX_LISTED = 8  # how many listing names an error message quotes


def candidate_names(glds_prefix: str) -> dict[str, list[str]]:
    """Every accepted file name per kind, in order of preference."""
    _check_prefix(glds_prefix)
    return {kind: [glds_prefix + s for s in _SUFFIXES[kind]] for kind in KINDS}


def file_kind(file_name: str) -> str | None:
    """The kind of a GeneLab file name, whatever its prefix; None for files we do not use."""
    for kind in KINDS:
        for suffix in _SUFFIXES[kind]:
            if file_name.endswith(suffix) and _PREFIX_RE.match(file_name[: -len(suffix)]):
                return kind
    return None


def select_study_files(osd: str, glds_prefix: str, file_names: list[str], *, where: str = "the listing") -> dict[str, str]:
    """Map kind -> chosen file name for one study; raise MissingStudyFilesError if counts or a table is missing.

    `where` says what `file_names` came from ("the OSDR listing", "folder /data/OSD-48") for the error.
    """
    if not _PREFIX_RE.match(glds_prefix or ""):
        raise StudyDataError(osd, None, "GeneLab prefix must look like 'GLDS-48'", field="glds_prefix", value=glds_prefix)
    present = set(file_names)
    chosen: dict[str, str] = {}
    for kind, names in candidate_names(glds_prefix).items():
        hit = next((n for n in names if n in present), None)
        if hit is not None:
            chosen[kind] = hit

    missing = []
    if REQUIRED not in chosen:
        missing.append(COUNTS)
    if not any(k in chosen for k in ONE_OF_TABLES):
        missing.append(" or ".join(ONE_OF_TABLES))
    if missing:
        names = candidate_names(glds_prefix)
        expected = []
        if REQUIRED not in chosen:
            expected.append(f"counts: {' / '.join(names[COUNTS])}")
        if not any(k in chosen for k in ONE_OF_TABLES):
            expected.append(f"table: {' / '.join(names[SAMPLE_TABLE] + names[RUNSHEET])}")
        raise MissingStudyFilesError(
            osd,
            None,
            f"{where} lacks the GeneLab bulk RNA-seq {' and '.join(missing)} file (expected {'; '.join(expected)}); "
            f"it has {_brief(file_names)}",
            field="kind",
            value=", ".join(missing),
        )
    return chosen


def is_safe_file_name(name: str) -> bool:
    """True for a plain file name: no path separators, no '..', not absolute, no NUL, not empty.

    File names come from a remote listing; one like '../../etc/passwd' must never become a path.
    """
    if not isinstance(name, str) or not name or name == ".":
        return False
    if "\x00" in name or "/" in name or "\\" in name:  # separators of POSIX and Windows
        return False
    if ".." in name:  # strict: GeneLab names never contain '..'
        return False
    return not re.match(r"^[A-Za-z]:", name)  # a drive letter is absolute on Windows


def _check_prefix(glds_prefix: str) -> None:
    # The prefix comes from the catalog; refuse anything that could make a chosen name a path.
    if not _PREFIX_RE.match(glds_prefix or ""):
        raise ValueError(f"GeneLab prefix must look like 'GLDS-48', got {glds_prefix!r}")


def _brief(file_names: list[str]) -> str:
    if not file_names:
        return "no files"
    shown = ", ".join(sorted(file_names)[:_MAX_LISTED])
    more = f", ... ({len(file_names) - _MAX_LISTED} more)" if len(file_names) > _MAX_LISTED else ""
    return f"{len(file_names)} file(s): {shown}{more}"
