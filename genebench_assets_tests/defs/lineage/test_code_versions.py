"""Code versions derived from the code an asset can call (defs/lineage/code_versions.py): set on every asset,
the same in every process, and changed exactly for the assets whose reachable functions, class methods
or numerical libraries changed. The staleness these produce in Dagster, through the real graph, is
tested in test_tracing.py."""

from __future__ import annotations

import ast
import inspect
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from genebench_assets.definitions import defs
from genebench_assets.defs.lineage import code_versions
from genebench_assets.defs.models import assets as model_assets

REPO = Path(__file__).resolve().parents[3]
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
    assert not any(f.startswith("genebench_assets.defs.lineage.provenance") for f in functions)
    assert "genebench_assets.defs.tasks.assets:lomo_folds" not in functions  # an upstream asset is not its code


def test_same_in_a_new_process_with_another_hash_seed(tmp_path):
    copy = tmp_path / "code"
    shutil.copytree(REPO / "genebench_assets", copy / "genebench_assets", ignore=shutil.ignore_patterns("__pycache__"))
    assert versions_in_new_process(copy) == current_versions()


def with_statement_appended(text: str, qualname: str) -> str:
    """`text` with a `pass` appended to the body of function or method `qualname` ("Cls.method"): a
    one-line edit of that function only."""
    scope, node = ast.parse(text).body, None
    for part in qualname.split("."):
        node = next(n for n in scope if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == part)
        scope = node.body
    lines = text.splitlines(keepends=True)
    lines.insert(node.body[-1].end_lineno, " " * node.body[-1].col_offset + "pass  # edited\n")
    return "".join(lines)


def asset_functions() -> dict[str, tuple[str, str]]:
    """asset -> (defs file, function name) of every materializable asset, from the definitions."""
    g = defs.resolve_asset_graph()
    out = {}
    for key in g.materializable_asset_keys:
        fn = g.get(key).assets_def.op.compute_fn.decorated_fn
        out[key.to_user_string()] = (inspect.getfile(fn), fn.__name__)
    return out


def changed_assets(edits: dict[str, str] | None = None, library_versions: dict[str, str] | None = None) -> set[str]:
    """Assets whose code version changes when the science / defs functions named in `edits`
    ("science/evaluation/metrics.py" -> "permutation_p") get a one-line edit, or the libraries have
    `library_versions` (computed in this process on an edited copy of the source text)."""
    overrides = {}
    for rel, qualname in (edits or {}).items():
        path = REPO / "genebench_assets" / rel
        overrides[path] = with_statement_appended(path.read_text(), qualname)
    tree = code_versions.SourceTree(overrides=overrides)
    before = current_versions()
    after = {asset: code_versions.code_version_of(f, fn, tree=tree, library_versions=library_versions)
             for asset, (f, fn) in asset_functions().items()}
    assert after.keys() == before.keys()
    return {a for a in before if before[a] != after[a]}


def test_editing_a_science_function_changes_exactly_its_assets(tmp_path):
    """End to end: an edited file on disk, the definitions loaded from it in a new process."""
    copy = tmp_path / "code"
    shutil.copytree(REPO / "genebench_assets", copy / "genebench_assets", ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / "genebench_assets" / "science" / "expression" / "differential_expression.py"
    text = target.read_text()
    # An unused new function is no code of any asset; an edit of deseq2_flight_vs_ground is.
    target.write_text(with_statement_appended(text, "deseq2_flight_vs_ground").replace(
        "def deseq2_flight_vs_ground(", "def _new_helper():\n    return 2\n\n\ndef deseq2_flight_vs_ground("))
    before, after = current_versions(), versions_in_new_process(copy)
    assert {k for k in before if before[k] != after[k]} == {"differential_expression"}


def test_the_asset_functions_found_here_are_the_ones_versioned():
    versions = current_versions()
    assert {a: code_versions.code_version_of(f, fn) for a, (f, fn) in asset_functions().items()} == versions
    assert len(versions) >= 40


def test_a_function_imported_by_many_modules_changes_exactly_the_assets_that_can_call_it():
    # metrics.permutation_p is called by lomo_evaluation.evaluate_fold, cross_tissue.method_c and
    # cross_tissue_genes.fit_evaluate (grep). evaluate_fold runs in evaluation_summary (evaluate_predictions),
    # transfer_evaluation (evaluate_pairs), negative_controls, release_evaluation (pathway_lomo.
    # evaluate_pathway_fold) and text_llm_predictions (submission.score_submission); method_c in
    # cross_tissue_pathway_transfer, fit_evaluate in cross_tissue_gene_transfer. (grep also finds a local
    # `method_c` dict in published_layout and the SpaceOmicsBench `evaluate_predictions`, which do not call it.)
    # Its module, metrics, is imported by many more: before, 19 of 41 assets changed.
    assert changed_assets({"science/evaluation/metrics.py": "permutation_p"}) == {
        "evaluation_summary", "transfer_evaluation", "negative_controls", "release_evaluation",
        "text_llm_predictions", "cross_tissue_pathway_transfer", "cross_tissue_gene_transfer",
        # the holdout evaluation scores its folds with evaluate_predictions (issue 21)
        "holdout_calibration",
        # the A1 ComBat / ISS-only variants score their folds with calibration.holdout_fold_result (issue 21)
        "batch_correction_comparison", "a1_iss_only_results",
        # issue 21: T1-T3 permutation p of their pathway AUROCs (analyses/temporal.py)
        "temporal_analyses"}


def test_a_class_method_is_followed():
    # PathwayFoldInputs.kwargs (GSVA min_size / max_size) is called on an instance
    # (`inputs.kwargs()` in build_pathway_fold_features), which only lomo_folds builds (its blocking
    # check does too, and checks have no code version).
    assert changed_assets({"defs/pathways/fold_features.py": "PathwayFoldInputs.kwargs"}) == {"lomo_folds"}
    # A science class's method called on instances: the fitted low-expression filter of the folds.
    assert "lomo_folds" in changed_assets({"science/tasks/feature_filters.py": "LowExpressionFilter.fit"})


def test_a_library_version_changes_the_assets_whose_code_imports_it():
    versions = code_versions.installed_library_versions()
    assert versions["scikit-learn"] != "absent" and versions["numpy"] != "absent"
    changed = changed_assets(library_versions={**versions, "scikit-learn": "9.9.9"})
    # The modules that import sklearn: models.classifiers (model fits), categories.condition_prediction,
    # cross_tissue and gene_vs_pathway, spaceomicsbench baselines and task_metrics.
    assert changed == {
        "model_predictions", "transfer_predictions", "negative_controls", "release_predictions",
        "cross_tissue_gene_transfer", "cross_tissue_pathway_transfer", "condition_prediction_genes",
        "condition_prediction_pathway", "j5_pathway_lomo", "soma_predictions", "soma_evaluation",
        # issue 21: the release interpretation refits PCA-LR / RF; within-mission LOO fits PCA-LR
        "release_pathway_interpretation", "within_mission_loo",
        # issue 21: gene-level SHAP refits the RF per fold
        "gene_shap",
        # issue 21: J3 and the A1 variants fit PCA-LR / RF / LR per fold
        "batch_correction_comparison", "a1_iss_only_results",
        # issue 21: T1-T3 fit LogisticRegression (analyses/temporal.py)
        "temporal_analyses"}
    # lightgbm runs in the SpaceOmicsBench baselines only; an unchanged version changes nothing.
    assert changed_assets(library_versions={**versions, "lightgbm": "0.0"}) == {"soma_predictions"}
    assert changed_assets(library_versions=dict(versions)) == set()


def test_a_new_version_of_the_j2_gpl_ports_marks_only_the_j2_tables_stale():
    # edgepython / pylimma (optional extra dge-pipelines) run in the per-study J2 tables only; the comparison
    # reads their tables.
    versions = code_versions.installed_library_versions()
    for lib in ("edgepython", "pylimma"):
        assert changed_assets(library_versions={**versions, lib: "9.9.9"}) == {"dge_pipeline_tables"}, lib


def test_an_unknown_function_is_an_error():
    with pytest.raises(LookupError, match="no top-level function 'nope'"):
        code_versions.code_version_of(model_assets.__file__, "nope")


def test_the_call_graph_rules_on_a_small_package(tmp_path):
    """Exact resolution of `module.f` and `Cls.m`, constants, lazy imports, by-name resolution of
    methods called on instances, libraries, and what stays out (unused code, an upstream asset)."""
    root = tmp_path / "genebench_assets"
    files = {
        "__init__.py": "", "science/__init__.py": "", "defs/__init__.py": "",
        "science/core.py": (
            "import numpy as np\n\nPARAMS = {'k': 3}\n\n\n"
            "class Model:\n    scale: int = 2\n\n    def __init__(self):\n        self.k = PARAMS['k']\n\n"
            "    def fit(self, x):\n        return np.sum(x) * self.scale\n\n"
            "    def unused(self):\n        return 0\n\n    @classmethod\n    def build(cls):\n        return cls()\n\n\n"
            "def make():\n    return Model()\n\n\ndef never_called():\n    import sklearn\n    return sklearn\n"),
        "science/other.py": "class Other:\n    def fit(self, x):\n        return x\n",
        "defs/assets.py": (
            "import dagster as dg\n\nfrom genebench_assets.science import core\n\n\n"
            "@dg.asset\ndef upstream():\n    return 1\n\n\n"
            "@dg.asset(deps=[upstream])\ndef asset_a(context):\n"
            "    from genebench_assets.science.core import make\n\n    m = make()\n    upstream.key\n"
            "    return m.fit([1]), core.Model.build()\n"),
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    tree = code_versions.SourceTree(root)
    g = code_versions.code_graph_of(str(root / "defs/assets.py"), "asset_a", tree=tree)
    core = "genebench_assets.science.core"
    assert set(g.nodes) == {"genebench_assets.defs.assets:asset_a", f"{core}:make", f"{core}:Model",
                            f"{core}:Model.__init__", f"{core}:Model.fit", f"{core}:Model.build", f"{core}:PARAMS"}
    # Other.fit has the name of a called method, but nothing reachable touches its module.
    assert g.libraries == {"numpy"}  # sklearn is imported by never_called only
    version = code_versions.code_version_of(str(root / "defs/assets.py"), "asset_a", tree=tree)
    for edit, changes in [("Model.unused", False), ("never_called", False), ("Model.fit", True), ("make", True)]:
        edited = code_versions.SourceTree(root, overrides={
            root / "science/core.py": with_statement_appended(files["science/core.py"], edit)})
        assert (code_versions.code_version_of(str(root / "defs/assets.py"), "asset_a", tree=edited) != version) == changes, edit
    constant = code_versions.SourceTree(root, overrides={
        root / "science/core.py": files["science/core.py"].replace("{'k': 3}", "{'k': 4}")})
    assert code_versions.code_version_of(str(root / "defs/assets.py"), "asset_a", tree=constant) != version
