"""Studies added to the catalog at run time (a new OSDR mission found by the refresh sensor).

They are kept in `<data_dir>/catalog_additions.json` so that the packaged catalog stays the
published v1 catalog, and every addition is visible and reversible."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from genebench_assets.science.storage.atomic_files import write_json
from genebench_assets.science.inputs.guarded_files import LIMITS, InputFileError, load_json, short
from genebench_assets.science.osdr.study_catalog import CatalogError, Study, study_from_dict

FILE_NAME = "catalog_additions.json"


def _read(data_dir: Path) -> dict[str, Any]:
    """The additions file through the guarded reader; CatalogError (one line: file, field, value)."""
    path = Path(data_dir) / FILE_NAME
    if not path.exists() and not path.is_symlink():
        return {}
    try:
        raw = load_json(path, max_bytes=LIMITS["catalog_additions"])
    except InputFileError as exc:
        raise CatalogError(str(exc)) from None
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: (top level): expected an object with 'studies' and 'pending', got "
                           f"{type(raw).__name__} {short(raw)}")
    for field in ("studies", "pending"):
        if not isinstance(raw.get(field, []), list):
            raise CatalogError(f"{path}: {field}: must be a list, got {type(raw[field]).__name__} {short(raw[field])}")
    return raw


def load_additions(data_dir: Path) -> list[Study]:
    path = Path(data_dir) / FILE_NAME
    return [study_from_dict(e, f"{path}: studies[{i}]") for i, e in enumerate(_read(data_dir).get("studies", []))]


def load_pending(data_dir: Path) -> list[dict[str, Any]]:
    path = Path(data_dir) / FILE_NAME
    pending = list(_read(data_dir).get("pending", []))
    for i, p in enumerate(pending):
        if not isinstance(p, dict) or not isinstance(p.get("osd"), str):
            raise CatalogError(f"{path}: pending[{i}]: must be an object with an 'osd', got {short(p)}")
    return pending


def save_additions(data_dir: Path, studies: list[dict[str, Any]], pending: list[dict[str, Any]]) -> Path:
    """Write the additions; every study is validated first (identifier patterns included), so a file
    that the next `load_additions` would refuse is never written."""
    path = Path(data_dir) / FILE_NAME
    for i, entry in enumerate(studies):
        study_from_dict(entry, f"{path}: studies[{i}] (about to be saved)")
    return write_json({"studies": studies, "pending": pending}, Path(data_dir) / FILE_NAME)
