"""Protocol is part of identity (issue 9): one tissue materialized in strict, then in seed, through the
real graph and one instance. Both protocols' tables exist side by side under tables/<protocol>/, the
seed run does not touch the strict tables, they differ where the protocols differ (the seed's
low-expression filter saw every sample), and each materialization says which protocol made it."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from genebench_assets.science.storage.atomic_files import sha256_file
from genebench_assets_tests.defs.demo_graph import DemoGraph, materialized

pytestmark = pytest.mark.slow
TISSUE, MISSIONS = "gastrocnemius", ["RR-1", "RR-5", "RR-9"]
TISSUE_TABLES = {"lomo_folds": "json", "model_predictions": "parquet", "evaluation_summary": "parquet"}


def _provenance(result, asset):
    for ev in result.get_asset_materialization_events():
        if ev.asset_key.to_user_string() == asset:
            prov = ev.materialization.metadata["provenance"].value
            return json.loads(prov) if isinstance(prov, str) else prov
    raise AssertionError(f"{asset} not materialized")


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    data = tmp_path_factory.mktemp("protocols") / "data"
    strict = DemoGraph(data, protocol="strict")
    seed = DemoGraph(data, protocol="seed")
    seed.instance = strict.instance  # one instance, as `genebench materialize --protocol ...` twice
    assert strict.catalog().success
    for m in MISSIONS:
        assert strict.study(TISSUE, m).success, m
    strict.result = strict.tissue(TISSUE)
    assert strict.result.success
    strict.shas = {a: sha256_file(strict.settings.table_store().path(a, TISSUE, ext=ext))
                   for a, ext in TISSUE_TABLES.items()}
    seed.result = seed.tissue(TISSUE)
    assert seed.result.success
    return strict, seed


def test_both_protocols_tables_exist_side_by_side(both):
    strict, seed = both
    for asset, ext in TISSUE_TABLES.items():
        s, d = strict.settings.table_store().path(asset, TISSUE, ext=ext), seed.settings.table_store().path(
            asset, TISSUE, ext=ext)
        assert s.parent.parts[-2:] == ("strict", asset) and d.parent.parts[-2:] == ("seed", asset)
        assert s.exists() and d.exists()
        # The seed run did not overwrite the strict table.
        assert sha256_file(s) == strict.shas[asset], asset
    assert set(materialized(seed.result)) == set(TISSUE_TABLES)


def test_the_tables_differ_where_the_protocols_differ(both):
    strict, seed = both
    folds = {p: {f["fold_id"]: f for f in g.settings.table_store().read_json("lomo_folds", TISSUE)}
             for p, g in (("strict", strict), ("seed", seed))}
    assert set(folds["strict"]) == set(folds["seed"])  # the same LOMO folds ...
    fold = sorted(folds["strict"])[0]
    assert folds["strict"][fold]["test_ids"] == folds["seed"][fold]["test_ids"]
    # ... but the gene lists differ: the seed fits the low-expression filter on all samples.
    assert folds["strict"][fold].get("genes") != folds["seed"][fold].get("genes")
    s_eval = strict.settings.table_store().read_frame("evaluation_summary", TISSUE)
    d_eval = seed.settings.table_store().read_frame("evaluation_summary", TISSUE)
    assert list(s_eval.columns) == list(d_eval.columns)
    assert not s_eval.equals(d_eval)


def test_each_materialization_names_its_protocol(both):
    strict, seed = both
    for graph, protocol in ((strict, "strict"), (seed, "seed")):
        for asset in TISSUE_TABLES:
            assert _provenance(graph.result, asset)["protocol"] == protocol, (asset, protocol)


def test_a_store_without_protocol_refuses_protocol_tables(both):
    from genebench_assets.science.storage.table_store import TableStore
    from genebench_assets.defs.runtime.settings import PROTOCOL_ASSETS

    store = TableStore(both[0].data_dir, protocol_assets=PROTOCOL_ASSETS)
    with pytest.raises(ValueError, match="evaluation_summary: its tables depend on the protocol"):
        store.path("evaluation_summary", TISSUE)
    assert isinstance(store.read_frame("sample_metadata", TISSUE, "RR-1"), pd.DataFrame)
