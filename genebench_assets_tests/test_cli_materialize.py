"""`genebench materialize` as a user runs it (a subprocess, its own DAGSTER_HOME and data dir, a mirror
with planted faults): the summary names each failed check and the skipped assets, and prints each
failed step's root cause in one line (issue 10, item 1 and point 8)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from genebench_assets.science.osdr.demo_simulator import write_demo_mirror
from genebench_assets.science.osdr.study_catalog import load_catalog
from genebench_assets.science.storage.table_store import TableStore

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]


def _plant_faults(mirror: Path) -> None:
    # RR-1: 4 Ground samples relabelled Flight (blocking check fails: 2 Ground < 3).
    runsheet = next((mirror / "OSD-101").glob("*runsheet*.csv"))
    lines, done = runsheet.read_text().splitlines(), 0
    for i, line in enumerate(lines):
        if done < 4 and ",Ground Control," in line:
            lines[i], done = line.replace(",Ground Control,", ",Space Flight,"), done + 1
    runsheet.write_text("\n".join(lines) + "\n")
    # RR-5: a negative count (the parser refuses the file: raw_counts fails).
    counts = next((mirror / "OSD-401").glob("*Unnormalized_Counts*.csv"))
    rows = counts.read_text().splitlines()
    cells = rows[2].split(",")
    cells[1] = "-5"
    rows[2] = ",".join(cells)
    counts.write_text("\n".join(rows) + "\n")


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    mirror = root / "mirror"
    write_demo_mirror(mirror, load_catalog(), seed=42, n_genes=6000)
    _plant_faults(mirror)
    env = {**os.environ, "DAGSTER_HOME": str(root / "home"), "GENEBENCH_DATA_DIR": str(root / "data"),
           "GENEBENCH_SOURCE": "mirror", "GENEBENCH_MIRROR": str(mirror),
           "GENEBENCH_GENE_SETS": f"demo={mirror / 'gene_sets' / 'demo_pathways.gmt'}",
           "GENEBENCH_SYMBOL_MAP": str(mirror / "gene_sets" / "demo_symbol_map.csv"),
           "GENEBENCH_MODELS": "lr,negative_control", "GENEBENCH_FEATURE_SETS": "genes"}
    proc = subprocess.run([sys.executable, "-m", "genebench_assets.cli", "materialize", "--tissue", "gastrocnemius"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=900)
    return proc, root


def _block(stdout: str, label: str) -> list[str]:
    """The summary lines printed under the run whose status line contains `label`."""
    lines = stdout.splitlines()
    start = next(i for i, ln in enumerate(lines) if "FAILED" in ln and label in ln)
    out = []
    for ln in lines[start + 1:]:
        if not ln.startswith("      "):
            break
        out.append(ln.strip())
    return out


def _skipped(block: list[str]) -> set[str]:
    line = next((ln for ln in block if ln.startswith("skipped (not materialized): ")), "")
    return set(line.split(": ", 1)[1].split(", ")) if line else set()


def test_exit_code_and_failed_runs(faulty_run):
    proc, _ = faulty_run
    assert proc.returncode == 1, proc.stdout + proc.stderr[-3000:]
    assert "3 failed" in proc.stdout, proc.stdout
    assert "ok  study_job    gastrocnemius RR-9" in proc.stdout, proc.stdout


def test_failed_check_is_named_with_what_it_found(faulty_run):
    block = _block(faulty_run[0].stdout, "gastrocnemius RR-1")
    assert "check sample_metadata_flight_ground_minimums on sample_metadata failed (blocking): " \
           "Ground: 2 < 3 after exclusions" in block, block
    assert _skipped(block) == {"normalized_expression", "pathway_scores"}, block
    assert not any("Execution of step" in ln for ln in block), block


def test_failed_step_root_cause_in_one_line(faulty_run):
    block = _block(faulty_run[0].stdout, "gastrocnemius RR-5")
    step = [ln for ln in block if ln.startswith("step raw_counts failed: ")]
    assert len(step) == 1, block
    assert "OSD-401" in step[0] and "-5" in step[0] and "Unnormalized_Counts" in step[0], step
    assert "Traceback" not in faulty_run[0].stdout
    assert _skipped(block) == {"sample_metadata", "normalized_expression", "pathway_scores"}, block


def test_tissue_names_the_blocked_study_and_skips_everything_after(faulty_run):
    proc, root = faulty_run
    block = _block(proc.stdout, "tissue_job")
    step = next(ln for ln in block if ln.startswith("step lomo_folds failed: "))
    assert "(gastrocnemius, RR-1) is blocked: " in step, step
    # 10 F / 2 G: both blocking checks on the counts fail (issue 25: expected counts block too)
    for check in ("sample_metadata_flight_ground_minimums", "sample_metadata_expected_counts"):
        assert f"blocking check {check} failed" in step, step
    assert _skipped(block) == {"model_predictions", "evaluation_summary"}, block
    # Nothing downstream exists, and the blocked study was never promoted.
    store = TableStore(root / "data")
    assert not (root / "data" / "tables" / "strict" / "evaluation_summary").exists()
    assert store.promoted("gastrocnemius", "RR-1") is None


def test_a_code_location_that_does_not_load_stops_the_command_in_one_line(tmp_path):
    """The runs go to two lane processes (defs/runtime/materialize_plan.py), which load the code location; a
    bad GENEBENCH_EXECUTOR_CONFIG stops the command before any run, in one line naming file and field, exit 2."""
    bad = tmp_path / "executor.yaml"
    bad.write_text("execution:\n  config:\n    daks: {}\n")
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home"), "GENEBENCH_DATA_DIR": str(tmp_path / "data"),
           "GENEBENCH_EXECUTOR_CONFIG": str(bad)}
    proc = subprocess.run([sys.executable, "-m", "genebench_assets.cli", "materialize", "--tissue", "eye"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert "cannot load the code location" in line and str(bad) in line and "unknown field 'daks'" in line, line
    assert "[1/" not in proc.stdout and not (tmp_path / "data" / "tables").exists()  # no run started
