"""The seed protocol reproduces the published SpaceOmicsBench baseline numbers to 4 decimals for
every model except RandomForest, whose numbers depend on the scikit-learn version (measured by
benchmarks/spaceomicsbench_baselines.py).

Two layers:
- a few published numbers quoted for testing (A2: 28 samples LOCO; I2: 452 pathways, 5 reps), so
  the exactness is tested wherever the shared task data is;
- key by key against the published ``baselines/baseline_results.json`` of SpaceOmicsBench v2.1
  (github.com/jang1563/SpaceOmicsBench, CC BY-NC 4.0) on four cheap tasks, covering every baseline,
  the seed's positional joins (A1, F5, G1) and its C2 split (all 17 available tasks:
  benchmarks/spaceomicsbench_baselines.py). The file is data, never committed here: it is
  read from ../shared/data/spaceomicsbench/baselines/, else from $GENEBENCH_PUBLISHED_RESULTS (default
  ../shared/data/published_results)/spaceomicsbench/; the test skips naming both when it is absent."""

from __future__ import annotations

import json

import pytest

from genebench_assets_tests.conftest import PUBLISHED_RESULTS, SHARED_DATA, shared_path

PUBLISHED_FILE_IN_SHARED = SHARED_DATA / "spaceomicsbench" / "baselines" / "baseline_results.json"
PUBLISHED_FILE_IN_RESULTS = PUBLISHED_RESULTS / "spaceomicsbench" / "baseline_results.json"
# RandomForest is not reproducible across scikit-learn releases (1.9 draws bootstrap samples with
# sample_weight under class_weight="balanced"): largest |fold-mean diff| on FAST_TASKS measured with
# the published file per installed minor version (1.9.1: 0.1000, G1 accuracy); a version not listed
# is only reported.
RF_MAX_DIFF_ON_FAST_TASKS = {"1.9": 0.105}
# The cheapest tasks that still cover LOCO per-fold values (A1), the seed's aligned (A1) and
# misaligned (F5, G1) positional joins, G1's per-modality PCA and C2's unstratified split.
FAST_TASKS = ["A1", "C2", "F5", "G1"]

PUBLISHED = {
    "A2": {"random": {"accuracy": 0.25, "macro_f1": 0.2143}, "majority": {"accuracy": 0.4286, "macro_f1": 0.2},
           "logreg": {"accuracy": 0.6786, "macro_f1": 0.4931}, "mlp": {"accuracy": 0.4643, "macro_f1": 0.3306},
           "xgboost": {"accuracy": 0.5, "macro_f1": 0.3527}, "lightgbm": {"accuracy": 0.4286, "macro_f1": 0.2}},
    "I2": {"random": {"auroc": 0.5041, "auprc": 0.3374, "f1": 0.2849}, "majority": {"auroc": 0.5, "auprc": 0.3187, "f1": 0.0},
           "logreg": {"auroc": 0.5863, "auprc": 0.46, "f1": 0.4162}, "mlp": {"auroc": 0.5804, "auprc": 0.4619, "f1": 0.1169},
           "xgboost": {"auroc": 0.7159, "auprc": 0.5542, "f1": 0.5059}, "lightgbm": {"auroc": 0.7345, "auprc": 0.581, "f1": 0.511}},
}
A2_LOGREG_PER_FOLD = [{"accuracy": 0.5714, "macro_f1": 0.3833, "test_crew": "C001"},
                      {"accuracy": 0.7143, "macro_f1": 0.5556, "test_crew": "C002"},
                      {"accuracy": 0.7143, "macro_f1": 0.5167, "test_crew": "C003"},
                      {"accuracy": 0.7143, "macro_f1": 0.5167, "test_crew": "C004"}]


def published_baseline_results() -> dict | None:
    for path in (PUBLISHED_FILE_IN_SHARED, PUBLISHED_FILE_IN_RESULTS):
        if path.exists():
            return json.loads(path.read_text())
    return None


def _published(task: str) -> dict:
    full = published_baseline_results()
    if full is not None:
        return {m: {k: v["mean"] for k, v in x.items()} for m, x in full[task].items() if m in PUBLISHED[task]}
    return PUBLISHED[task]


def _run(task_id: str, protocol: str = "seed", models=None):
    from genebench_assets.science.spaceomicsbench.splits import task_folds
    from genebench_assets.science.spaceomicsbench.task_data import build_task_data
    from genebench_assets.science.spaceomicsbench.task_definitions import load_task_definition
    from genebench_assets.science.spaceomicsbench.task_results import run_task_baselines

    root = shared_path("spaceomicsbench")
    task = load_task_definition(root / "tasks", task_id)
    data = build_task_data(task, root / "data", protocol)
    folds, _ = task_folds(root / "splits", task.split_name, data)
    results, _ = run_task_baselines(data, folds, task.primary_metric, models=models or list(PUBLISHED[task_id]),
                                    n_boot=0)
    return results


@pytest.mark.parametrize("task_id", ["A2", "I2"])
def test_seed_reproduces_published_fold_means_to_4_decimals(task_id):
    results = _run(task_id)
    for model, metrics in _published(task_id).items():
        for metric, expected in metrics.items():
            assert results[model][metric]["mean"] == pytest.approx(expected, abs=5e-5), (task_id, model, metric)


def test_seed_reproduces_published_per_fold_layout():
    results = _run("A2")
    assert results["logreg_per_fold"] == A2_LOGREG_PER_FOLD
    assert set(results["logreg"]) == {"accuracy", "macro_f1"} and set(results["logreg"]["accuracy"]) == {"mean", "std"}


def test_seed_equals_the_published_results_file_key_by_key_on_fast_tasks():
    """Every baseline (RandomForest apart) on the fast tasks: fold mean, std and per-fold values equal
    to the published file's; RandomForest's largest difference stays within the bound measured for
    the installed scikit-learn."""
    import sklearn

    from genebench_assets.science.spaceomicsbench.baselines import models_for
    from genebench_assets.science.spaceomicsbench.task_definitions import load_task_definition
    from genebench_assets.science.spaceomicsbench.task_results import compare_results_files, max_diff_by_model

    published = published_baseline_results()
    if published is None:
        pytest.skip(f"published SpaceOmicsBench baseline_results.json not found at {PUBLISHED_FILE_IN_SHARED} or "
                    f"{PUBLISHED_FILE_IN_RESULTS} (set GENEBENCH_PUBLISHED_RESULTS to a folder holding "
                    "spaceomicsbench/baseline_results.json)")
    root = shared_path("spaceomicsbench")
    ours = {t: _run(t, models=list(models_for(load_task_definition(root / "tasks", t).task_type))) for t in FAST_TASKS}
    rows, skipped = compare_results_files(ours, {t: published[t] for t in FAST_TASKS})
    assert skipped == {}
    assert {r["task"] for r in rows} == set(FAST_TASKS)
    assert not [r for r in rows if r["diff"] is None], "keys of the published file missing from ours"
    off = [r for r in rows if r["model"] != "rf" and abs(r["diff"]) > 5e-5]
    assert off == [], off[:5]
    summary = max_diff_by_model(rows)
    assert set(summary) == {"random", "majority", "logreg", "rf", "mlp", "xgboost", "lightgbm"}
    assert summary["logreg"]["per_fold_values"] > 0      # LOCO tasks compared fold by fold
    bound = RF_MAX_DIFF_ON_FAST_TASKS.get(".".join(sklearn.__version__.split(".")[:2]))
    if bound is not None:
        assert summary["rf"]["max_abs_diff_mean"] <= bound, summary["rf"]


def test_comparison_reports_a_planted_difference_and_missing_keys():
    """The comparison is not vacuous: a changed fold mean, a changed per-fold value, a missing model
    and an unavailable task are each reported."""
    from genebench_assets.science.spaceomicsbench.task_results import compare_results_files, max_diff_by_model

    pub = {"A2": {"logreg": {"accuracy": {"mean": 0.6786, "std": 0.1}},
                  "logreg_per_fold": [{"accuracy": 0.5714, "test_crew": "C001"}],
                  "mlp": {"accuracy": {"mean": 0.4643, "std": 0.1}}},
           "B1": {"logreg": {"auprc": {"mean": 0.3, "std": 0.0}}}, "_composite": {}}
    ours = {"A2": {"logreg": {"accuracy": {"mean": 0.6787, "std": 0.1}},
                   "logreg_per_fold": [{"accuracy": 0.5, "test_crew": "C001"}]},
            "B1": {"error": "unavailable: cfrna_3group_de_noleak.csv"}}
    rows, skipped = compare_results_files(ours, pub)
    assert skipped == {"B1": "ours: unavailable: cfrna_3group_de_noleak.csv"}
    s = max_diff_by_model(rows)
    assert s["logreg"]["means_equal"] == 0 and s["logreg"]["max_abs_diff_mean"] == pytest.approx(1e-4)
    assert s["logreg"]["max_abs_diff_per_fold"] == pytest.approx(0.0714)
    assert s["mlp"]["missing"] == 2
