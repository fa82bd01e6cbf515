"""The study catalog (SPEC §2), loaded from data (`osdr_catalog.yaml`), never from code branches."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from genebench_assets.science.osdr.identifiers import (IdentifierError, validate_accession, validate_mission,
                                                       validate_tissue)

PACKAGED_CATALOG = Path(__file__).with_name("osdr_catalog.yaml")

GROUND_GROUPS = ("GC", "VC")
BINARY_GROUPS = ("Flight", "GC", "VC")


class CatalogError(ValueError):
    """The catalog file is malformed; the message names the file, the entry and the field."""


@dataclasses.dataclass(frozen=True)
class Study:
    osd: str  # "OSD-48"
    glds_prefix: str  # "GLDS-48" (OSD-686 -> "GLDS-617")
    tissue: str
    mission: str
    expected_flight: int
    expected_ground: int
    role: str = "lomo"  # "lomo" or "holdout"
    site: str | None = None
    sample_filter: dict[str, Any] = dataclasses.field(default_factory=dict)
    note: str | None = None
    demo: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def osd_number(self) -> int:
        return int(self.osd.split("-")[1])

    @property
    def pair(self) -> tuple[str, str]:
        return (self.tissue, self.mission)

    def to_record(self) -> dict[str, Any]:
        rec = dataclasses.asdict(self)
        rec["sample_filter"] = json.dumps(self.sample_filter, sort_keys=True)
        rec["demo"] = json.dumps(self.demo, sort_keys=True)
        return rec


@dataclasses.dataclass(frozen=True)
class ExcludedStudy:
    osd: str
    reason: str
    duplicates_of: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Mission:
    name: str
    hardware: str | None
    duration_days: int | None
    note: str | None = None


@dataclasses.dataclass(frozen=True)
class StudyCatalog:
    studies: tuple[Study, ...]
    excluded: tuple[ExcludedStudy, ...]
    missions: dict[str, Mission]
    tissues: tuple[str, ...]
    task_ids: dict[str, str]
    source: str = str(PACKAGED_CATALOG)

    # -- lookups -------------------------------------------------------------------------
    def pairs(self, include_holdout: bool = True) -> list[tuple[str, str]]:
        """Every real (tissue, mission) pair, in catalog order, each once."""
        seen: dict[tuple[str, str], None] = {}
        for s in self.studies:
            if include_holdout or s.role != "holdout":
                seen.setdefault(s.pair, None)
        return list(seen)

    def has_pair(self, tissue: str, mission: str) -> bool:
        return any(s.pair == (tissue, mission) for s in self.studies)

    def studies_for(self, tissue: str, mission: str) -> list[Study]:
        return [s for s in self.studies if s.pair == (tissue, mission)]

    def missions_for(self, tissue: str, include_holdout: bool = False) -> list[str]:
        """Missions of a tissue, sorted (SPEC §5: one fold per mission, missions sorted)."""
        return sorted(
            {s.mission for s in self.studies if s.tissue == tissue and (include_holdout or s.role != "holdout")}
        )

    def holdout_missions(self, tissue: str) -> list[str]:
        return sorted({s.mission for s in self.studies if s.tissue == tissue and s.role == "holdout"})

    def mission_names(self) -> list[str]:
        return sorted({s.mission for s in self.studies})

    def excluded_osd(self) -> set[str]:
        return {e.osd for e in self.excluded}

    def study_by_osd(self, osd: str) -> list[Study]:
        return [s for s in self.studies if s.osd == osd]

    def with_studies(self, extra: Iterable[Study]) -> "StudyCatalog":
        """A catalog with studies added at run time (a new OSDR mission found by the sensor)."""
        return dataclasses.replace(self, studies=self.studies + tuple(extra))


def _require(entry: dict[str, Any], field: str, where: str) -> Any:
    if field not in entry or entry[field] in (None, ""):
        raise CatalogError(f"{where}: field '{field}' is missing or empty")
    return entry[field]


def study_from_dict(entry: dict[str, Any], where: str) -> Study:
    expected = _require(entry, "expected", where)
    try:
        flight, ground = int(expected["flight"]), int(expected["ground"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CatalogError(f"{where}: field 'expected' must hold integer flight and ground, got {expected!r}") from exc
    role = entry.get("role", "lomo")
    if role not in ("lomo", "holdout"):
        raise CatalogError(f"{where}: field 'role' must be 'lomo' or 'holdout', got {role!r}")
    osd = str(_require(entry, "osd", where))
    if not osd.startswith("OSD-") or not osd[4:].isdigit():
        raise CatalogError(f"{where}: field 'osd' must look like 'OSD-48', got {osd!r}")
    # Tissue and mission become path parts and partition keys: strict patterns (issue 10, item 2).
    try:
        osd = validate_accession(osd, where, kinds=("OSD",))
        glds_prefix = validate_accession(str(entry.get("glds_prefix") or f"GLDS-{osd[4:]}"), where, kinds=("GLDS",))
        tissue = validate_tissue(_require(entry, "tissue", where), where)
        mission = validate_mission(_require(entry, "mission", where), where)
    except IdentifierError as exc:
        raise CatalogError(str(exc)) from None
    return Study(
        osd=osd,
        glds_prefix=glds_prefix,
        tissue=tissue,
        mission=mission,
        expected_flight=flight,
        expected_ground=ground,
        role=role,
        site=entry.get("site"),
        sample_filter=dict(entry.get("sample_filter") or {}),
        note=entry.get("note"),
        demo=dict(entry.get("demo") or {}),
    )


def load_catalog(path: str | Path | None = None) -> StudyCatalog:
    """Load and validate a catalog file (default: the packaged GeneLab benchmark v1 catalog)."""
    path = Path(path) if path else PACKAGED_CATALOG
    try:
        # libyaml's C parser when present (same documents, same Python objects): every asset and
        # check of a study run loads the catalog, and the pure-Python parser took 15 ms per load.
        raw = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError as exc:
        raise CatalogError(f"{path}: catalog file not found") from exc
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
    tissues = tuple(_require(raw, "tissues", str(path)))
    studies = []
    for i, entry in enumerate(_require(raw, "studies", str(path))):
        where = f"{path}: studies[{i}] ({entry.get('osd', '?')})"
        study = study_from_dict(entry, where)
        if study.tissue not in tissues:
            raise CatalogError(f"{where}: field 'tissue' is {study.tissue!r}, not one of {list(tissues)}")
        studies.append(study)
    excluded = tuple(
        ExcludedStudy(
            osd=str(_require(e, "osd", f"{path}: excluded[{i}]")),
            reason=str(_require(e, "reason", f"{path}: excluded[{i}]")),
            duplicates_of=tuple(e.get("duplicates_of") or ()),
        )
        for i, e in enumerate(raw.get("excluded") or [])
    )
    overlap = {s.osd for s in studies} & {e.osd for e in excluded}
    if overlap:
        raise CatalogError(f"{path}: studies both included and excluded: {sorted(overlap)}")
    missions = {
        name: Mission(name=name, hardware=m.get("hardware"), duration_days=m.get("duration_days"), note=m.get("note"))
        for name, m in (raw.get("missions") or {}).items()
    }
    for s in studies:
        if s.mission not in missions:
            raise CatalogError(f"{path}: study {s.osd}: mission {s.mission!r} is not listed under 'missions'")
    return StudyCatalog(
        studies=tuple(studies),
        excluded=excluded,
        missions=missions,
        tissues=tissues,
        task_ids=dict(raw.get("task_ids") or {}),
        source=str(path),
    )
