"""The `genebench` command: reproduce (through the Dagster assets, recorded in an instance),
lineage of a reproduced AUROC, and the submission evaluator's exit codes and messages."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from genebench_assets.science.release.pathway_lomo import compare_to_published
from genebench_assets_tests.conftest import REPO_ROOT, shared_path

FIXTURES = REPO_ROOT / "genebench_assets_tests" / "fixtures" / "published_pathway_results"


def genebench(*args: str, env_dir: Path) -> subprocess.CompletedProcess:
    env = {"DAGSTER_HOME": str(env_dir / "home"), "GENEBENCH_DATA_DIR": str(env_dir / "data"),
           "PATH": str(Path(sys.executable).parent), "HOME": str(env_dir)}
    (env_dir / "home").mkdir(parents=True, exist_ok=True)
    (env_dir / "home" / "dagster.yaml").touch()
    return subprocess.run([sys.executable, "-m", "genebench_assets.cli", *args], env=env, cwd=env_dir,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory):
    work = tmp_path_factory.mktemp("reproduce")
    release = shared_path("genelab_release")
    for db in ("hallmark", "mitocarta"):
        proc = genebench("reproduce", "pathway-lomo", "--release", str(release), "--db", db,
                         "--out", str(work / "out"), env_dir=work)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return work


@pytest.mark.slow
@pytest.mark.parametrize("db", ["hallmark", "mitocarta"])
@pytest.mark.parametrize("task", ["A1", "A2", "A3", "A4", "A5", "A6"])
def test_reproduce_command_matches_published_exactly(reproduced, task, db):
    name = f"{task}_pathway_{db}_results.json"
    ours = json.loads((reproduced / "out" / name).read_text())
    assert compare_to_published(ours, json.loads((FIXTURES / name).read_text())) == []


@pytest.mark.slow
def test_published_headline_numbers(reproduced):
    eye = json.loads((reproduced / "out" / "A6_pathway_hallmark_results.json").read_text())["pca_lr"]
    kidney = json.loads((reproduced / "out" / "A3_pathway_hallmark_results.json").read_text())["lr"]
    assert (round(eye["mean_auroc"], 3), round(eye["mean_ci_lower"], 3), round(eye["mean_perm_p"], 3)) == (0.915, 0.745, 0.014)
    assert (round(kidney["mean_auroc"], 3), round(kidney["mean_ci_lower"], 3), round(kidney["mean_perm_p"], 3)) == (0.755, 0.481, 0.071)


@pytest.mark.slow
def test_lineage_of_a_reproduced_auroc(reproduced):
    proc = genebench("lineage", "--task", "A6", "--model", "pca_lr", "--release", "x", "--db", "hallmark", "--json",
                     env_dir=reproduced)
    assert proc.returncode == 0, proc.stderr[-2000:]
    chain = json.loads(proc.stdout[proc.stdout.index("{"):])
    assert math.isclose(chain["evaluation"]["metrics"]["auroc_hallmark_pca_lr"], 0.9145502645502646)
    assert [s["asset"] for s in chain["steps"]] == ["release_predictions", "release_fold_features"]
    files = {f["file_name"]: f["sha256"] for f in chain["raw_files"]}
    assert "processed/pathway_scores/eye/TBD_gsva_hallmark.csv" in files
    assert all(len(v) == 64 for v in files.values())


def test_lineage_of_something_never_materialized(tmp_path):
    proc = genebench("lineage", "--task", "A4", "--model", "lr", env_dir=tmp_path)
    assert proc.returncode == 1 and "has not been materialized" in proc.stderr


def _valid_submission(task_id: str) -> dict:
    from genebench_assets.science.release import genelab_release

    task = genelab_release.read_task(shared_path("genelab_release"), task_id)
    return {"task_id": task_id, "model_name": "my-model_v1.0",
            "predictions": {f.fold_id: {s: float(0.9 if y == 1 else 0.2) for s, y in f.test_y.items()}
                            for f in task.folds}}


def test_evaluate_scores_a_valid_submission(tmp_path):
    path = tmp_path / "sub.json"
    path.write_text(json.dumps(_valid_submission("A5")))
    proc = genebench("evaluate", "--submission", str(path), "--task", "A5",
                     "--release", str(shared_path("genelab_release")), "--json", env_dir=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["valid"] is True and result["summary"]["mean_auroc"] == 1.0


@pytest.mark.parametrize("mutate, message", [
    (lambda s: s.pop("model_name"), "model_name"),
    (lambda s: s.update(task_id="A4"), "A4"),
    (lambda s: s.update(model_name="bad name!"), "model_name"),
    (lambda s: next(iter(s["predictions"].values())).update({next(iter(next(iter(s["predictions"].values())))): 1.5}), "1.5"),
])
def test_evaluate_rejects_with_a_message_and_exit_1(tmp_path, mutate, message):
    sub = _valid_submission("A5")
    mutate(sub)
    path = tmp_path / "sub.json"
    path.write_text(json.dumps(sub))
    proc = genebench("evaluate", "--submission", str(path), "--task", "A5",
                     "--release", str(shared_path("genelab_release")), env_dir=tmp_path)
    assert proc.returncode == 1 and "rejected" in proc.stderr and message in proc.stderr


def test_evaluate_unreadable_file(tmp_path):
    path = tmp_path / "sub.json"
    path.write_text("{not json")
    proc = genebench("evaluate", "--submission", str(path), "--task", "A5", env_dir=tmp_path)
    assert proc.returncode == 2 and "not valid JSON" in proc.stderr


# ---------------------------------------------------------- the evaluator never crashes (issue 10, item 5)
def _hostile_file(kind: str, tmp_path: Path) -> Path:
    path = tmp_path / "sub.json"
    if kind == "duplicate sample id":
        sub = _valid_submission("A5")
        fold, preds = next(iter(sub["predictions"].items()))
        first = next(iter(preds))
        text = json.dumps(sub)
        path.write_text(text.replace(json.dumps(fold) + ": {", json.dumps(fold) + ": {" + json.dumps(first) + ": 0.5, ", 1))
    elif kind == "binary":
        path.write_bytes(bytes(range(256)) * 64)
    elif kind == "directory":
        path.mkdir()
    elif kind == "too deep":
        path.write_text("[" * 100_000 + "]" * 100_000)
    elif kind == "too large":
        path.write_text(json.dumps(_valid_submission("A5")) + " " * 2000)
    return path


@pytest.mark.parametrize("kind, message, extra", [
    ("duplicate sample id", "duplicate sample id in fold", []),
    ("binary", "not UTF-8 text", []),
    ("directory", "is a directory", []),
    ("too deep", "nested too deep", []),
    ("too large", "over the limit of 1000 bytes (raise it with --max-bytes)", ["--max-bytes", "1000"]),
])
def test_evaluate_hostile_input_one_line_exit_2(tmp_path, kind, message, extra):
    path = _hostile_file(kind, tmp_path)
    proc = genebench("evaluate", "--submission", str(path), "--task", "A5",
                     "--release", str(shared_path("genelab_release")), *extra, env_dir=tmp_path)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_evaluate_many_bad_values_lists_a_capped_few_and_the_total(tmp_path):
    sub = _valid_submission("A5")
    n = 0
    for preds in sub["predictions"].values():
        for sid in preds:
            preds[sid], n = "bad", n + 1
    path = tmp_path / "sub.json"
    path.write_text(json.dumps(sub))
    proc = genebench("evaluate", "--submission", str(path), "--task", "A5",
                     "--release", str(shared_path("genelab_release")), env_dir=tmp_path)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and f"({n} problem(s))" in lines[0]
    assert len(lines) == 1 + 20 + 1 and lines[-1] == f"  ... and {n - 20} more ({n} in all)"


def test_reproduce_refuses_a_bad_worker_count_in_one_line(tmp_path):
    """GENEBENCH_JOBS is read before the workers start (and before Dagster is loaded): a bad value is one line."""
    env = {"DAGSTER_HOME": str(tmp_path / "home"), "GENEBENCH_JOBS": "two", "PATH": str(Path(sys.executable).parent)}
    proc = subprocess.run([sys.executable, "-m", "genebench_assets.cli", "reproduce", "pathway-lomo", "--release",
                           str(tmp_path), "--db", "hallmark", "--out", str(tmp_path / "out")],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "genebench reproduce: GENEBENCH_JOBS='two': expected a whole number of worker processes"]
