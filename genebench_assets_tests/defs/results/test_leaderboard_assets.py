"""The leaderboard assets (issue 20): records beside the published baselines, with a chart; a
malformed record fails the asset in one line."""

import json
import warnings

import dagster as dg
import pytest

from genebench_assets.defs.results.assets import genelab_leaderboard, spaceomicsbench_results_leaderboard
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.science.results.record import write_record
from genebench_assets_tests.conftest import published_path
from genebench_assets_tests.science.results.record_factory import make_record


def _materialize(asset, data_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dg.materialize([asset], resources={"settings": GenebenchSettings(data_dir=str(data_dir))},
                              raise_on_error=False)


def test_genelab_leaderboard_shows_planted_record_and_published(tmp_path):
    published_path()
    write_record(tmp_path, make_record("planted_model", task="A4", mean=0.97))
    result = _materialize(genelab_leaderboard, tmp_path)
    assert result.success
    md = result.asset_materializations_for_node("genelab_leaderboard")[0].metadata
    rows = md["rows"].value["A4"]
    assert rows[0]["model"] == "planted_model" and rows[1]["kind"] == "published"
    assert "data:image/png;base64," in md["leaderboard"].value and md["n_records"].value == 1


def test_spaceomicsbench_leaderboard_and_malformed_record(tmp_path, monkeypatch):
    monkeypatch.setenv("GENEBENCH_SPACEOMICSBENCH_DIR", str(tmp_path / "no_published"))   # records only: fast
    write_record(tmp_path, make_record("soma_model", task="F4", benchmark="spaceomicsbench"))
    result = _materialize(spaceomicsbench_results_leaderboard, tmp_path)
    assert result.success
    md = result.asset_materializations_for_node("spaceomicsbench_results_leaderboard")[0].metadata
    assert list(md["rows"].value) == ["F4"] and md["rows"].value["F4"][0]["model"] == "soma_model"
    path = write_record(tmp_path, make_record(task="A1"))
    raw = json.loads(path.read_text())
    raw["go"] = "yes"
    path.write_text(json.dumps(raw))
    result = _materialize(genelab_leaderboard, tmp_path)
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error.message
    assert str(path) in failure and "field 'go'" in failure
