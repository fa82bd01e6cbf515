"""Dagster's private modules (`dagster._*`) are imported in one module only,
defs/runtime/dagster_internals.py, each import with the reason no public API serves (issue 22)."""

from __future__ import annotations

import ast
import re

from genebench_assets_tests.conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "genebench_assets"
INTERNALS = PACKAGE / "defs" / "runtime" / "dagster_internals.py"


def _private_imports(path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dagster._"):
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("dagster._")]
    return found


def test_no_module_but_dagster_internals_imports_a_private_dagster_module():
    offenders = {str(p.relative_to(REPO_ROOT)): _private_imports(p) for p in PACKAGE.rglob("*.py") if p != INTERNALS}
    assert not {p: m for p, m in offenders.items() if m}


def test_every_private_import_says_why_no_public_api_serves():
    text = INTERNALS.read_text(encoding="utf-8")
    blocks = re.split(r"\n\s*\n", text.split('"""', 2)[2])
    for block in blocks:
        if "from dagster._" in block:
            comment = [line for line in block.splitlines() if line.startswith("#")]
            assert comment and re.search(r"public", " ".join(comment), re.IGNORECASE), block
    import genebench_assets.defs.runtime.dagster_internals as internals  # every import still resolves

    assert internals.CheckRunHealthResult and internals.ReconstructableRepository
