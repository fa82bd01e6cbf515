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


def test_mitocarta_deep_dive_and_cross_db_concordance_match_published():
    release = shared_path("genelab_release")
    published = _published()
    assert compare_to_published(multi_db.mitocarta_deep_dive(release), published["mitocarta_deep_dive"], ignore=()) == []
    assert compare_to_published(multi_db.cross_db_concordance(release), published["cross_db_concordance"], ignore=()) == []
    # the full function returns the four published blocks in the published order
    assert list(multi_db.multi_db_comparison({}, release)) == list(published)


def test_strict_complex_matching_drops_the_substring_hits():
    import pandas as pd

    keywords = multi_db.OXPHOS_KEYWORDS["Complex_I"]
    assert multi_db.keyword_matches("MITOCARTA_OXPHOS_COMPLEX_IV_CIV_SUBUNITS", keywords)  # the seed's defect
    assert not multi_db.keyword_matches("MITOCARTA_OXPHOS_COMPLEX_IV_CIV_SUBUNITS", keywords, match="strict")
    assert multi_db.keyword_matches("MITOCARTA_OXPHOS_COMPLEX_I_CI_SUBUNITS", keywords, match="strict")
    table = pd.DataFrame({"pathway": ["MITOCARTA_OXPHOS_COMPLEX_I_CI_SUBUNITS", "MITOCARTA_OXPHOS_COMPLEX_IV_CIV_SUBUNITS"],
                          "NES": [2.0, -1.0], "padj": [0.01, 0.5]})
    seed = {"liver": {"RR-1": multi_db.mitocarta_complexes(table)}}
    strict = {"liver": {"RR-1": multi_db.mitocarta_complexes(table, match="strict")}}
    assert seed["liver"]["RR-1"]["Complex_I"]["mean_NES"] == 0.5 and strict["liver"]["RR-1"]["Complex_I"]["mean_NES"] == 2.0
    diff = multi_db.complex_membership_diff(seed, strict)
    assert [(d["complex"], d["seed_only"]) for d in diff] == [("Complex_I", ["MITOCARTA_OXPHOS_COMPLEX_IV_CIV_SUBUNITS"])]


def test_oxphos_concordance_counts_sign_agreement():
    import pandas as pd

    hallmark = pd.DataFrame({"pathway": ["HALLMARK_OXIDATIVE_PHOSPHORYLATION"], "NES": [-1.5]})
    mito = pd.DataFrame({"pathway": ["MITOCARTA_OXPHOS_COMPLEX_V_CV_SUBUNITS", "MITOCARTA_OXPHOS_OXPHOS_SUBUNITS",
                                     "MITOCARTA_FATTY_ACID_OXIDATION"], "NES": [-2.0, 0.5, 3.0]})
    row = multi_db.oxphos_concordance(hallmark, mito)
    assert (row["n_concordant"], row["n_total"], row["concordance_rate"]) == (1, 2, 0.5)
    assert multi_db.oxphos_concordance(hallmark.iloc[:0], mito) is None
