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
    sources = ours.pop("top_genes_source")
    assert list(ours) == list(published)
    assert {t: v["source"] for t, v in sources.items()} == {
        "liver": "shap_dir", "gastrocnemius": "shap_dir", "thymus": "shap_dir", "kidney": "absent", "eye": "absent"}
    assert compare_to_published(ours, published, ignore=()) == []
    assert set(extra) == {"liver", "thymus"}  # the release's DESeq2 tissues


def test_without_shap_files_the_gene_block_says_so_and_the_pathway_block_is_unchanged(tmp_path):
    published = _published()
    ours = cell2020.cell2020_validation(shared_path("genelab_release"), shap_dir=tmp_path)
    assert ours["gene_validation"]["liver"] == {"status": "NO_SHAP_DATA", "file": "evaluation/A1_shap_rf.json"}
    assert compare_to_published(ours["pathway_validation"], published["pathway_validation"], ignore=()) == []
    assert "gene_mean_overlap" not in ours["summary"]
    assert ours["summary"]["pathway_mean_concordance"] == published["summary"]["pathway_mean_concordance"]


def test_our_top_genes_come_first_and_are_overlapped_with_the_reference(tmp_path):
    """gene_shap's file of a tissue (ours) takes the place of the folder's; planted top genes: two thymus
    reference genes (one in another case) at ranks 3 and 50, a non-reference gene elsewhere."""
    ranked = [f"Simg{i:05d}" for i in range(50)]
    ranked[2], ranked[49] = "TOP2A", "Ccnb1"
    ours_file = tmp_path / "ours" / "A4_shap_rf.json"
    ours_file.parent.mkdir()
    ours_file.write_text(json.dumps({"task_id": "A4", "top_genes": {g: {"ensembl": f"E{i}", "mean_abs_shap": 1.0 / (i + 1)}
                                                                    for i, g in enumerate(ranked)}}))
    folder = tmp_path / "folder"
    folder.mkdir()
    for task in ("A1", "A4"):  # the published files in the folder: A4's is overridden by ours, A1's is read
        (folder / f"{task}_shap_rf.json").write_text(published_path("genelab_evaluation", f"{task}_shap_rf.json").read_text())
    out = cell2020.cell2020_validation(shared_path("genelab_release"), shap_dir=folder, ours={"thymus": ours_file})
    thymus = out["gene_validation"]["thymus"]
    assert [(g["gene"], g["shap_rank"]) for g in thymus["found_genes"]] == [("Ccnb1", 50), ("Top2a", 3)]
    assert thymus["n_reference_genes"] == 5 and thymus["overlap_rate"] == 0.4
    assert thymus["shap_top10"] == ranked[:10]
    assert [g["gene"] for g in thymus["not_found_genes"]] == ["Cdk1", "Mki67", "Foxn1"]
    assert out["top_genes_source"]["thymus"] == {"source": "gene_shap", "file": str(ours_file)}
    assert out["top_genes_source"]["liver"]["source"] == "shap_dir"
    assert out["gene_validation"]["liver"] == _published()["gene_validation"]["liver"]
    assert out["gene_validation"]["eye"]["status"] == "NO_SHAP_DATA"
    # the summary averages over the tissues that have top genes (liver from the folder, thymus ours)
    assert out["summary"]["gene_n_tissues"] == 2
    assert out["summary"]["gene_mean_overlap"] == round((out["gene_validation"]["liver"]["overlap_rate"] + 0.4) / 2, 3)


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
