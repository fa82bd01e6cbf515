"""cell2020_validation.json: the pathway block from the release's fGSEA tables and the gene block from
the published A*_shap_rf.json files, compared with the published file field by field; the rules on
planted inputs."""

import json

import pandas as pd
import pytest

from genebench_assets.science.analyses import cell2020
from genebench_assets.science.release.pathway_lomo import compare_to_published
from genebench_assets_tests.conftest import published_path, shared_path


def _published():
    return json.loads(published_path("genelab_evaluation", cell2020.FILENAME).read_text())


def test_reproduces_the_published_file_exactly():
    published = _published()
    ours = cell2020.cell2020_validation(shared_path("genelab_release"), shap_dir=published_path("genelab_evaluation"),
                                        timestamp=published["timestamp"])
    extra = ours.pop("dge_gene_validation")
    assert list(ours) == list(published)
    assert compare_to_published(ours, published, ignore=()) == []
    assert set(extra) == {"liver", "thymus"}  # the release's DESeq2 tissues


def test_without_shap_files_the_gene_block_says_so_and_the_pathway_block_is_unchanged(tmp_path):
    published = _published()
    ours = cell2020.cell2020_validation(shared_path("genelab_release"), shap_dir=tmp_path)
    assert ours["gene_validation"]["liver"] == {"status": "NO_SHAP_DATA", "file": "evaluation/A1_shap_rf.json"}
    assert compare_to_published(ours["pathway_validation"], published["pathway_validation"], ignore=()) == []
    assert "gene_mean_overlap" not in ours["summary"]
    assert ours["summary"]["pathway_mean_concordance"] == published["summary"]["pathway_mean_concordance"]


def test_reference_lists_carry_their_source():
    ref = cell2020.load_reference()
    assert ref["seed_script"]["licence"] == "MIT" and "Beheshti" in ref["references"][0]
    assert all(v["source"] for v in ref["pathways"].values()) and all(v["source"] for v in ref["genes"].values())


def test_pathway_direction_rules_on_planted_nes():
    ref = {"expected_up": ["HALLMARK_A", "HALLMARK_B"], "expected_down": ["HALLMARK_C", "HALLMARK_MISSING"], "source": "s"}
    nes = {"HALLMARK_A": 1.0, "HALLMARK_B": -0.2, "HALLMARK_C": -3.0, "HALLMARK_D": 0.1}
    v = cell2020.validate_pathways(nes, ref)
    assert (v["n_expected"], v["n_found"], v["concordant"], v["discordant"]) == (4, 3, 2, 1)
    assert v["concordance_rate"] == 0.667 and v["top5_pathways"][:2] == ["C", "A"]
    assert [d["concordant"] for d in v["details"]] == [True, False, True]
    assert cell2020.validate_pathways({}, ref)["status"] == "NO_DATA"


def test_gene_overlap_is_case_insensitive_with_one_based_ranks():
    ref = {"genes": {"Dbp": {"direction": "variable", "function": "f"}, "Pck1": {"direction": "up", "function": "g"}}}
    v = cell2020.validate_genes(["Xyz", "DBP", "Abc"], ref, task_id="A1")
    assert v["found_genes"] == [{"gene": "Dbp", "shap_rank": 2, "direction": "variable", "function": "f"}]
    assert v["overlap_rate"] == 0.5 and v["shap_top10"] == ["Xyz", "DBP", "Abc"]


@pytest.mark.parametrize("rate,verdict", [(0.7, "STRONG"), (0.69, "MODERATE"), (0.3, "WEAK")])
def test_summary_verdict_thresholds(rate, verdict):
    assert cell2020.summary({"t": {"status": "VALIDATED", "concordance_rate": rate}}, {})["pathway_verdict"] == verdict


def test_dge_gene_validation_on_a_planted_table(tmp_path):
    pd.DataFrame({"ENSEMBL": ["E1", "E2", "E3"], "log2FC": [1.0, -2.0, 0.1], "stat": [5.0, -9.0, 0.2],
                  "pvalue": [0.01, 0.001, 0.9], "adj_pvalue": [0.05, 0.01, 0.9]}).to_csv(tmp_path / "RR-1_deseq2_dge.csv", index=False)
    symbols = pd.DataFrame({"ENSEMBL": ["E1", "E2", "E3"], "SYMBOL": ["Up1", "Down1", "Flat"]})
    genes = {"UP1": {"direction": "up"}, "Down1": {"direction": "up"}, "Flat": {"direction": "variable"},
             "Absent": {"direction": "down"}}
    v = cell2020.dge_gene_validation([tmp_path / "RR-1_deseq2_dge.csv"], genes, symbols, top_n=2)
    by = {g["gene"]: g for g in v["genes"]}
    assert by["UP1"]["concordant"] is True and by["Down1"]["concordant"] is False and by["Flat"]["concordant"] is None
    assert by["Down1"]["abs_stat_rank"] == 1 and by["UP1"]["in_top2"] and not by["Flat"]["in_top2"]
    assert not by["Absent"]["found"] and v["direction_concordance"] == 0.5 and v["n_in_top2"] == 2
