"""`genebench reproduce analyses` end to end: two Dagster runs, the published-layout files, the
published A6 hallmark coefficients (pathway order and fields exact, floats to 1e-12) and the
multi_db_comparison's four blocks and cell2020_validation's pathway block exactly. About 10 minutes on 2 shared cores
(it re-runs the whole release reproduction): slow."""

import json

import pytest

from genebench_assets_tests.conftest import published_path, shared_path

pytestmark = pytest.mark.slow


def test_reproduce_analyses_cli_end_to_end(tmp_path, monkeypatch):
    from genebench_assets import cli
    from genebench_assets.science.analyses import interpretability as interp
    from genebench_assets.science.release.pathway_lomo import compare_to_published

    release = shared_path("genelab_release")
    published = published_path("genelab_evaluation")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dh"))
    monkeypatch.setenv("GENEBENCH_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "dh").mkdir()
    out = tmp_path / "out"
    assert cli.main(["reproduce", "analyses", "--release", str(release), "--out", str(out)]) == 0
    assert len(list(out.glob("A*_pathway_*_shap.json"))) == 24
    assert len(list(out.glob("A*_pathway_*_results.json"))) == 24
    diffs, worst = interp.compare_coefficient_summary(
        json.loads((out / "A6_pathway_hallmark_shap.json").read_text()),
        json.loads((published / "A6_pathway_hallmark_shap.json").read_text()))
    assert diffs == [] and worst < 1e-12
    ours = json.loads((out / "multi_db_comparison.json").read_text())
    theirs = json.loads((published / "multi_db_comparison.json").read_text())
    for block in ("auroc", "nes_conservation", "mitocarta_deep_dive", "cross_db_concordance"):
        assert compare_to_published(ours[block], theirs[block], ignore=()) == [], block
    cell = json.loads((out / "cell2020_validation.json").read_text())
    theirs = json.loads((published / "cell2020_validation.json").read_text())
    assert compare_to_published(cell["pathway_validation"], theirs["pathway_validation"], ignore=()) == []
