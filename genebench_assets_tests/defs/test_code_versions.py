"""Code versions derived from the code an asset runs (defs/code_versions.py): set on every asset, the
same in every process, and changed exactly for the assets whose code (or science module) changed.
The staleness these produce in Dagster, through the real graph, is tested in test_lineage.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from genebench_assets.definitions import defs
from genebench_assets.defs import code_versions
from genebench_assets.defs.models import assets as model_assets

REPO = Path(__file__).resolve().parents[2]
PRINT_VERSIONS = r"""
import json
from genebench_assets.definitions import defs
import genebench_assets
g = defs.resolve_asset_graph()
print(json.dumps({"package": genebench_assets.__file__,
                  "versions": {k.to_user_string(): g.get(k).code_version for k in g.materializable_asset_keys}}))
"""


def versions_in_new_process(package_root: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(package_root), "PYTHONHASHSEED": "12345"}
    proc = subprocess.run([sys.executable, "-c", PRINT_VERSIONS], capture_output=True, text=True, env=env,
                          cwd=package_root, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["package"].startswith(str(package_root))
    return out["versions"]


def current_versions() -> dict[str, str]:
    g = defs.resolve_asset_graph()
    return {k.to_user_string(): g.get(k).code_version for k in g.materializable_asset_keys}


def test_every_asset_has_a_derived_code_version():
    versions = current_versions()
    assert versions and all(v and len(v) == 16 for v in versions.values()), versions
    assert versions["model_predictions"] == code_versions.code_version_of(model_assets.__file__, "model_predictions")


def test_code_version_covers_the_science_it_runs_and_not_the_wiring():
    from genebench_assets.defs.tasks import assets as task_assets

    functions, science = code_versions.code_inputs_of(model_assets.__file__, "model_predictions")
    assert {"genebench_assets.science.tasks.folds", "genebench_assets.science.models.classifiers"} <= set(science)
    # Pathway fold features are built at the tasks stage: GSVA is lomo_folds' code, not the models'.
    assert "genebench_assets.science.pathways.pathway_scoring" not in science
    _, fold_science = code_versions.code_inputs_of(task_assets.__file__, "lomo_folds")
    assert {"genebench_assets.science.tasks.pathway_features",
            "genebench_assets.science.pathways.pathway_scoring"} <= set(fold_science)
    assert not any(f.startswith("genebench_assets.defs.provenance") for f in functions)
    assert "genebench_assets.defs.tasks.assets:lomo_folds" not in functions  # an upstream asset is not its code


def test_same_in_a_new_process_with_another_hash_seed(tmp_path):
    copy = tmp_path / "code"
    shutil.copytree(REPO / "genebench_assets", copy / "genebench_assets", ignore=shutil.ignore_patterns("__pycache__"))
    assert versions_in_new_process(copy) == current_versions()


def test_editing_a_science_function_changes_exactly_its_assets(tmp_path):
    copy = tmp_path / "code"
    shutil.copytree(REPO / "genebench_assets", copy / "genebench_assets", ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / "genebench_assets" / "science" / "expression" / "differential_expression.py"
    text = target.read_text()
    assert text.count("def deseq2_flight_vs_ground(") == 1
    target.write_text(text.replace("def deseq2_flight_vs_ground(", "def _new_helper():\n    return 2\n\n\n"
                                   "def deseq2_flight_vs_ground("))
    before, after = current_versions(), versions_in_new_process(copy)
    assert {k for k in before if before[k] != after[k]} == {"differential_expression"}


def test_an_unknown_function_is_an_error():
    with pytest.raises(LookupError, match="no top-level function 'nope'"):
        code_versions.code_version_of(model_assets.__file__, "nope")
