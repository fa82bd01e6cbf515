"""Find studies OSDR has published that the catalog does not know yet, and decide whether each can
be placed as a new (tissue, mission) study or must wait as *pending* with a reason (never dropped).

Pure functions over plain records; the refresh sensor feeds them from the live OSDR search, a mirror
or the demo."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from genebench_assets.science.osdr.identifiers import (IdentifierError, is_valid_accession, validate_accession,
                                                       validate_mission)
from genebench_assets.science.osdr.study_catalog import StudyCatalog

MIN_PER_CLASS = 3


def _plain(value):
    """A metadata value as stored in the pending list (JSON): strings and None as they are, others repr'd."""
    return value if value is None or isinstance(value, str) else repr(value)


def _mission_error(mission) -> str | None:
    try:
        validate_mission(mission, "study metadata")
    except IdentifierError as exc:
        return str(exc)
    return None

# OSDR "Material Type" values -> our tissue names (SPEC §2 tissues).
TISSUE_ALIASES = {
    "liver": "liver",
    "gastrocnemius": "gastrocnemius",
    "gastrocnemius muscle": "gastrocnemius",
    "kidney": "kidney",
    "thymus": "thymus",
    "skin": "skin",
    "dorsal skin": "skin",
    "femoral skin": "skin",
    "eye": "eye",
    "retina": "eye",
}


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A study as OSDR describes it, reduced to what placement needs."""

    osd: str
    tissue_raw: str | None
    mission: str | None
    organism: str | None = None
    assay: str | None = None
    file_names: tuple[str, ...] = ()
    n_flight: int | None = None  # known only when the sample table was read
    n_ground: int | None = None
    glds_prefix: str | None = None
    # Why the study's own description could not be read (e.g. a mirror `study.yaml` that is not a
    # mapping): the study waits as pending with this reason instead of failing the whole discovery.
    problem: str | None = None


@dataclasses.dataclass(frozen=True)
class Placement:
    new_studies: list[dict[str, Any]]  # catalog entries (study_from_dict format)
    pending: list[dict[str, Any]]  # {osd, reason, ...}
    known: list[str]  # accessions already in the catalog or excluded

    @property
    def new_pairs(self) -> list[tuple[str, str]]:
        return sorted({(s["tissue"], s["mission"]) for s in self.new_studies})


def place_candidates(candidates: list[Candidate], catalog: StudyCatalog, *, quantifier: str | None = None) -> Placement:
    """`quantifier`: whose counts a study must have (GENEBENCH_QUANTIFIER; default RSEM, SPEC §3), as the
    sources fetching it will require, so a study with only another quantifier's counts stays pending."""
    from genebench_assets.science.osdr.genelab_files import DEFAULT_QUANTIFIER, select_study_files
    from genebench_assets.science.osdr.source_files import MissingStudyFilesError

    known_osd = {s.osd for s in catalog.studies} | catalog.excluded_osd()
    # (tissue, mission) -> the studies that already are that pair (the catalog's, then this poll's)
    owners: dict[tuple[str, str], list[str]] = {}
    for s in catalog.studies:
        owners.setdefault(s.pair, []).append(s.osd)
    new, pending, known = [], [], []
    for c in candidates:
        if c.osd in known_osd:
            known.append(c.osd)
            continue
        reason = None
        tissue = TISSUE_ALIASES.get(str(c.tissue_raw or "").strip().lower())
        if c.problem:
            reason = c.problem
        elif not is_valid_accession(c.osd, kinds=("OSD",)):
            reason = f"refused: accession {c.osd!r} is not 'OSD-<digits>'"
        elif c.mission and (bad_mission := _mission_error(c.mission)):
            # A mission becomes a partition key and a file name: refuse it here (issue 10, item 2).
            reason = f"refused: {bad_mission}"
        elif c.organism and c.organism.strip().lower() != "mus musculus":
            reason = f"organism {c.organism!r} is not Mus musculus"
        elif tissue is None:
            reason = f"unknown tissue {c.tissue_raw!r} (known: {sorted(set(TISSUE_ALIASES.values()))})"
        elif not c.mission:
            reason = "no mission name in the study metadata"
        else:
            prefix = c.glds_prefix or f"GLDS-{c.osd.split('-')[1]}"
            try:
                validate_accession(prefix, "glds_prefix", kinds=("GLDS",))
                select_study_files(c.osd, prefix, list(c.file_names), quantifier=quantifier or DEFAULT_QUANTIFIER)
            except IdentifierError as exc:
                reason = f"refused: {exc}"
            except MissingStudyFilesError as exc:
                reason = f"no counts file / sample table: {exc}"
        if reason is None and (tissue, c.mission) in owners:
            # Never merged into an existing pair: its samples would join the pair's study (bypassing that
            # study's SHA256SUMS and expected counts) without anyone deciding so.
            others = ", ".join(owners[(tissue, c.mission)])
            reason = (f"refused: conflicting duplicate: ({tissue}, {c.mission}) is already the study of {others}; "
                      "a new study is never merged into an existing pair (add it to a catalog file by hand "
                      "if it belongs there)")
        if reason is None and c.n_flight is not None and c.n_ground is not None and (
                c.n_flight < MIN_PER_CLASS or c.n_ground < MIN_PER_CLASS):
            reason = f"too few samples per group: {c.n_flight} Flight / {c.n_ground} Ground (need >= {MIN_PER_CLASS} each)"
        if reason:
            pending.append({"osd": str(c.osd), "tissue": _plain(c.tissue_raw), "mission": _plain(c.mission),
                            "reason": reason})
            continue
        owners.setdefault((tissue, c.mission), []).append(c.osd)
        new.append({
            "osd": c.osd,
            "glds_prefix": c.glds_prefix or f"GLDS-{c.osd.split('-')[1]}",
            "tissue": tissue,
            "mission": c.mission,
            "expected": {"flight": int(c.n_flight or 0), "ground": int(c.n_ground or 0)},
            "note": "added at run time by the refresh sensor",
        })
    return Placement(new_studies=new, pending=pending, known=known)


_RR = re.compile(r"Rodent Research[- ]?(\d+)|\bRR-?(\d+)\b", re.I)
_MHU = re.compile(r"\bMHU-?(\d+)\b", re.I)


def mission_from_hit(source: dict) -> str | None:
    """OSDR's mission field names the launch (e.g. SpaceX-4); the benchmark names the rodent mission
    (RR-1, MHU-2), which the study title carries. The value is checked against the mission pattern
    in `place_candidates` (identifiers.validate_mission), which keeps a bad one pending with the reason."""
    title = str(source.get("Study Title", ""))
    if m := _RR.search(title):
        return f"RR-{m.group(1) or m.group(2)}"
    if m := _MHU.search(title):
        return f"MHU-{m.group(1)}"
    mission = source.get("Mission")
    if isinstance(mission, dict):
        return mission.get("Name")
    return mission if isinstance(mission, str) else None


def group_counts(sample_table: Path, osd: str) -> tuple[int, int]:
    """(n Flight, n Ground) of a study's sample table or runsheet, with the benchmark's group labels."""
    from genebench_assets.science.osdr.group_labels import binary_label, map_group
    from genebench_assets.science.osdr.parsing import read_sample_table

    table = read_sample_table(sample_table, osd=osd)
    labels = [binary_label(map_group(v, osd=osd, sample=str(s), file_name=sample_table.name))
              for s, v in table["group_raw"].items()]
    return sum(1 for x in labels if x == 1.0), sum(1 for x in labels if x == 0.0)
