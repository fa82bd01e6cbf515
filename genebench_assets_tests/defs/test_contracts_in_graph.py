"""Data contracts through the real asset graph: a planted contract violation in one study's
normalized expression fails that asset with a one-line message (file, field, value), writes no
table, and nothing downstream (pathway scores) is materialized; the other studies are unaffected.
The contracted assets show their pandera schema in the UI (column schema metadata)."""

from __future__ import annotations

import dagster as dg
import numpy as np
import pytest

from genebench_assets.definitions import defs
from genebench_assets.science.storage.table_store import TableStore
from genebench_assets_tests.defs.demo_graph import DemoGraph, materialized

pytestmark = pytest.mark.slow
TISSUE, MISSION = "gastrocnemius", "RR-9"


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    g = DemoGraph(tmp_path_factory.mktemp("contracts") / "data")
    assert g.catalog().success
    assert g.study(TISSUE, MISSION, ["raw_counts", "sample_metadata"]).success
    return g


def test_contract_violation_stops_the_asset_and_everything_downstream(graph, monkeypatch):
    from genebench_assets.science.expression import normalization

    real = normalization.log2_normalized

    def planted(counts, **kwargs):  # a normalization bug: one negative log2 value
        expr, sf = real(counts, **kwargs)
        expr = expr.copy()
        expr.iloc[3, 1] = -np.inf
        return expr, sf

    monkeypatch.setattr(normalization, "log2_normalized", planted)
    result = graph.study(TISSUE, MISSION, ["normalized_expression", "pathway_scores"])
    assert not result.success
    assert materialized(result) == []
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_key == "normalized_expression"
    error = failure.event_specific_data.error
    messages = []
    while error is not None:
        messages.append(error.message.strip())
        error = error.cause
    message = next(m for m in messages if "contract broken" in m)
    assert "\n" not in message.split(": ", 1)[1]
    assert f"normalized_expression/{TISSUE}/{MISSION}.parquet" in message and "-inf" in message, message
    store = TableStore(graph.data_dir)
    assert not store.exists("normalized_expression", TISSUE, MISSION)
    assert not list((graph.data_dir / "tables").rglob("pathway_scores*"))


def test_contracted_assets_show_their_schema_in_the_ui():
    graph = defs.resolve_asset_graph()
    for asset, first_column in [("raw_counts", ".+"), ("sample_metadata", "osd"), ("model_predictions", "fold_id")]:
        meta = graph.get(dg.AssetKey(asset)).metadata
        schema = meta["dagster/column_schema"]
        assert schema.columns[0].name == first_column
        assert "pandera" in meta["data_contract"].value
