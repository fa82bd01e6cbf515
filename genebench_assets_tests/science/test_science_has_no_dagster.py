"""The science core must not depend on Dagster: read every module's source (importing nothing from it)."""

from __future__ import annotations

import re
from pathlib import Path

SCIENCE = Path(__file__).resolve().parents[2] / "genebench_assets" / "science"
# `import dagster`, `import dagster as dg`, `import os, dagster`, `from dagster import ...`,
# `from dagster_pipes import ...`, at any indentation (a lazy import inside a function counts too).
DAGSTER_IMPORT = re.compile(r"^\s*(import\s+([\w.]+\s*,\s*)*dagster\w*\b|from\s+dagster\w*(\.|\s))", re.MULTILINE)


def test_pattern_catches_the_forms_of_import():
    for line in ["import dagster", "import dagster as dg", "    from dagster import asset",
                 "from dagster._core import x", "import os, dagster", "from dagster_pipes import open_dagster_pipes"]:
        assert DAGSTER_IMPORT.search(line), line
    for line in ["# no Dagster import here", "import pandas as pd", "x = 'from dagster import asset'"]:
        assert not DAGSTER_IMPORT.search(line), line


def test_science_modules_do_not_import_dagster():
    files = sorted(SCIENCE.rglob("*.py"))
    assert files, f"no Python files under {SCIENCE}"
    offenders = [
        f"{path.relative_to(SCIENCE.parent)}:{text[: m.start()].count(chr(10)) + 1}: {m.group(0).strip()}"
        for path in files
        for text in [path.read_text(encoding="utf-8")]
        for m in DAGSTER_IMPORT.finditer(text)
    ]
    assert not offenders, "the science core imports Dagster:\n" + "\n".join(offenders)
