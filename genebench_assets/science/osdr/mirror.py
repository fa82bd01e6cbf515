"""A local copy of OSDR laid out `OSD-N/<GeneLab files>` (air-gapped and HPC users; the embedded demo).

The demo simulator writes exactly this layout and is read with `MirrorSource(root, source_mode="demo")`,
so nothing here knows about the demo. The file choice is the live mode's (`select_study_files`), so a
mirror made by copying OSDR downloads yields the same files.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

from genebench_assets.science.inputs.guarded_files import LIMITS, InputFileError, load_yaml
from genebench_assets.science.storage.atomic_files import sha256_file
from genebench_assets.science.osdr.genelab_files import (
    DEFAULT_QUANTIFIER,
    check_quantifier,
    is_safe_file_name,
    select_study_files,
)
from genebench_assets.science.osdr.identifiers import is_valid_accession
from genebench_assets.science.osdr.checksums import find_mirror_manifest, verify_against_manifest
from genebench_assets.science.osdr.source_files import COUNTS, MissingStudyFilesError, SourceFile, StudyDataError
from genebench_assets.science.osdr.study_catalog import Study

log = logging.getLogger("genebench.osdr")


class MirrorSource:
    """Reads studies from `root/OSD-N/`; `source_mode` is recorded in each file's provenance, and so is
    the `quantifier` whose counts are read (RSEM by default)."""

    def __init__(self, root: str | Path, source_mode: str = "mirror", quantifier: str = DEFAULT_QUANTIFIER):
        self.root = Path(root).absolute()
        self.source_mode = source_mode
        self.quantifier = check_quantifier(quantifier)

    def study_folder(self, osd: str) -> Path:
        if not is_safe_file_name(osd) or not is_valid_accession(osd, kinds=("OSD",)):
            raise StudyDataError(str(osd), None, "study accession must look like 'OSD-48'", field="osd", value=osd)
        return self.root / osd

    def list_files(self, osd: str) -> list[str]:
        """Names of the regular files in the study folder, sorted; hidden files (temp files of
        in-progress atomic writes start with '.') are skipped."""
        folder = self.study_folder(osd)
        if not folder.is_dir():
            raise MissingStudyFilesError(osd, None, f"{self.source_mode} folder {folder} does not exist",
                                         field="folder", value=str(folder))
        return sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))

    def fetch_study(self, study: Study) -> list[SourceFile]:
        """The study's selected GeneLab files with provenance (origin = file path, sha256 computed)."""
        folder = self.study_folder(study.osd)
        names = self.list_files(study.osd)
        chosen = select_study_files(study.osd, study.glds_prefix, names, where=f"{self.source_mode} folder {folder}",
                                    quantifier=self.quantifier)
        n_genes = self._declared_gene_count(study.osd, folder)
        out = []
        for kind, name in chosen.items():
            path = folder / name
            out.append(SourceFile(osd=study.osd, file_name=name, kind=kind, path=path, origin=str(path),
                                  size=path.stat().st_size, sha256=sha256_file(path),
                                  # the file's own mtime, not "now": an unchanged mirror gives an
                                  # unchanged raw_files table, so a study's promoted version is stable
                                  source_mode=self.source_mode, fetched_at=_mtime_iso(path),
                                  expected_rows=n_genes if kind == COUNTS else None,
                                  quantifier=self.quantifier if kind == COUNTS else None))
        # A mirror may carry a sha256sum-format manifest: when present, every file used must match it.
        manifest = find_mirror_manifest(folder)
        if manifest is not None:
            verify_against_manifest(study.osd, manifest, {f.file_name: f.sha256 for f in out})
            log.info("%s: %d file(s) verified against %s", study.osd, len(out), manifest)
        log.info("%s: %d file(s) from %s folder %s", study.osd, len(out), self.source_mode, folder)
        return out

    @staticmethod
    def _declared_gene_count(osd: str, folder: Path) -> int | None:
        """`n_genes` of the folder's study.yaml, when the mirror declares it (else None)."""
        info = folder / "study.yaml"
        if not (info.exists() or info.is_symlink()):
            return None
        try:  # the guarded reader: regular file, size, UTF-8, no alias bomb (science/inputs)
            meta = load_yaml(info, max_bytes=LIMITS["study_yaml"]) or {}
        except InputFileError as exc:
            raise StudyDataError(osd, "study.yaml", str(exc)) from None
        value = meta.get("n_genes") if isinstance(meta, dict) else None
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise StudyDataError(osd, "study.yaml", "n_genes must be a positive integer", field="n_genes", value=value)
        return value


def _mtime_iso(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")
