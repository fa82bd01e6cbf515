"""A local copy of OSDR laid out `OSD-N/<GeneLab files>` (air-gapped and HPC users; the embedded demo).

The demo simulator writes exactly this layout and is read with `MirrorSource(root, source_mode="demo")`,
so nothing here knows about the demo. The file choice is the live mode's (`select_study_files`), so a
mirror made by copying OSDR downloads yields the same files.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

from genebench_assets.science.storage.atomic_files import sha256_file
from genebench_assets.science.osdr.genelab_files import is_safe_file_name, select_study_files
from genebench_assets.science.osdr.source_files import MissingStudyFilesError, SourceFile, StudyDataError
from genebench_assets.science.osdr.study_catalog import Study

log = logging.getLogger("genebench.osdr")


class MirrorSource:
    """Reads studies from `root/OSD-N/`; `source_mode` is recorded in each file's provenance."""

    def __init__(self, root: str | Path, source_mode: str = "mirror"):
        self.root = Path(root).absolute()
        self.source_mode = source_mode

    def study_folder(self, osd: str) -> Path:
        if not is_safe_file_name(osd) or not osd.startswith("OSD-"):
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
        chosen = select_study_files(study.osd, study.glds_prefix, names, where=f"{self.source_mode} folder {folder}")
        fetched_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        out = []
        for kind, name in chosen.items():
            path = folder / name
            out.append(SourceFile(osd=study.osd, file_name=name, kind=kind, path=path, origin=str(path),
                                  size=path.stat().st_size, sha256=sha256_file(path),
                                  source_mode=self.source_mode, fetched_at=fetched_at))
        log.info("%s: %d file(s) from %s folder %s", study.osd, len(out), self.source_mode, folder)
        return out
