"""multi_db_comparison.json: the AUROC block from the (fixture) reproduced release tables, the NES
conservation from the release's fGSEA tables, each compared field by field with the published file."""

import json

from genebench_assets.science.analyses import multi_db
from genebench_assets.science.release.pathway_lomo import compare_to_published
from genebench_assets_tests.conftest import REPO_ROOT, published_path, shared_path

FIXTURES = REPO_ROOT / "genebench_assets_tests" / "fixtures" / "published_pathway_results"
TASK = {"liver": "A1", "gastrocnemius": "A2", "kidney": "A3", "thymus": "A4", "skin": "A5", "eye": "A6"}


def _published():
    return json.loads(published_path("genelab_evaluation", "multi_db_comparison.json").read_text())


def _results(folder):
    return {(t, db): json.loads((folder / f"{TASK[t]}_pathway_{db}_results.json").read_text())
            for t in multi_db.PUBLISHED_TISSUES for db in multi_db.COLLECTIONS}


def test_auroc_block_is_a_relayout_of_the_pathway_tables():
    # the 24 published tables are exactly what `genebench reproduce pathway-lomo` writes
    # (genebench_assets_tests/defs/release); their re-layout must be the published block exactly
    folder = published_path("genelab_evaluation")
    assert compare_to_published(multi_db.auroc_block(_results(folder)), _published()["auroc"], ignore=()) == []


def test_nes_conservation_matches_published():
    ours = multi_db.nes_conservation(shared_path("genelab_release"))
    assert compare_to_published(ours, _published()["nes_conservation"], ignore=()) == []


def test_missing_pairs_are_left_out():
    block = multi_db.auroc_block({("eye", "kegg"): {m: {k: 1 for k in multi_db.AUROC_FIELDS} for m in multi_db.MODELS}})
    assert block == {m: {"eye": {"kegg": {k: 1 for k in multi_db.AUROC_FIELDS}}} for m in multi_db.MODELS}
