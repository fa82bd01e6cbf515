"""Optional extras: libraries genebench (MIT) imports for one analysis but does not require.

The Python ports of R's edgeR / limma (J2) and of sva::ComBat_seq (J3) are GPL-3.0-or-later: they are
imported, never vendored, and installed only with their extra (pyproject.toml; the `test` extra has them
so CI runs those analyses). An asset that needs one calls `require_extra` first: without the library it
stops in one line naming the extra, and everything else in the benchmark runs."""

from __future__ import annotations

import importlib.util

DISTRIBUTION = "genebench_assets"
EXTRAS = {
    "dge-pipelines": (("edgepython", "pylimma"), "J2's edgeR / limma-voom ports"),
    "batch-correction": (("inmoose",), "J3's ComBat-seq port (inmoose.pycombat)"),
}


class MissingExtra(RuntimeError):
    """A library of an optional extra is not installed; the text is one line naming the extra."""


def missing_modules(extra: str) -> list[str]:
    return [m for m in EXTRAS[extra][0] if importlib.util.find_spec(m) is None]


def installed(extra: str) -> bool:
    """Whether every library of the extra is importable (e.g. to automate an asset only when it can run)."""
    return not missing_modules(extra)


def require_extra(extra: str, reader: str) -> None:
    _, what = EXTRAS[extra]
    missing = missing_modules(extra)
    if missing:
        raise MissingExtra(f"{reader}: {', '.join(missing)} not installed ({what}, GPL-3.0-or-later, an optional "
                           f"extra of the MIT {DISTRIBUTION}): pip install '{DISTRIBUTION}[{extra}]' "
                           f"(from a checkout: pip install -e '.[{extra}]')")
