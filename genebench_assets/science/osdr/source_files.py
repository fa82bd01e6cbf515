"""What every source mode (demo, live OSDR, mirror) hands to the parser: files on disk with provenance."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

# Kinds of GeneLab files we use (SPEC §3); the selection rules live in genelab_files.py.
COUNTS = "counts"  # unnormalized counts (RSEM by default; the quantifier is a setting, genelab_files.py)
NORMALIZED_COUNTS = "normalized_counts"
SAMPLE_TABLE = "sample_table"
RUNSHEET = "runsheet"


@dataclasses.dataclass(frozen=True)
class SourceFile:
    """One raw OSDR file as fetched, with the provenance every downstream number carries."""

    osd: str  # "OSD-48"
    file_name: str  # "GLDS-48_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv"
    kind: str  # COUNTS / NORMALIZED_COUNTS / SAMPLE_TABLE / RUNSHEET
    path: Path  # local file (cache, mirror or demo directory)
    origin: str  # download URL (live) or mirror / demo path
    size: int
    sha256: str
    source_mode: str  # "demo" / "osdr" / "mirror" / "release"
    fetched_at: str  # ISO 8601 UTC
    # Data rows the file must have when the source says so (a mirror's study.yaml `n_genes` for the
    # counts): a table cut at a line boundary is then caught by its row count (issue 10, item 6).
    expected_rows: int | None = None
    # The quantifier whose counts these are ("RSEM" / "STAR"; counts files only): the setting that
    # chose the file, recorded with it (SPEC §3: "the one used is recorded").
    quantifier: str | None = None

    def provenance(self) -> dict[str, Any]:
        rec = dataclasses.asdict(self)
        rec["path"] = str(self.path)
        for optional in ("expected_rows", "quantifier"):
            if rec[optional] is None:
                del rec[optional]
        return rec


class StudyDataError(ValueError):
    """Bad input from a study: the message names the study, the file, the field and the value."""

    def __init__(self, osd: str, file_name: str | None, problem: str, *, field: str | None = None, value: Any = None):
        self.osd, self.file_name, self.field, self.value, self.problem = osd, file_name, field, value, problem
        parts = [osd]
        if file_name:
            parts.append(file_name)
        where = ": ".join(parts)
        detail = problem
        if field is not None:
            detail += f" (field {field!r}"
            detail += f", value {value!r})" if value is not None else ")"
        super().__init__(f"{where}: {detail}")


class MissingStudyFilesError(StudyDataError):
    """A listing (or mirror folder) lacks a file we need."""


class DownloadError(StudyDataError):
    """A download failed, was truncated, or did not match its expected size / checksum."""
