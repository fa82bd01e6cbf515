"""`genebench reproduce ...` writes results records of kind `reproduction` (issue 20), shown by
`genebench results` beside the published rows, each row saying which it is."""

from __future__ import annotations

import json

import pytest

from genebench_assets.science.results.from_reproductions import multi_db_records, reproduction_records
from genebench_assets.science.results.record import read_records, validate_record
from genebench_assets_tests.conftest import published_path, shared_path
from genebench_assets_tests.test_cli import genebench


def test_reproduce_pathway_lomo_on_one_tissue_shows_reproduction_rows_beside_the_published(tmp_path):
    release = shared_path("genelab_release")
    published = json.loads(published_path("genelab_evaluation", "A6_pathway_hallmark_results.json").read_text())
    proc = genebench("reproduce", "pathway-lomo", "--release", str(release), "--db", "hallmark", "--tissue", "eye",
                     "--out", str(tmp_path / "out"), env_dir=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "2 reproduction record(s) for A6" in proc.stdout
    records = read_records(tmp_path / "data", benchmark="genelab", task="A6")
    assert sorted((r["model"], r["kind"], r["protocol"], r["feature_set"]) for r in records) == [
        ("lr", "reproduction", "seed", "pathways:hallmark"), ("pca_lr", "reproduction", "seed", "pathways:hallmark")]
    assert all(len(r["folds"]) == 3 and len(r["folds_data_version"]) == 16 for r in records)
    proc = genebench("results", "--task", "A6", "--json", env_dir=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads(proc.stdout[proc.stdout.index("{"):])["rows"]
    for model in ("lr", "pca_lr"):
        mine = [r for r in rows if r["model"] == model and r["feature_set"] == "pathways:hallmark"]
        assert sorted(r["kind"] for r in mine) == ["published", "reproduction"]
        # reproduced exactly (SPEC §11): the same mean AUROC and CI lower bound as the published file
        assert {r["value"] for r in mine} == {published[model]["mean_auroc"]}
        assert {r["ci_lower"] for r in mine} == {published[model]["mean_ci_lower"]}


def test_reproduction_records_from_the_published_layout(tmp_path):
    """The same parser reads published files and reproduced ones: C/D summaries and multi_db_comparison."""
    (tmp_path / "C_cross_tissue_summary.json").write_text(json.dumps({"tasks": {"C1": {
        "method_a": {"auroc": 0.73, "ci_low": 0.62, "ci_high": 0.83, "perm_p": 0.001}}}}))
    (tmp_path / "D_condition_summary.json").write_text(json.dumps({"tasks": {"D3": {
        "feature_modes": {"gene": {"macro_f1": 0.9, "ci_low": 0.8}}}}}))
    records = reproduction_records(tmp_path, ["C1", "D3", "C2"], folds_data_version="v1", code_version="cv",
                                   what="reproduce categories")
    assert [(r["task"], r["model"], r["metric"], r["summary"]["mean"], r["kind"]) for r in records] == [
        ("C1", "method_a", "AUROC", 0.73, "reproduction"), ("D3", "D3 gene", "macro-F1", 0.9, "reproduction")]
    (tmp_path / "multi_db_comparison.json").write_text(json.dumps({"auroc": {"pca_lr": {"eye": {"kegg": {
        "mean_auroc": 0.83, "mean_ci_lower": 0.52, "mean_perm_p": 0.04, "go": True, "std_auroc": 0.1}}}}}))
    (r,) = multi_db_records(tmp_path / "multi_db_comparison.json", folds_data_version={"A6": "v6"}, code_version="cv",
                            what="reproduce analyses")
    assert (r["task"], r["feature_set"], r["summary"]["mean"], r["go"], r["folds_data_version"]) == (
        "A6", "pathways:kegg", 0.83, True, "v6")
    for rec in [*records, r]:
        validate_record(rec, "planted")


@pytest.mark.parametrize("task", ["A6"])
def test_published_pathway_rows_stay_out_of_the_best_published_figure(task):
    from genebench_assets.science.results.published import best_published, published_rows

    published_path("genelab_evaluation")
    rows = published_rows("genelab", task)
    assert {r["feature_set"] for r in rows} >= {"genes", "pathways:hallmark"}
    genes = max(r["value"] for r in rows if r["feature_set"] == "genes")
    assert best_published("genelab", task)["value"] == round(genes, 4) < max(r["value"] for r in rows)
