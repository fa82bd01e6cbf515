"""Strict patterns for the identifiers that become file names and partition keys (issue 10, item 2).

Tissue, mission and accession values come from outside the code (mirror `study.yaml`, live OSDR search
hits, `catalog_additions.json`, partition keys typed in the UI) and end up as path parts
(`tables/<asset>/<tissue>/<mission>.parquet`). A value such as `../../../../PWNED` must therefore be
refused where it enters, with a message naming where it came from, the field and the value; and
`path_inside` refuses any output path that resolves outside its base directory (defence in depth).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# Lowercase words only (the catalog's tissues: liver, gastrocnemius, ...).
TISSUE_PATTERN = re.compile(r"[a-z][a-z_]{0,31}")
# RR-1, MHU-2, RR-23, TBD: letters, digits and dashes; no dot, slash or space, so never a path.
MISSION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,31}")
ACCESSION_PATTERNS = {"OSD": re.compile(r"OSD-[0-9]{1,7}"), "GLDS": re.compile(r"GLDS-[0-9]{1,7}")}


class IdentifierError(ValueError):
    """An identifier does not match its pattern; the message names where, the field and the value."""

    def __init__(self, field: str, value: Any, rule: str, where: str = ""):
        self.field, self.value, self.rule, self.where = field, value, rule, where
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}{field} {_show(value)} is not a valid {field} ({rule})")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _match(pattern: re.Pattern, field: str, value: Any, rule: str, where: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise IdentifierError(field, value, rule, where)
    return value


def validate_tissue(value: Any, where: str = "", known: Iterable[str] | None = None) -> str:
    """A tissue name (`liver`); with `known` (the catalog's tissues) it must also be one of them."""
    tissue = _match(TISSUE_PATTERN, "tissue", value, "lowercase letters and '_', e.g. 'liver'", where)
    if known is not None and tissue not in set(known):
        raise IdentifierError("tissue", value, f"not one of {sorted(set(known))}", where)
    return tissue


def validate_mission(value: Any, where: str = "") -> str:
    """A mission name (`RR-1`, `MHU-2`): letters, digits and '-', at most 32 characters."""
    return _match(MISSION_PATTERN, "mission", value,
                  "letters, digits and '-', starting with a letter or digit, at most 32, e.g. 'RR-1'", where)


def validate_accession(value: Any, where: str = "", kinds: Iterable[str] = ("OSD", "GLDS")) -> str:
    """An OSDR accession, `OSD-48` or `GLDS-48` (restrict with `kinds=("OSD",)`)."""
    kinds = tuple(kinds)
    if isinstance(value, str) and any(ACCESSION_PATTERNS[k].fullmatch(value) for k in kinds):
        return value
    raise IdentifierError("accession", value, " or ".join(f"'{k}-<digits>'" for k in kinds), where)


def is_valid_accession(value: Any, kinds: Iterable[str] = ("OSD", "GLDS")) -> bool:
    try:
        validate_accession(value, kinds=kinds)
    except IdentifierError:
        return False
    return True


def path_inside(base: str | Path, *parts: str) -> Path:
    """`base/parts...`, resolved; refused (ValueError naming both) if it leaves `base`."""
    root = Path(base).resolve()
    path = root.joinpath(*parts).resolve()
    if path != root and root not in path.parents:
        raise IdentifierError("path", "/".join(parts), f"resolves to {path}, outside {root}")
    return path
