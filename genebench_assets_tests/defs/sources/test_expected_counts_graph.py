"""sample_metadata_expected_counts blocks (issue 25, cause 1), through the real graph: 2 Ground samples of
gastrocnemius RR-1 (OSD-101) relabelled Flight in the mirror runsheet (8 F / 4 G where the catalog
expects 6 / 6; the >= 3 per class minimum still passes). The check fails, the study is not promoted,
the tissue's lomo_folds fails naming the study and the check, and no model_predictions or
evaluation_summary exists afterwards (table or materialization). A user catalog declaring
`expected_counts: advisory` reports the same difference without blocking."""

from __future__ import annotations

import dagster as dg
import pytest

from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.defs.gating.study_promotion import blocking_checks, verify_study
from genebench_assets.science.osdr.study_catalog import PACKAGED_CATALOG
from genebench_assets.science.storage.table_store import TableStore
from genebench_assets_tests.defs.demo_graph import check_results, cloned_graph, materialized, mirror_baseline

pytestmark = pytest.mark.slow
TISSUE, MISSIONS = "gastrocnemius", ["RR-1", "RR-5", "RR-9"]
CHECK = "sample_metadata_expected_counts"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    return mirror_baseline(tmp_path_factory.mktemp("expected_counts_baseline"), TISSUE, MISSIONS)


def _relabel_two_ground_as_flight(g) -> None:
    runsheet = next((g.mirror / "OSD-101").glob("*runsheet*.csv"))
    lines, done = runsheet.read_text().splitlines(), 0
    for i, line in enumerate(lines):
        if done < 2 and ",Ground Control," in line:
            lines[i], done = line.replace(",Ground Control,", ",Space Flight,"), done + 1
    assert done == 2
    runsheet.write_text("\n".join(lines) + "\n")


def _failure_messages(result) -> str:
    out = []
    for ev in result.all_events:
        if ev.is_step_failure:
            user = ev.event_specific_data.user_failure_data
            out.append(user.description if user is not None and user.description else "")
            err = ev.event_specific_data.error
            while err is not None:
                out.append(err.message)
                err = err.cause
    return "\n".join(out)


def _check_metadata(result, name: str) -> dict:
    ev = next(e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
              and e.event_specific_data.check_name == name)
    return {k: getattr(v, "value", v) for k, v in ev.event_specific_data.metadata.items()}


def test_the_check_is_declared_blocking():
    assert CHECK in {k.name for k in blocking_checks()["sample_metadata"]}


def test_relabelled_samples_block_the_study_and_its_tissue(baseline, tmp_path):
    with cloned_graph(baseline, tmp_path) as g:
        _relabel_two_ground_as_flight(g)
        study = g.study(TISSUE, "RR-1")
        checks = check_results(study)
        assert checks[CHECK] is False
        assert checks["sample_metadata_flight_ground_minimums"] is True  # 8 F / 4 G: only the counts differ
        meta = _check_metadata(study, CHECK)
        assert (meta["n_flight"], meta["n_ground"]) == (8, 4)
        assert not study.success and "normalized_expression" not in materialized(study)
        assert not verify_study(g.instance, TableStore(g.data_dir), TISSUE, "RR-1").ok

        tissue = g.tissue(TISSUE)
        assert not tissue.success
        message = _failure_messages(tissue)
        assert "(gastrocnemius, RR-1) is blocked" in message and CHECK in message, message
        assert materialized(tissue) == []
        # Nothing downstream exists: no table, no materialization, and RR-1 was never promoted.
        store = g.settings.table_store()
        for asset in ("lomo_folds", "model_predictions", "evaluation_summary"):
            assert not g.instance.fetch_materializations(dg.AssetKey(asset), limit=1).records, asset
            assert not [p for p in g.data_dir.rglob("*") if asset in p.parts and p.is_file()], asset
        assert not store.exists("evaluation_summary", TISSUE)
        assert TableStore(g.data_dir).promoted(TISSUE, "RR-1") is None


def test_a_user_catalog_may_declare_expected_counts_advisory(baseline, tmp_path):
    catalog = tmp_path / "my_catalog.yaml"
    text = PACKAGED_CATALOG.read_text()
    assert "\nexpected_counts: blocking\n" in text
    catalog.write_text(text.replace("\nexpected_counts: blocking\n", "\nexpected_counts: advisory\n"))
    with cloned_graph(baseline, tmp_path) as g:
        g.settings = g.resources["settings"] = GenebenchSettings(data_dir=str(g.data_dir), catalog_path=str(catalog))
        _relabel_two_ground_as_flight(g)
        study = g.study(TISSUE, "RR-1")
        assert study.success and check_results(study)[CHECK] is True
        meta = _check_metadata(study, CHECK)
        assert meta["advisory"] is True and (meta["n_flight"], meta["n_ground"]) == (8, 4)
        assert any("Flight: 8" in f for f in meta["advisory_mismatch"]), meta
        assert verify_study(g.instance, TableStore(g.data_dir), TISSUE, "RR-1").ok
