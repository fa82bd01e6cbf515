"""Which GeneLab files of a study we use (SPEC §3): a pure choice over a list of file names.

Every source mode (live OSDR listing, mirror folder, embedded demo) hands its file names to
`select_study_files`, so the three modes cannot disagree about which file is "the counts".

For each kind the candidate names are tried in order and the first one present wins (P is the
study's GeneLab prefix, e.g. GLDS-48; OSD-686 uses GLDS-617):

- counts, by quantifier (a setting, `GENEBENCH_QUANTIFIER`; RSEM by default as SPEC §3 says):
    RSEM: P_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv, P_rna_seq_RSEM_Unnormalized_Counts_rRNArm_GLbulkRNAseq.csv
          (ribosomal RNA removed), P_rna_seq_RSEM_Unnormalized_Counts.csv, then the older pipeline's
          P_rna_seq_Unnormalized_Counts.csv (RSEM expected counts too; e.g. OSD-100, 137, 194, 238, 239, 243, 254)
    STAR: P_rna_seq_STAR_Unnormalized_Counts_GLbulkRNAseq.csv, then P_rna_seq_STAR_Unnormalized_Counts.csv
- normalized counts: P_rna_seq_Normalized_Counts_GLbulkRNAseq.csv, P_rna_seq_Normalized_Counts_rRNArm_GLbulkRNAseq.csv,
                     then P_rna_seq_Normalized_Counts.csv
- sample table:      P_rna_seq_SampleTable_GLbulkRNAseq.csv, then P_rna_seq_SampleTable.csv
- runsheet:          P_rna_seq_bulkRNASeq_v2_runsheet.csv / P_bulkRNASeq_v2_runsheet.csv, then the same
                     with v1 (real runsheets are named without `_rna_seq`, e.g. GLDS-48_bulkRNASeq_v1_runsheet.csv)

Counts plus (sample table or runsheet) are required; normalized counts are optional. A study with
only another quantifier's counts is refused in one line that names that file and the setting: the
quantifier is never switched silently, since RSEM and STAR counts differ.
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

RSEM, STAR = "RSEM", "STAR"
DEFAULT_QUANTIFIER = RSEM
# Counts suffixes after the prefix, per quantifier, in order of preference (first match wins).
_COUNTS_SUFFIXES: dict[str, tuple[str, ...]] = {
    RSEM: (
        "_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv",
        "_rna_seq_RSEM_Unnormalized_Counts_rRNArm_GLbulkRNAseq.csv",
        "_rna_seq_RSEM_Unnormalized_Counts.csv",
        "_rna_seq_Unnormalized_Counts.csv",  # the older GeneLab pipeline: RSEM expected counts
    ),
    STAR: (
        "_rna_seq_STAR_Unnormalized_Counts_GLbulkRNAseq.csv",
        "_rna_seq_STAR_Unnormalized_Counts.csv",
    ),
}
QUANTIFIERS = tuple(_COUNTS_SUFFIXES)
# Suffixes of the other kinds, in order of preference (first match wins).
_SUFFIXES: dict[str, tuple[str, ...]] = {
    NORMALIZED_COUNTS: (
        "_rna_seq_Normalized_Counts_GLbulkRNAseq.csv",
        "_rna_seq_Normalized_Counts_rRNArm_GLbulkRNAseq.csv",
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


def check_quantifier(quantifier: str) -> str:
    """The quantifier name if it is one we read (RSEM, STAR), else ValueError naming the setting."""
    if quantifier not in QUANTIFIERS:
        raise ValueError(f"quantifier (GENEBENCH_QUANTIFIER) must be one of {list(QUANTIFIERS)}, got {quantifier!r}")
    return quantifier


def _suffixes(kind: str, quantifier: str) -> tuple[str, ...]:
    return _COUNTS_SUFFIXES[quantifier] if kind == COUNTS else _SUFFIXES[kind]


def candidate_names(glds_prefix: str, quantifier: str = DEFAULT_QUANTIFIER) -> dict[str, list[str]]:
    """Every accepted file name per kind, in order of preference (counts: the quantifier's)."""
    _check_prefix(glds_prefix)
    check_quantifier(quantifier)
    return {kind: [glds_prefix + s for s in _suffixes(kind, quantifier)] for kind in KINDS}


def _strip(file_name: str, suffixes: tuple[str, ...]) -> bool:
    return any(file_name.endswith(s) and _PREFIX_RE.match(file_name[: -len(s)]) for s in suffixes)


def counts_quantifier(file_name: str) -> str | None:
    """The quantifier (RSEM / STAR) of a GeneLab unnormalized counts file name; None for other files."""
    return next((q for q, suffixes in _COUNTS_SUFFIXES.items() if _strip(file_name, suffixes)), None)


def file_kind(file_name: str) -> str | None:
    """The kind of a GeneLab file name, whatever its prefix or quantifier; None for files we do not use."""
    if not isinstance(file_name, str):
        return None
    if counts_quantifier(file_name) is not None:
        return COUNTS
    return next((kind for kind in KINDS if kind != COUNTS and _strip(file_name, _SUFFIXES[kind])), None)


def select_study_files(osd: str, glds_prefix: str, file_names: list[str], *, where: str = "the listing",
                       quantifier: str = DEFAULT_QUANTIFIER) -> dict[str, str]:
    """Map kind -> chosen file name for one study; raise MissingStudyFilesError if counts or a table is missing.

    `where` says what `file_names` came from ("the OSDR listing", "folder /data/OSD-48") for the error.
    Counts are the `quantifier`'s (RSEM by default); a study with only another quantifier's counts
    is refused with a message naming that file and the setting.
    """
    if not _PREFIX_RE.match(glds_prefix or ""):
        raise StudyDataError(osd, None, "GeneLab prefix must look like 'GLDS-48'", field="glds_prefix", value=glds_prefix)
    try:
        check_quantifier(quantifier)
    except ValueError as exc:
        raise StudyDataError(osd, None, str(exc), field="quantifier", value=quantifier) from None
    present = set(file_names)
    chosen: dict[str, str] = {}
    for kind, names in candidate_names(glds_prefix, quantifier).items():
        hit = next((n for n in names if n in present), None)
        if hit is not None:
            chosen[kind] = hit

    if COUNTS not in chosen:
        others = {q: n for q in QUANTIFIERS if q != quantifier
                  for n in [next((n for n in candidate_names(glds_prefix, q)[COUNTS] if n in present), None)] if n}
        if others:
            q, name = next(iter(others.items()))
            raise MissingStudyFilesError(
                osd, None,
                f"{where} has only {q} counts ({name}), no {quantifier} counts (expected "
                f"{' / '.join(candidate_names(glds_prefix, quantifier)[COUNTS])}); the quantifier setting is "
                f"{quantifier}: set GENEBENCH_QUANTIFIER={q} to use the {q} counts",
                field="quantifier", value=quantifier,
            )

    missing = []
    if REQUIRED not in chosen:
        missing.append(COUNTS)
    if not any(k in chosen for k in ONE_OF_TABLES):
        missing.append(" or ".join(ONE_OF_TABLES))
    if missing:
        names = candidate_names(glds_prefix, quantifier)
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
