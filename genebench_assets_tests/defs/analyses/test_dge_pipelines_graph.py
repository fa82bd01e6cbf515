"""J2 through the real graph on the demo mirror, one study (liver RR-1, OSD-48; the seed's filter then the first
300 genes, so pydeseq2 stays quick): dge_pipeline_tables runs the three pipelines per protocol and
dge_pipeline_comparison writes J2_dge_pipeline_comparison.json in the published layout for seed and strict.

- Planted fault upstream: two Ground samples of the study relabelled Flight in the mirror runsheet, so the
  study's blocking sample_metadata_expected_counts fails; dge_pipeline_tables is then refused in one line naming
  the study and the check, and neither J2 output exists afterwards (no table, no materialization, no file).
- Without the optional extra (pylimma hidden): both J2 assets fail in one line naming `dge-pipelines`."""

import json
import sys

import dagster as dg
import pytest

from genebench_assets.defs.analyses import dge_pipelines
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.science.analyses import dge_comparison as j2
from genebench_assets.science.storage.table_store import TableStore
from genebench_assets_tests.conftest import published_path
from genebench_assets_tests.defs.demo_graph import check_results, cloned_graph, materialized, mirror_graph
from genebench_assets_tests.defs.gating.refusals import step_failures
from genebench_assets_tests.defs.gating.test_study_promotion import _relabel_ground_as_flight
from genebench_assets_tests.defs.transfer.test_nes_vs_transfer_graph import small_catalog

pytestmark = pytest.mark.slow
TISSUE, MISSION, OSD = "liver", "RR-1", "OSD-48"
PARTITION = dg.MultiPartitionKey({"tissue": TISSUE, "mission": MISSION})
CHECK = "sample_metadata_expected_counts"


def graph_at(root):
    g = mirror_graph(root)
    g.settings = GenebenchSettings(data_dir=str(root / "data"), protocol="strict", catalog_path=str(root / "catalog.yaml"))
    g.resources["settings"] = g.settings
    return g


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    from genebench_assets.science.osdr import demo_simulator
    from genebench_assets.science.osdr.study_catalog import load_catalog

    root = tmp_path_factory.mktemp("dge_pipelines")
    small_catalog(root / "catalog.yaml", {(TISSUE, MISSION)}, [TISSUE])
    demo_simulator.write_demo_mirror(root / "mirror", load_catalog(root / "catalog.yaml"), seed=42, n_genes=6000)
    g = graph_at(root)
    assert g.catalog().success
    assert g.study(TISSUE, MISSION).success
    g.instance.dispose()
    return root


@pytest.fixture
def few_genes(monkeypatch):
    original = j2.seed_filter
    monkeypatch.setattr(j2, "seed_filter", lambda counts, group, **kw: original(counts, group, **kw).iloc[:300])


def _j2_outputs(g) -> list:
    store = TableStore(g.data_dir)
    return [p for p in (store.root / dge_pipelines.TABLES, store.root / dge_pipelines.COMPARISON) if p.exists()]


def test_the_three_pipelines_and_the_published_layout_for_both_protocols(baseline, tmp_path, few_genes):
    with cloned_graph(baseline, tmp_path, make_graph=graph_at) as g:
        tables = g.run(["dge_pipeline_tables"], PARTITION)
        assert tables.success and materialized(tables) == ["dge_pipeline_tables"]
        store = TableStore(g.data_dir)
        manifest = store.read_json(dge_pipelines.TABLES, TISSUE, MISSION)
        # a mirror (here the demo's, read as any mirror) is not flagged simulated; the demo source is
        assert manifest["simulated"] is False and set(manifest["protocols"]) == {"seed", "strict"}
        for protocol in ("seed", "strict"):
            for pipeline in j2.PIPELINES:
                table = store.read_frame(dge_pipelines.TABLES, protocol, pipeline, TISSUE, MISSION)
                assert list(table.columns) == j2.COLUMNS and len(table) == 300
        meta = tables.asset_materializations_for_node("dge_pipeline_tables")[0].metadata
        assert {"significant_genes", "concordance_strict", "provenance"} <= set(meta)

        result = g.run(["dge_pipeline_comparison"])
        assert result.success and materialized(result) == ["dge_pipeline_comparison"]
        published = json.loads(published_path("genelab_evaluation", j2.FILENAME).read_text())
        meta = result.asset_materializations_for_node("dge_pipeline_comparison")[0].metadata
        assert meta["protocol"].value == "strict" and meta["simulated"].value is False
        assert {"significant_genes_fdr_005", "seed_vs_strict", "concordance_summary", "provenance"} <= set(meta)
        for protocol in ("seed", "strict"):
            path = store.path(dge_pipelines.COMPARISON, protocol, "J2_dge_pipeline_comparison", ext="json")
            assert meta[f"result_file_{protocol}"].value == str(path)
            doc = json.loads(path.read_text())
            assert list(doc) == list(published)  # the published key order
            entry, pub = doc["results"][TISSUE][MISSION], published["results"][TISSUE][MISSION]
            assert list(entry) == list(pub) and list(entry["per_pipeline"]) == list(pub["per_pipeline"])
            assert [c["pair"] for c in entry["pairwise_comparisons"]] == [c["pair"] for c in pub["pairwise_comparisons"]]
            assert list(entry["pairwise_comparisons"][0]) == list(pub["pairwise_comparisons"][0])
            assert entry["per_pipeline"]["deseq2"]["n_genes"] == 300 and entry["genelab_concordance"] is None
            assert doc["scope"] == "liver (1 missions)" and doc["summary"]["n_comparisons"] == 3


def test_a_study_failing_a_blocking_check_is_refused_and_no_j2_output_exists(baseline, tmp_path, few_genes):
    with cloned_graph(baseline, tmp_path, make_graph=graph_at) as g:
        _relabel_ground_as_flight(next((g.mirror / OSD).glob("*runsheet*.csv")), 2)  # the catalog expects 7 / 7
        study = g.study(TISSUE, MISSION)
        assert check_results(study)[CHECK] is False

        later = g.run(["dge_pipeline_tables"], PARTITION)
        assert not later.success
        (message,) = step_failures(later).values()
        assert len(message.strip().splitlines()) == 1, message
        assert f"({TISSUE}, {MISSION}) is blocked" in message and f"blocking check {CHECK} failed" in message
        comparison = g.run(["dge_pipeline_comparison"])
        (message,) = step_failures(comparison).values()
        assert "refuses dge_pipeline_tables [RR-1|liver]" in message and "never materialized" in message
        assert _j2_outputs(g) == []
        for asset in ("dge_pipeline_tables", "dge_pipeline_comparison"):
            assert not g.instance.fetch_materializations(dg.AssetKey(asset), limit=1).records, asset


def test_without_the_optional_extra_both_assets_fail_in_one_line(baseline, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pylimma", None)  # as if not installed: find_spec returns None
    with cloned_graph(baseline, tmp_path, make_graph=graph_at) as g:
        for keys, partition in ((["dge_pipeline_tables"], PARTITION), (["dge_pipeline_comparison"], None)):
            result = g.run(keys, partition)
            (message,) = step_failures(result).values()
            assert len(message.strip().splitlines()) == 1, message
            assert "pylimma not installed" in message and "pip install 'genebench_assets[dge-pipelines]'" in message
        assert _j2_outputs(g) == []
