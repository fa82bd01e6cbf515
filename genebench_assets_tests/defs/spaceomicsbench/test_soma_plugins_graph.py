"""Model plug-ins on SpaceOmicsBench through the real graph (issue 20): on a binary task (C2, AUROC) a plug-in in
a temporary module runs on every fold beside the baselines, behind the four blocking split checks, with its code
version in the predictions' data version and provenance, and a results record that `genebench results --task C2
--benchmark spaceomicsbench` shows beside the published baselines; the baselines' results (what the
published-layout leaderboard reads) are the ones a run without plug-ins gives. A multi-class task (A2) skips the
plug-in and says so. A plug-in returning NaN or peeking at the test labels ends the run in one line with no
record left."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import dagster as dg
import pytest

from genebench_assets.defs.runtime.run_report import run_outcome
from genebench_assets.science.results.record import read_records
from genebench_assets_tests.conftest import shared_path
from genebench_assets_tests.defs.models.plugin_sources import plugin_module  # noqa: F401 (fixture)

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
pytestmark = pytest.mark.slow
MODELS = ["random", "majority", "logreg"]
ASSETS = {"soma_task_definition", "soma_task_data", "soma_split_folds", "soma_predictions", "soma_evaluation"}


@pytest.fixture(scope="module")
def defs():
    from genebench_assets.definitions import defs

    return defs


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("soma_plugins")


def _run(defs, home: Path, task: str, *specs: str, seeds=()):
    from genebench_assets.defs.spaceomicsbench.reproduce import run_config

    (home / "dagster_home").mkdir(parents=True, exist_ok=True)
    instance = dg.DagsterInstance.local_temp(str(home / "dagster_home"))
    cfg = run_config(shared_path("spaceomicsbench"), "strict", home / "out", models=MODELS, n_boot=20,
                     data_dir=home / "data")
    cfg["resources"]["model_settings"] = {"config": {"model_specs": list(specs), "entry_points": False, "n_jobs": 1,
                                                     "fit_timeout": 600.0, "seeds": list(seeds)}}
    result = defs.resolve_job_def("soma_tasks_job").execute_in_process(
        instance=instance, run_config=cfg, partition_key=task, raise_on_error=False)
    return result, instance


def _materialized(result) -> set[str]:
    return {ev.asset_key.path[-1] for ev in result.get_asset_materialization_events()}


def _stored(home: Path, asset: str, task: str) -> dict:
    return json.loads((home / "data" / "tables" / asset / "strict" / f"{task}.json").read_text())


def test_a_plugin_runs_on_a_binary_task_with_a_record_beside_the_published_baselines(defs, home, plugin_module,
                                                                                     monkeypatch, capsys):
    from genebench_assets.cli import main
    from genebench_assets.science.models.plugins import plugin_code_version

    result, instance = _run(defs, home, "C2")
    assert result.success
    without = _stored(home, "soma_evaluation", "C2")
    spec = f"tmp_soma={plugin_module}:good"
    result, instance = _run(defs, home, "C2", spec)
    assert result.success and _materialized(result) == ASSETS
    checks = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert len(checks) == 4 and all(c.passed for c in checks)
    ev = _stored(home, "soma_evaluation", "C2")
    assert ev["results"] == without["results"]  # the baselines' results (the leaderboard's input) do not move
    auroc = ev["plugin_results"]["tmp_soma"]["auroc"]["mean"]
    assert 0.0 <= auroc <= 1.0
    version = plugin_code_version(spec)
    preds = result.asset_materializations_for_node("soma_predictions")[0]
    assert preds.metadata["plugins"].value["tmp_soma"]["code_version"] == version
    assert preds.metadata["label_blind"].value["tmp_soma"]["rows_reordered_scores_follow"] is True
    assert preds.metadata["provenance"].value["plugins"]["tmp_soma"]["code_version"] == version
    assert preds.tags["dagster/data_version"] != _sha16(home, "soma_predictions", "C2")
    records = {(r["model"], r["kind"]): r for r in read_records(home / "data", benchmark="spaceomicsbench", task="C2")}
    assert {("tmp_soma", "plug-in"), ("logreg", "built-in")} == set(records)  # chance baselines are controls
    assert records[("tmp_soma", "plug-in")]["summary"]["mean"] == pytest.approx(auroc)
    assert records[("tmp_soma", "plug-in")]["code_version"] == version

    monkeypatch.setenv("GENEBENCH_DATA_DIR", str(home / "data"))
    assert main(["results", "--task", "C2", "--benchmark", "spaceomicsbench", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert any(r["model"] == "tmp_soma" and r["kind"] == "plug-in" for r in rows)
    assert any(r["kind"] == "published" and r["model"] == "logreg" for r in rows)


def test_two_seeds_give_mean_and_sd_over_seeds_and_keep_seed_42_in_the_published_layout(defs, home, plugin_module):
    result, _ = _run(defs, home, "C2")
    assert result.success
    without = _stored(home, "soma_evaluation", "C2")
    without_preds = _stored(home, "soma_predictions", "C2")["predictions"]
    result, _ = _run(defs, home, "C2", f"tmp_seeds={plugin_module}:good", seeds=(42, 43))
    assert result.success
    stored = _stored(home, "soma_predictions", "C2")
    assert stored["plugin_seeds"] == [42, 43] and {p["seed"] for p in stored["plugin_predictions"]["tmp_seeds"]} == {42, 43}
    # The baselines: fitted once per seed, every entry naming its seed; seed 42's are the default run's.
    assert stored["baseline_seeds"] == [42, 43]
    for model in MODELS:
        assert {p["seed"] for p in stored["predictions"][model]} == {42, 43}
        seed42 = [{k: v for k, v in p.items() if k not in ("seed", "fit_seconds")}
                  for p in stored["predictions"][model] if p["seed"] == 42]
        assert seed42 == [{k: v for k, v in p.items() if k != "fit_seconds"} for p in without_preds[model]]
    ev = _stored(home, "soma_evaluation", "C2")
    assert ev["results"] == without["results"]  # the published layout and composite: seed 42's numbers
    over = ev["baseline_results_over_seeds"]
    assert ev["baseline_seeds"] == [42, 43] and set(over) == set(MODELS)
    for model in MODELS:
        a = over[model]["auroc"]
        assert a["n_seeds"] == 2 and a["seeds"] == "42,43" and a["sd_over_seeds"] >= 0.0
    assert over["majority"]["auroc"]["sd_over_seeds"] == 0.0  # deterministic: sd 0
    meta = result.asset_materializations_for_node("soma_evaluation")[0].metadata
    assert "sd_over_seeds" in meta["baselines_over_seeds"].value
    # The single-seed runs' records stay beside it (a record's id follows its predictions); this one lists both seeds.
    [base] = [r for r in read_records(home / "data", benchmark="spaceomicsbench", task="C2")
              if r["model"] == "logreg" and r["seeds"] == [42, 43]]
    assert base["summary"]["mean"] == pytest.approx(over["logreg"]["auroc"]["mean"])
    assert base["summary"]["sd_over_seeds"] == pytest.approx(over["logreg"]["auroc"]["sd_over_seeds"])
    assert sorted({f["seed"] for f in base["folds"]}) == [42, 43]
    auroc = ev["plugin_results"]["tmp_seeds"]["auroc"]
    assert auroc["n_seeds"] == 2 and auroc["seeds"] == "42,43" and auroc["sd_over_seeds"] >= 0.0
    rec = next(r for r in read_records(home / "data", benchmark="spaceomicsbench", task="C2") if r["model"] == "tmp_seeds")
    assert rec["seeds"] == [42, 43] and rec["summary"]["mean"] == pytest.approx(auroc["mean"])
    assert rec["summary"]["sd_over_seeds"] == pytest.approx(auroc["sd_over_seeds"])
    per_seed = {s: [f["value"] for f in rec["folds"] if f["seed"] == s] for s in (42, 43)}
    assert len(per_seed[42]) == len(per_seed[43]) > 0
    means = [sum(v) / len(v) for v in per_seed.values()]
    assert auroc["mean"] == pytest.approx(sum(means) / 2, abs=1e-3)  # each seed's fold mean, rounded to 4 places


def test_a_multiclass_task_skips_the_plugin_and_says_so(defs, home, plugin_module):
    result, _ = _run(defs, home, "A2", f"tmp_soma={plugin_module}:good")
    assert result.success
    meta = result.asset_materializations_for_node("soma_evaluation")[0].metadata
    assert meta["plugins_skipped"].value.startswith("skipped: multi_class_classification is not a binary")
    assert "plugin_predictions" not in _stored(home, "soma_predictions", "A2")
    assert not any(r["kind"] == "plug-in" for r in read_records(home / "data", benchmark="spaceomicsbench", task="A2"))


@pytest.mark.parametrize("factory, problem", [
    ("nan", "scores are NaN or inf"),
    ("peek_labels", "reads test labels or row order through a side channel"),
])
def test_a_bad_plugin_ends_in_one_line_and_leaves_no_record(defs, tmp_path, plugin_module, monkeypatch, factory, problem):
    import numpy as np

    from genebench_assets.defs.spaceomicsbench.assets import load_folds, load_task_data
    from genebench_assets.science.spaceomicsbench.baselines import encode_labels
    from genebench_assets.science.storage.table_store import TableStore

    assert _run(defs, tmp_path, "C2")[0].success  # the task's folds (their checks passed)
    store = TableStore(tmp_path / "data")
    data, folds = load_task_data(store, "strict", "C2"), load_folds(store, "strict", "C2")
    y = encode_labels(data)[0]
    peek = tmp_path / "labels.json"  # the side channel: every fold's test labels in row order
    peek.write_text(json.dumps([y[np.asarray(f.test_rows)].tolist() for f in folds]))
    monkeypatch.setenv("GB_PEEK_LABELS", str(peek))
    for rec in (tmp_path / "data" / "results").rglob("*.json"):
        rec.unlink()
    result, instance = _run(defs, tmp_path, "C2", f"bad_{factory}={plugin_module}:{factory}")
    ok, _, report = run_outcome(instance, result)
    assert not ok and not {"soma_predictions", "soma_evaluation"} & _materialized(result)
    line = next(x for x in report if "soma_predictions" in x)
    assert f"model bad_{factory}, fold 0 (" in line and problem in line and "\n" not in line, report
    assert "Traceback" not in " ".join(report)
    assert read_records(tmp_path / "data", benchmark="spaceomicsbench", task="C2") == []


def _sha16(home: Path, asset: str, task: str) -> str:
    from genebench_assets.science.storage.table_store import TableStore

    return TableStore(home / "data").sha256(asset, "strict", task, ext="json")[:16]
