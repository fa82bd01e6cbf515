"""The study catalog (SPEC §2), loaded from data (`osdr_catalog.yaml`), never from code branches."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from genebench_assets.science.inputs.guarded_files import (LIMITS, InputFileError, load_yaml, short,
                                                          validate_task_id)
from genebench_assets.science.inputs.json_schema import PRESENT, first_problem
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


# The shape of a catalog (JSON Schema, checked with jsonschema: science/inputs/json_schema.py); what a
# schema cannot say (identifier patterns, a study's tissue among `tissues`, missions listed, no study
# both included and excluded) is checked after it. Property order = the order problems are reported in.
_MAPPING = "must be a mapping, got {type} {value}"
_LIST = "must be a list, got {type} {value}"
_TEXT = {"type": ["string", "null"], "x-message": "must be text, got {type} {value}"}
_COUNT = {"type": "integer", "minimum": 0, "maximum": 100_000}
STUDY_SCHEMA: dict[str, Any] = {
    "type": "object", "x-record": True, "x-message": _MAPPING,
    "required": ["expected", "osd", "tissue", "mission"],
    "properties": {
        "expected": {**PRESENT, "type": "object", "required": ["flight", "ground"],
                     "properties": {"flight": _COUNT, "ground": _COUNT},
                     "x-message": "must hold whole numbers flight and ground (0..100000), got {value}"},
        "role": {"enum": ["lomo", "holdout"], "x-message": "must be 'lomo' or 'holdout', got {value}"},
        "sample_filter": {"type": ["object", "null"], "x-message": "must be a mapping, got {value}"},
        "demo": {"type": ["object", "null"], "x-message": "must be a mapping, got {value}"},
        "site": _TEXT,
        "note": _TEXT,
        "osd": {**PRESENT, "type": "string", "pattern": "^OSD-[0-9]+$", "x-message": "must look like 'OSD-48', got {value}"},
        "tissue": PRESENT,  # patterns: identifiers.validate_tissue / validate_mission
        "mission": PRESENT,
    },
}
CATALOG_SCHEMA: dict[str, Any] = {
    "type": "object", "x-record": True, "x-message": "(top level): expected a mapping, got {type} {value}",
    "required": ["tissues", "studies"],
    "properties": {
        "tissues": {**PRESENT, "type": "array", "x-message": _LIST},
        "studies": {**PRESENT, "type": "array", "x-message": _LIST,
                    "items": {"type": "object", "x-message": _MAPPING}},  # each entry: STUDY_SCHEMA
        "excluded": {"type": ["array", "null"], "x-message": _LIST,
                     "items": {"type": "object", "x-record": True, "x-message": _MAPPING, "required": ["osd", "reason"],
                               "properties": {"osd": PRESENT, "reason": PRESENT,
                                              "duplicates_of": {"type": ["array", "null"], "x-message": _LIST}}}},
        "missions": {"type": ["object", "null"], "x-message": _MAPPING,
                     "additionalProperties": {
                         "type": ["object", "null"], "x-record": True, "x-message": _MAPPING,
                         "properties": {"hardware": _TEXT, "note": _TEXT,
                                        "duration_days": {"type": ["integer", "null"], "minimum": 0, "maximum": 10**6,
                                                          "x-message": "must be a whole number 0..1000000, got {value}"}}}},
        "task_ids": {"type": ["object", "null"], "x-message": _MAPPING},
        "expected_counts": {"enum": list(EXPECTED_COUNTS_MODES),
                            "x-message": f"must be one of {list(EXPECTED_COUNTS_MODES)}, got {{value}}"},
    },
}


def _check_schema(schema: dict[str, Any], document: Any, where: str) -> None:
    problem = first_problem(schema, document, where)
    if problem:
        raise CatalogError(problem)


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

    def missions_by_osd(self, tissue: str) -> dict[str, list[str]]:
        """The catalog missions of each OSD accession of a tissue (holdout studies included), in catalog
        order: what a raw counts file's accession says about the mission of the samples it holds."""
        out: dict[str, list[str]] = {}
        for s in self.studies:
            if s.tissue == tissue:
                out.setdefault(s.osd, []).append(s.mission)
        return out

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


def study_from_dict(entry: dict[str, Any], where: str) -> Study:
    _check_schema(STUDY_SCHEMA, entry, where)
    flight, ground = entry["expected"]["flight"], entry["expected"]["ground"]
    role = entry.get("role", "lomo")
    osd = entry["osd"]
    # Tissue and mission become path parts and partition keys: strict patterns (issue 10, item 2).
    try:
        osd = validate_accession(osd, where, kinds=("OSD",))
        glds_prefix = validate_accession(str(entry.get("glds_prefix") or f"GLDS-{osd[4:]}"), where, kinds=("GLDS",))
        tissue = validate_tissue(entry["tissue"], where)
        mission = validate_mission(entry["mission"], where)
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
    _check_schema(CATALOG_SCHEMA, raw, path)
    tissue_list = raw["tissues"]
    try:
        tissues = tuple(validate_tissue(t, f"{path}: tissues[{i}]") for i, t in enumerate(tissue_list))
    except IdentifierError as exc:
        raise CatalogError(str(exc)) from None
    if len(set(tissues)) != len(tissues):
        raise CatalogError(f"{path}: field 'tissues' lists a tissue twice: {list(tissues)}")
    studies = []
    for i, entry in enumerate(raw["studies"]):
        osd = entry.get("osd", "?")
        where = f"{path}: studies[{i}] ({osd if isinstance(osd, str) and len(osd) <= 20 else short(osd, 20)})"
        study = study_from_dict(entry, where)
        if study.tissue not in tissues:
            raise CatalogError(f"{where}: field 'tissue' is {study.tissue!r}, not one of {list(tissues)}")
        studies.append(study)
    excluded = []
    for i, e in enumerate(raw.get("excluded") or []):
        where = f"{path}: excluded[{i}]"
        try:
            osd = validate_accession(e["osd"], where, kinds=("OSD",))
        except IdentifierError as exc:
            raise CatalogError(str(exc)) from None
        dups = e.get("duplicates_of") or []
        excluded.append(ExcludedStudy(osd=osd, reason=str(e["reason"]),
                                      duplicates_of=tuple(str(d) for d in dups)))
    excluded = tuple(excluded)
    overlap = {s.osd for s in studies} & {e.osd for e in excluded}
    if overlap:
        raise CatalogError(f"{path}: studies both included and excluded: {sorted(overlap)}")
    missions = {}
    for name, m in (raw.get("missions") or {}).items():
        try:
            validate_mission(name, f"{path}: missions")
        except IdentifierError as exc:
            raise CatalogError(str(exc)) from None
        m = m if m is not None else {}
        missions[name] = Mission(name=name, hardware=m.get("hardware"), duration_days=m.get("duration_days"),
                                 note=m.get("note"))
    for s in studies:
        if s.mission not in missions:
            raise CatalogError(f"{path}: study {s.osd}: mission {s.mission!r} is not listed under 'missions'")
    # Task ids become output folder names (`export-folds`: <out>/<task>_<tissue>_lomo): strict pattern.
    task_ids = {}
    for tissue, task in (raw.get("task_ids") or {}).items():
        try:
            validate_tissue(tissue, f"{path}: task_ids", known=tissues)
            task_ids[tissue] = validate_task_id(task, f"{path}: task_ids.{tissue}")
        except IdentifierError as exc:
            raise CatalogError(str(exc)) from None
    expected_counts = raw.get("expected_counts", "blocking")
    return StudyCatalog(
        studies=tuple(studies),
        excluded=excluded,
        missions=missions,
        tissues=tissues,
        task_ids=task_ids,
        source=path,
        expected_counts=expected_counts,
    )
