"""Mouse strain from a GeneLab sample name (SPEC §3): parsed from a name token, never hard-coded per study.

GeneLab names look like `Mmus_C57-6J_LVR_FLT_I_Rep1_M21`: the strain is the token after the organism.
GEO / SRA style ids (`GSM5398358`, `SRR11148753`) and bare animal ids (`M21`) carry no strain: None.
"""

from __future__ import annotations

import re

# Name token -> strain (GeneLab's sample-naming abbreviations).
STRAIN_TOKENS: dict[str, str] = {
    "C57-6J": "C57BL/6J",
    "C57-6T": "C57BL/6Tac",
    "C57-6CR": "C57BL/6NCrl",
    "BAL-TAL": "BALB/cAnNTac",
    "C3H-HeJ": "C3H/HeJ",
}
_BY_UPPER = {token.upper(): strain for token, strain in STRAIN_TOKENS.items()}

# Tokens are separated by "_"; "." appears when a mission prefix was added (`RR-1.Mmus_C57-6J_...`).
_TOKEN_SPLIT = re.compile(r"[_.\s]+")


def name_tokens(sample_name: str) -> list[str]:
    return [t for t in _TOKEN_SPLIT.split(str(sample_name)) if t]


def parse_strain(sample_name: str) -> str | None:
    """The strain named by a token of the sample name, or None when the name carries none.

    Tokens must match whole (case-insensitive), so `C57-6CR` is never read as `C57-6J`-like prefixes.
    A name with two different strain tokens is an error rather than a guess.
    """
    found = {_BY_UPPER[t.upper()] for t in name_tokens(sample_name) if t.upper() in _BY_UPPER}
    if len(found) > 1:
        raise ValueError(f"sample name {sample_name!r} carries several strain tokens: {sorted(found)}")
    return found.pop() if found else None
