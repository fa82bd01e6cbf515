"""The study catalog (SPEC §2), loaded from data (`osdr_catalog.yaml`), never from code branches."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from genebench_assets.science.inputs.guarded_files import (LIMITS, InputFileError, load_yaml, short,
                                                          validate_task_id)
from genebench_assets.science.osdr.identifiers import (IdentifierError, validate_accession, validate_mission,
                                                       validate_tissue)

PACKAGED_CATALOG = Path(__file__).with_name("osdr_catalog.yaml")

GROUND_GROUPS = ("GC", "VC")
BINARY_GROUPS = ("Flight", "GC", "VC")
# What a study whose Flight / Ground counts differ from its catalog `expected` counts does:
# "blocking" (it never reaches its tissue) or "advisory" (reported only; user catalogs may say so).
EXPECTED_COUNTS_MODES = ("blocking", "advisory")


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
    # `expected_counts: advisory` in a user catalog: a study whose Flight / Ground counts differ from
    # its `expected` ones is reported, not blocked. Default (and the packaged catalog): blocking.
    expected_counts: str = "blocking"

    @property
    def expected_counts_advisory(self) -> bool:
        return self.expected_counts == "advisory"

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
    if not isinstance(entry, dict):
        raise CatalogError(f"{where}: must be a mapping, got {type(entry).__name__} {short(entry)}")
    expected = _require(entry, "expected", where)
    counts = [expected.get(k) for k in ("flight", "ground")] if isinstance(expected, dict) else [None, None]
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 100_000 for v in counts):
        raise CatalogError(f"{where}: field 'expected' must hold whole numbers flight and ground (0..100000), "
                           f"got {short(expected)}")
    flight, ground = counts
    role = entry.get("role", "lomo")
    if not isinstance(role, str) or role not in ("lomo", "holdout"):
        raise CatalogError(f"{where}: field 'role' must be 'lomo' or 'holdout', got {short(role)}")
    for field in ("sample_filter", "demo"):
        if entry.get(field) is not None and not isinstance(entry.get(field), dict):
            raise CatalogError(f"{where}: field '{field}' must be a mapping, got {short(entry.get(field))}")
    for field in ("site", "note"):
        _optional_text(entry.get(field), where, field)
    osd = _require(entry, "osd", where)
    if not isinstance(osd, str) or not osd.startswith("OSD-") or not osd[4:].isdigit():
        raise CatalogError(f"{where}: field 'osd' must look like 'OSD-48', got {short(osd)}")
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


def _mapping(value: Any, where: str, field: str) -> dict:
    if not isinstance(value, dict):
        raise CatalogError(f"{where}: field '{field}' must be a mapping, got {type(value).__name__} {short(value)}")
    return value


def _list(value: Any, where: str, field: str) -> list:
    if not isinstance(value, list):
        raise CatalogError(f"{where}: field '{field}' must be a list, got {type(value).__name__} {short(value)}")
    return value


def _optional_int(value: Any, where: str, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**6:
        raise CatalogError(f"{where}: field '{field}' must be a whole number 0..1000000, got {short(value)}")
    return value


def _optional_text(value: Any, where: str, field: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise CatalogError(f"{where}: field '{field}' must be text, got {type(value).__name__} {short(value)}")
    return value


def read_catalog_document(path: str | Path) -> dict:
    """The catalog YAML as a mapping, read by the guarded reader (regular file, size, UTF-8, no alias
    bomb, no duplicate key); CatalogError (one line naming file, field and value) otherwise."""
    try:
        raw = load_yaml(path, max_bytes=LIMITS["catalog"])
    except InputFileError as exc:
        raise CatalogError(str(exc)) from None
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: (top level): expected a mapping, got {type(raw).__name__} {short(raw)}")
    return raw


def load_catalog(path: str | Path | None = None) -> StudyCatalog:
    """Load and validate a catalog file (default: the packaged GeneLab benchmark v1 catalog). Every
    problem is a CatalogError whose message is one line naming the file, the field and the value."""
    path = Path(path) if path else PACKAGED_CATALOG
    raw = read_catalog_document(path)
    src = str(path)
    try:
        return _catalog_from_document(raw, src)
    except CatalogError:
        raise
    except (TypeError, ValueError, AttributeError, KeyError) as exc:  # a shape not foreseen above
        raise CatalogError(f"{src}: malformed catalog ({type(exc).__name__}: {' '.join(str(exc).split())[:120]})") from None


def _catalog_from_document(raw: dict, path: str) -> StudyCatalog:
    tissue_list = _list(_require(raw, "tissues", path), path, "tissues")
    try:
        tissues = tuple(validate_tissue(t, f"{path}: tissues[{i}]") for i, t in enumerate(tissue_list))
    except IdentifierError as exc:
        raise CatalogError(str(exc)) from None
    if len(set(tissues)) != len(tissues):
        raise CatalogError(f"{path}: field 'tissues' lists a tissue twice: {list(tissues)}")
    studies = []
    for i, entry in enumerate(_list(_require(raw, "studies", path), path, "studies")):
        if not isinstance(entry, dict):
            raise CatalogError(f"{path}: studies[{i}]: must be a mapping, got {type(entry).__name__} {short(entry)}")
        osd = entry.get("osd", "?")
        where = f"{path}: studies[{i}] ({osd if isinstance(osd, str) and len(osd) <= 20 else short(osd, 20)})"
        study = study_from_dict(entry, where)
        if study.tissue not in tissues:
            raise CatalogError(f"{where}: field 'tissue' is {study.tissue!r}, not one of {list(tissues)}")
        studies.append(study)
    excluded = []
    for i, e in enumerate(_list(raw.get("excluded") or [], path, "excluded")):
        where = f"{path}: excluded[{i}]"
        e = _mapping(e, path, f"excluded[{i}]")
        try:
            osd = validate_accession(_require(e, "osd", where), where, kinds=("OSD",))
        except IdentifierError as exc:
            raise CatalogError(str(exc)) from None
        dups = _list(e.get("duplicates_of") or [], where, "duplicates_of")
        excluded.append(ExcludedStudy(osd=osd, reason=str(_require(e, "reason", where)),
                                      duplicates_of=tuple(str(d) for d in dups)))
    excluded = tuple(excluded)
    overlap = {s.osd for s in studies} & {e.osd for e in excluded}
    if overlap:
        raise CatalogError(f"{path}: studies both included and excluded: {sorted(overlap)}")
    missions = {}
    for name, m in _mapping(raw.get("missions") or {}, path, "missions").items():
        where = f"{path}: missions.{short(name, 40)}"
        try:
            validate_mission(name, f"{path}: missions")
        except IdentifierError as exc:
            raise CatalogError(str(exc)) from None
        m = _mapping(m if m is not None else {}, path, f"missions.{name}")
        missions[name] = Mission(name=name, hardware=_optional_text(m.get("hardware"), where, "hardware"),
                                 duration_days=_optional_int(m.get("duration_days"), where, "duration_days"),
                                 note=_optional_text(m.get("note"), where, "note"))
    for s in studies:
        if s.mission not in missions:
            raise CatalogError(f"{path}: study {s.osd}: mission {s.mission!r} is not listed under 'missions'")
    # Task ids become output folder names (`export-folds`: <out>/<task>_<tissue>_lomo): strict pattern.
    task_ids = {}
    for tissue, task in _mapping(raw.get("task_ids") or {}, path, "task_ids").items():
        try:
            validate_tissue(tissue, f"{path}: task_ids", known=tissues)
            task_ids[tissue] = validate_task_id(task, f"{path}: task_ids.{tissue}")
        except IdentifierError as exc:
            raise CatalogError(str(exc)) from None
    expected_counts = raw.get("expected_counts", "blocking")
    if not isinstance(expected_counts, str) or expected_counts not in EXPECTED_COUNTS_MODES:
        raise CatalogError(f"{path}: field 'expected_counts' must be one of {list(EXPECTED_COUNTS_MODES)}, "
                           f"got {short(expected_counts)}")
    return StudyCatalog(
        studies=tuple(studies),
        excluded=excluded,
        missions=missions,
        tissues=tissues,
        task_ids=task_ids,
        source=path,
        expected_counts=expected_counts,
    )
