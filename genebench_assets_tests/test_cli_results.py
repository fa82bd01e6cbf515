"""`genebench list`, `results`, `report`, `cite` and CITATION.cff (issue 20), in-process."""

import json
import re
from pathlib import Path

import pytest
import yaml

from genebench_assets.cli import main
from genebench_assets.science.benchmarks.task_registry import TASK_FIELDS
from genebench_assets.science.results.commands import RESULT_FIELDS
from genebench_assets.science.results.record import write_record
from genebench_assets_tests.conftest import REPO_ROOT, published_path, shared_path
from genebench_assets_tests.science.results.record_factory import make_record


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GENEBENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("GENEBENCH_CATALOG", raising=False)
    return tmp_path / "data"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_tasks_json_keys_are_stable(capsys, data_dir):
    shared_path("spaceomicsbench")
    code, out, _ = run(capsys, "list", "tasks", "--json")
    tasks = json.loads(out)
    assert code == 0 and all(tuple(t) == TASK_FIELDS for t in tasks)
    assert TASK_FIELDS == ("benchmark", "task", "name", "data", "folds", "metric", "status", "best_published")
    by = {(t["benchmark"], t["task"]): t for t in tasks}
    assert by[("spaceomicsbench", "F1")]["status"].startswith("unavailable: ")
    assert {t["benchmark"] for t in tasks} == {"genelab", "spaceomicsbench", "llm"}
    code, out, _ = run(capsys, "list", "tasks", "--benchmark", "genelab")
    assert code == 0 and "| A4 " in out and "NC2" in out


def test_results_ranks_a_planted_record_beside_published(capsys, data_dir):
    published_path()
    write_record(data_dir, make_record("planted_model", mean=0.95))
    code, out, _ = run(capsys, "results", "--task", "A2", "--json")
    rows = json.loads(out)["rows"]
    assert code == 0 and rows[0]["model"] == "planted_model" and rows[0]["kind"] == "submission"
    assert {r["kind"] for r in rows} == {"submission", "published"}
    code, out, _ = run(capsys, "results", "--task", "A2")
    assert code == 0 and "planted_model" in out and "published" in out
    code, out, _ = run(capsys, "list", "results", "--json")
    assert [tuple(r) for r in json.loads(out)] == [RESULT_FIELDS]
    code, out, _ = run(capsys, "list", "models", "--json")
    models = {(m["model"], m["kind"]) for m in json.loads(out)}
    assert ("pca_lr", "built-in") in models and ("planted_model", "submission") in models


def test_malformed_record_refused_in_one_line(capsys, data_dir):
    path = write_record(data_dir, make_record())
    raw = json.loads(path.read_text())
    raw["summary"]["mean"] = "high"
    path.write_text(json.dumps(raw))
    code, out, err = run(capsys, "results", "--task", "A2")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and str(path) in err and "field 'summary.mean'" in err and "Traceback" not in err


def test_cite_prints_references_and_accessions(capsys, data_dir):
    code, out, _ = run(capsys, "cite", "--task", "A4")
    assert code == 0 and "GeneLab benchmark v1" in out and "OSDR" in out
    assert re.search(r"OSD-244 \(GLDS-244\): thymus, RR-6", out)
    code, out, err = run(capsys, "cite", "--task", "Q9")
    assert code == 2 and err.count("\n") == 1 and "not a GeneLab task" in err


def test_citation_cff_is_valid_cff_1_2_0():
    cff = yaml.safe_load((REPO_ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors"):   # the keys CFF 1.2.0 requires
        assert cff[key]
    assert all("name" in a or "family-names" in a for a in cff["authors"])
    assert {"software", "database"} >= {r["type"] for r in cff["references"]}
    assert all(r["title"] and r["authors"] for r in cff["references"])
    assert "SpaceOmicsBench" in str(cff["references"]) and "GeneLab" in str(cff["references"])


def test_evaluate_submission_writes_a_record_ranked_by_results(capsys, data_dir, tmp_path):
    import numpy as np

    from genebench_assets.science.evaluation.submission import TaskFolds
    from genebench_assets.science.release import genelab_release

    release = shared_path("genelab_release")
    task = TaskFolds.from_release(genelab_release.read_task(release, "A2"))
    rng = np.random.default_rng(0)
    sub = {"task_id": "A2", "model_name": "my_sub_model",
           "predictions": {f.fold_id: {s: float(v) for s, v in zip(f.test_ids, rng.random(len(f.test_ids)))}
                           for f in task.required}}
    path = tmp_path / "sub.json"
    path.write_text(json.dumps(sub))
    code, out, err = run(capsys, "evaluate", "--submission", str(path), "--task", "A2", "--release", str(release),
                         "--n-bootstrap", "20", "--n-permutations", "10")
    assert code == 0, err
    assert "results record: " in out
    code, out, _ = run(capsys, "results", "--task", "A2", "--json", "--no-published")
    (row,) = json.loads(out)["rows"]
    assert (row["model"], row["kind"], row["metric"]) == ("my_sub_model", "submission", "AUROC")
    (rec,) = json.loads(Path(data_dir / "results" / "genelab" / "A2" / f"{row['source']}.json").read_text()),
    import hashlib

    assert rec["predictions_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert len(rec["folds"]) == len(task.required) and rec["roc"]["tpr"][-1] == 1.0
