"""Experimental group from the group string a GeneLab file holds (SPEC §3).

Known strings are mapped explicitly; anything else is an error naming the study, the sample and the
value, never a guess. Matching ignores case, surrounding whitespace and runs of whitespace, dots or
underscores (R's `make.names` turns "Space Flight" into "Space.Flight").
"""

from __future__ import annotations

import math
import re

from genebench_assets.science.osdr.source_files import StudyDataError

FLIGHT, GC, VC, BC, AG = "Flight", "GC", "VC", "BC", "AG"
GROUPS = (FLIGHT, GC, VC, BC, AG)

# Normalized spelling -> group. Only unambiguous spellings: e.g. a bare "Ground" or "1G" is not
# listed because it could mean a ground control or the on-orbit 1 g centrifuge.
GROUP_STRINGS: dict[str, str] = {
    # Flight
    "space flight": FLIGHT,
    "spaceflight": FLIGHT,
    "flight": FLIGHT,
    "flt": FLIGHT,
    "ug": FLIGHT,
    "\u00b5g": FLIGHT,  # micro sign
    "\u03bcg": FLIGHT,  # Greek mu
    "microgravity": FLIGHT,
    # Ground control
    "ground control": GC,
    "gc": GC,
    # Vivarium control
    "vivarium": VC,
    "vivarium control": VC,
    "viv": VC,
    "vc": VC,
    # Basal control
    "basal": BC,
    "basal control": BC,
    "bsl": BC,
    "bc": BC,
    # Artificial gravity (1 g centrifuge on orbit, JAXA MHU)
    "1g centrifuge": AG,
    "1 g centrifuge": AG,
    "ag": AG,
    "artificial gravity": AG,
    "artificial 1g": AG,
    "1g on iss": AG,
}

_SEPARATORS = re.compile(r"[\s._]+")


def normalize_group_string(value: str) -> str:
    return _SEPARATORS.sub(" ", str(value)).strip().lower()


def is_known_group_string(value: str) -> bool:
    return normalize_group_string(value) in GROUP_STRINGS


def map_group(value: str, *, osd: str, sample: str, file_name: str | None = None) -> str:
    """Flight / GC / VC / BC / AG for a group string; StudyDataError naming study, sample and value otherwise."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise StudyDataError(osd, file_name, f"sample {sample!r} has no group value", field="group", value=value)
    group = GROUP_STRINGS.get(normalize_group_string(value))
    if group is None:
        raise StudyDataError(
            osd,
            file_name,
            f"unknown group label {value!r} for sample {sample!r}: not one of the known spellings of "
            f"{'/'.join(GROUPS)} (group_labels.GROUP_STRINGS)",
            field="group",
            value=value,
        )
    return group


def binary_label(group: str) -> float:
    """1.0 Flight, 0.0 ground (GC or VC), NaN for groups that are not binary samples (BC, AG)."""
    if group == FLIGHT:
        return 1.0
    if group in (GC, VC):
        return 0.0
    return math.nan
