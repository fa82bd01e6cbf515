"""What `genebench materialize` says about a run (defs/runtime/run_report.py, issue 25).

- A failed check of severity ERROR makes the run not ok, blocking or not: `genebench materialize`
  names it in the run's lines and in its final summary, and exits non-zero (here through the real
  `cmd_materialize` with its runs replaced by tiny in-process runs: the function under test is the
  summary, not the benchmark graph; the graph side is defs/sources/test_expected_counts_graph.py).
- A failed step's one line names the study and the file: a gzip file named `.csv` in a mirror, through
  the real raw_counts asset, is not reported as a bare UnicodeDecodeError."""

from __future__ import annotations

import dataclasses
import gzip

import dagster as dg
import pytest

from genebench_assets.defs.runtime.run_report import failed_error_checks, failure_lines, run_outcome
from genebench_assets.defs.sources.resources import OsdrSource
from genebench_assets.science.osdr.demo_simulator import write_demo_mirror
from genebench_assets.science.osdr.study_catalog import load_catalog
from genebench_assets_tests.defs.demo_graph import DemoGraph, materialized

COUNTS = "GLDS-48_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv"


@dg.asset
def toy_table():
    return 1


def _toy_run(instance, *, error: bool = False, warn: bool = False):
    """A successful run of one asset whose non-blocking checks fail as asked (ERROR / WARN)."""

    @dg.asset_check(asset=toy_table, name="toy_counts_match")
    def error_check():
        return dg.AssetCheckResult(passed=not error, severity=dg.AssetCheckSeverity.ERROR,
                                   metadata={"failures": dg.MetadataValue.md("- Flight: 8 samples, catalog expects 6")})

    @dg.asset_check(asset=toy_table, name="toy_advice")
    def warn_check():
        return dg.AssetCheckResult(passed=not warn, severity=dg.AssetCheckSeverity.WARN)

    return dg.materialize([toy_table, error_check, warn_check], instance=instance, raise_on_error=False)


def test_a_failed_non_blocking_error_check_makes_a_successful_run_not_ok():
    instance = dg.DagsterInstance.ephemeral()
    result = _toy_run(instance, error=True)
    assert result.success  # Dagster's view: a non-blocking check does not fail the run
    ok, checks, lines = run_outcome(instance, result)
    assert not ok and checks == ["toy_counts_match on toy_table"]
    assert any("toy_counts_match" in ln and "Flight: 8 samples, catalog expects 6" in ln for ln in lines), lines


def test_a_failed_warn_check_alone_keeps_the_run_ok():
    instance = dg.DagsterInstance.ephemeral()
    result = _toy_run(instance, warn=True)
    assert failed_error_checks(result.all_events) == []
    assert run_outcome(instance, result) == (True, [], [])


def test_genebench_materialize_names_the_failed_error_check_and_exits_non_zero(tmp_path, monkeypatch, capsys):
    from genebench_assets import cli
    from genebench_assets.defs.runtime import execution

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GENEBENCH_DATA_DIR", str(tmp_path / "data"))
    runs = []

    def fake_execute_for_cli(defs, instance, job, partition, **kw):
        runs.append((job, str(partition)))
        return _toy_run(instance, error=job == "study_job" and "RR-1" in str(partition))

    monkeypatch.setattr(execution, "execute_for_cli", fake_execute_for_cli)
    code = cli.main(["materialize", "--tissue", "gastrocnemius", "--concurrent-runs", "1"])  # the fake runs here
    out = capsys.readouterr().out
    assert code != 0, out
    assert len(runs) == 6  # catalog, 3 studies, the tissue, the leaderboards: every run ran and was reported
    failed = [ln for ln in out.splitlines() if "FAILED" in ln]
    assert len(failed) == 1 and "study_job" in failed[0] and "RR-1" in failed[0], out
    assert "check toy_counts_match on toy_table failed: Flight: 8 samples, catalog expects 6" in out, out
    summary = out.strip().splitlines()[-1]
    assert "1 failed" in summary and "toy_counts_match" in summary, summary


@pytest.mark.slow
def test_a_gzip_file_named_csv_fails_naming_the_study_and_the_file(tmp_path):
    catalog = load_catalog()
    mirror = tmp_path / "mirror"
    write_demo_mirror(mirror, dataclasses.replace(catalog, studies=tuple(catalog.study_by_osd("OSD-48"))),
                      n_genes=6000)
    counts = mirror / "OSD-48" / COUNTS
    counts.write_bytes(gzip.compress(counts.read_bytes()))  # still named .csv
    graph = DemoGraph(tmp_path / "data", source=OsdrSource(mode="mirror", mirror_root=str(mirror)))
    assert graph.catalog().success
    result = graph.study("liver", "RR-1", keys=["raw_counts"])
    assert not result.success and materialized(result) == []
    [line] = [ln for ln in failure_lines(result.all_events) if ln.startswith("step raw_counts failed: ")]
    assert "OSD-48" in line and COUNTS in line, line
    assert not [p for p in (tmp_path / "data").rglob("*") if "raw_counts" in p.parts and p.is_file()]
