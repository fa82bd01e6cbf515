"""temporal_analyses through the Dagster graph: the release's GSVA scores in, the three T summaries out in the
published layout (T2's pathway recovery exact), the strict variant stored beside, provenance of every GSVA file
read; a release whose sample names lack a group fails in one line and writes nothing. The classifier and the
ANOVA are stubbed here (their numbers are tested exactly in science/analyses/test_temporal.py) to keep it fast."""

import json
import shutil

import dagster as dg
import pandas as pd
import pytest

from genebench_assets.defs.analyses.temporal import temporal_analyses
from genebench_assets.defs.release.resources import ReleaseSettings
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.science.analyses import temporal
from genebench_assets.science.release.pathway_lomo import compare_to_published
from genebench_assets_tests.conftest import published_path, shared_path


@pytest.fixture
def fast_fits(monkeypatch):
    monkeypatch.setattr(temporal, "cross_validated_probabilities", lambda X, y: (X[:, 0], "stub"))
    monkeypatch.setattr(temporal, "_fit_predict", lambda X_train, y_train, X_test: X_test[:, 0])
    monkeypatch.setattr(temporal, "t3_anova", lambda scores, samples: {
        "n_pathways": 1, "n_significant_interaction": 0, "n_samples": 40, "timing_filter": "ISS-T",
        "pathways": [{"pathway": "P", "fdr_interaction": 0.5}]})


def _materialize(tmp_path, release, out):
    resources = {"settings": GenebenchSettings(data_dir=str(tmp_path / "data")),
                 "release_settings": ReleaseSettings(release_dir=str(release), out_dir=str(out))}
    return dg.materialize([temporal_analyses], resources=resources, instance=dg.DagsterInstance.ephemeral(),
                          raise_on_error=False)


def test_writes_the_three_summaries_in_the_published_layout(tmp_path, fast_fits):
    published_dir = published_path("genelab_evaluation")
    out = tmp_path / "out"
    result = _materialize(tmp_path, shared_path("genelab_release"), out)
    assert result.success
    docs = {k: json.loads((out / name).read_text()) for k, name in temporal.FILENAMES.items()}
    theirs = {k: json.loads((published_dir / name).read_text()) for k, name in temporal.FILENAMES.items()}
    for k in docs:
        assert list(docs[k]) == [*theirs[k], "not_reproduced"] and docs[k]["timestamp"]
    assert list(docs["T1"]["subtasks"]) == list(theirs["T1"]["subtasks"])
    assert list(docs["T3"]["results"]) == list(theirs["T3"]["results"])
    assert docs["T1"]["subtasks"]["T1a_RR-6_liver"]["conditions"]["FLT_gene"]["status"] == "SKIP"
    for m in ("RR-6", "RR-8"):
        assert compare_to_published(docs["T2"]["missions"][m]["pathway_recovery"],
                                    theirs["T2"]["missions"][m]["pathway_recovery"], ignore=()) == []
    strict = json.loads((tmp_path / "data" / "tables" / "temporal_analyses" / "strict.json").read_text())
    assert strict["T2_pathway_recovery"]["RR-8"]["n_overshoot"] == 19
    meta = result.asset_materializations_for_node("temporal_analyses")[0].metadata
    files = {f["file_name"] for f in meta["provenance"].value["raw_files"]}
    assert "processed/pathway_scores/liver/RR-8_gsva_hallmark.csv" in files
    assert "processed/pathway_scores/thymus/RR-6_gsva_hallmark.csv" in files
    assert "t2_recovery_seed_vs_strict" in meta and "not_reproduced_offline" in meta


def test_a_sample_without_group_fails_in_one_line_and_writes_nothing(tmp_path, fast_fits):
    release = shared_path("genelab_release")
    bad = tmp_path / "release"
    (bad / "tasks").mkdir(parents=True)
    for tissue in ("liver", "thymus"):
        shutil.copytree(release / "processed" / "pathway_scores" / tissue, bad / "processed" / "pathway_scores" / tissue)
    f = bad / "processed" / "pathway_scores" / "liver" / "RR-6_gsva_hallmark.csv"
    scores = pd.read_csv(f, index_col=0)
    scores.rename(index={scores.index[0]: "Mmus_LVR_NOGROUP_LAR_1"}).to_csv(f)
    out = tmp_path / "out"
    result = _materialize(tmp_path, bad, out)
    assert not result.success
    failure = next(ev for ev in result.all_events if ev.is_step_failure)
    message = failure.step_failure_data.error.message.strip()
    assert "RR-6_gsva_hallmark.csv: sample 'Mmus_LVR_NOGROUP_LAR_1' has no group token" in message
    assert "\n" not in message and not out.exists()
