"""T1-T3 (issue 21) from the release's GSVA scores, compared with the published summaries: T2's pathway recovery
and groups, T3's ANOVA, T1d's pathway transfers and one T1 condition exactly in the fast tests; every pathway field
of the three files in the slow one (about 700 logistic fits with 10,000 permutations each: ~1.5 min on 2 shared
cores). Rules on planted samples."""

import json

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.analyses import temporal
from genebench_assets.science.release.pathway_lomo import compare_to_published
from genebench_assets_tests.conftest import published_path, shared_path


def _published(task):
    return json.loads(published_path("genelab_evaluation", temporal.FILENAMES[task]).read_text())


@pytest.fixture(scope="module")
def release():
    return shared_path("genelab_release")


def test_sample_names_give_group_timing_and_age():
    assert temporal.parse_sample("RR8_LVR_VIV_ISS-T_OLD_VI11") == {"group": "VIV", "timing": "ISS-T", "age": "OLD"}
    assert temporal.parse_sample("Mmus_C57-6T_TMS_FLT_LAR_Rep3_F2") == {"group": "FLT", "timing": "LAR", "age": "unknown"}
    assert temporal.parse_sample("GSM123")["group"] is None


def test_a_sample_without_group_is_one_line_naming_file_and_sample(tmp_path):
    base = tmp_path / "processed" / "pathway_scores" / "liver"
    base.mkdir(parents=True)
    pd.DataFrame({"HALLMARK_A": [0.1, 0.2]}, index=["RR8_LVR_FLT_LAR_OLD_1", "RR8_LVR_XX_LAR_2"]).to_csv(base / "RR-8_gsva_hallmark.csv")
    with pytest.raises(temporal.TemporalDataError, match=r"RR-8_gsva_hallmark.csv: sample 'RR8_LVR_XX_LAR_2' has no group"):
        temporal.mission_samples(tmp_path, "liver", "RR-8")


def test_recovery_fraction_rules_seed_and_strict_on_planted_means():
    ids = [f"M_{g}_{t}_{i}" for g in ("FLT", "BSL") for t in ("ISS-T", "LAR") for i in range(2)]
    samples = pd.DataFrame([temporal.parse_sample(s) for s in ids], index=ids)
    # per pathway: FLT_ISS-T, BSL_ISS-T, FLT_LAR, BSL_LAR means
    means = {"P_partial": (1.0, 0.0, 0.25, 0.0), "P_over": (1.0, 0.0, -0.5, 0.0), "P_diverge": (1.0, 0.0, 1.5, 0.0),
             "P_flat": (0.05, 0.0, 0.3, 0.0)}
    scores = pd.DataFrame({p: [m[{"FLT_ISS-T": 0, "BSL_ISS-T": 1, "FLT_LAR": 2, "BSL_LAR": 3}[f"{g}_{t}"]]
                               for g, t in zip(samples["group"], samples["timing"])] for p, m in means.items()}, index=ids)
    rec = temporal.pathway_recovery(scores, samples)
    assert {p: v["recovery_fraction"] for p, v in rec.items()} == {"P_partial": 0.75, "P_over": 1.5, "P_diverge": -0.5,
                                                                  "P_flat": None}
    assert temporal.recovery_summary(rec)["n_recovering"] == 2          # seed: the overshoot counts as recovering
    strict = temporal.recovery_summary_strict(rec)
    assert (strict["n_recovering"], strict["n_overshoot"], strict["n_not_recovering"], strict["n_total"]) == (1, 1, 1, 3)


def test_t2_pathway_recovery_and_groups_exactly(release):
    published = _published("T2")
    doc = temporal.t2_document(temporal.run_t2(release))
    for mission, theirs in published["missions"].items():
        ours = doc["missions"][mission]
        assert compare_to_published(ours["pathway_recovery"], theirs["pathway_recovery"], ignore=()) == []
        assert list(ours["groups"].items()) == list(theirs["groups"].items())
        assert ours["pca_recovery_ratio"] is None and ours["classification_shift"] is None   # gene level
    assert list(doc) == [*published, "not_reproduced"]


def test_t3_anova_as_published(release):
    published = _published("T3")["results"]["T3c_anova"]
    anova = temporal.t3_anova(temporal.tissue_scores(release, "liver"), temporal.mission_samples(release, "liver", "RR-8"))
    assert {k: anova[k] for k in ("n_pathways", "n_significant_interaction", "n_samples", "timing_filter")} == \
        {k: published[k] for k in ("n_pathways", "n_significant_interaction", "n_samples", "timing_filter")}
    # min FDR = 50 x the OXPHOS interaction p: equal to 3 ulp (the OLS solve's last digits follow the BLAS build)
    assert min(p["fdr_interaction"] for p in anova["pathways"]) == pytest.approx(published["min_fdr_interaction"], rel=1e-14)


def test_t1d_pathway_transfers_exactly(release):
    published = _published("T1")["subtasks"]["T1d_cross_mission"]["transfers"]
    scores = temporal.tissue_scores(release, "liver")
    samples = {m: temporal.mission_samples(release, "liver", m) for m in ("RR-6", "RR-8")}
    for key, theirs in published.items():
        condition, mode, pair = key.split("_", 2)
        if mode == "gene":
            continue
        a, b = pair.split("\u2192")
        ours = temporal.t1_transfer(scores, samples[a], samples[b], condition)
        assert compare_to_published(ours, theirs, ignore=()) == [], key


def test_one_t1_condition_exactly(release):
    theirs = _published("T1")["subtasks"]["T1c_RR-6_thymus"]["conditions"]["FLT_pathway"]
    ours = temporal.t1_condition(temporal.tissue_scores(release, "thymus"), temporal.mission_samples(release, "thymus", "RR-6"), "FLT")
    assert {k: ours[k] for k in theirs} == theirs
    assert (ours["n_isst"], ours["n_lar"]) == (10, 7)


@pytest.mark.slow
def test_every_pathway_field_of_the_three_files(release):
    result = temporal.temporal_analyses(release)
    for task, doc in result["documents"].items():
        published = _published(task)
        diffs = [d for d in compare_to_published(doc, published, ignore=("timestamp", "not_reproduced"))
                 if not any(g in d for g in ("_gene", "interpretation", "pca_", "classification_shift", "aging_hypothesis",
                                             ".evidence", "min_fdr_interaction", "transfers: keys"))]
        assert diffs == [], task
    ours = result["documents"]["T1"]["subtasks"]["T1b_RR-8_liver"]["conditions"]
    assert ours["BSL_gene"] == temporal.GENE_SKIP and ours["BSL_pathway"]["auroc"] == 0.9695290858725761
    assert np.isclose(result["documents"]["T3"]["results"]["T3c_anova"]["min_fdr_interaction"], 0.36511861388741385, rtol=1e-14)
