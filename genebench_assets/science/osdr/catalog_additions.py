"""Studies added to the catalog at run time (a new OSDR mission found by the refresh sensor).

They are kept in `<data_dir>/catalog_additions.json` so that the packaged catalog stays the
published v1 catalog, and every addition is visible and reversible."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from genebench_assets.science.storage.atomic_files import write_json
from genebench_assets.science.osdr.study_catalog import Study, study_from_dict

FILE_NAME = "catalog_additions.json"


def load_additions(data_dir: Path) -> list[Study]:
    path = Path(data_dir) / FILE_NAME
    if not path.exists():
        return []
    raw = json.loads(path.read_text())
    return [study_from_dict(e, f"{path}: studies[{i}]") for i, e in enumerate(raw.get("studies", []))]


def load_pending(data_dir: Path) -> list[dict[str, Any]]:
    path = Path(data_dir) / FILE_NAME
    if not path.exists():
        return []
    return list(json.loads(path.read_text()).get("pending", []))


def save_additions(data_dir: Path, studies: list[dict[str, Any]], pending: list[dict[str, Any]]) -> Path:
    """Write the additions; every study is validated first (identifier patterns included), so a file
    that the next `load_additions` would refuse is never written."""
    path = Path(data_dir) / FILE_NAME
    for i, entry in enumerate(studies):
        study_from_dict(entry, f"{path}: studies[{i}] (about to be saved)")
    return write_json({"studies": studies, "pending": pending}, Path(data_dir) / FILE_NAME)
