"""Gene sets: GMT parsing (real mouse Hallmark and MitoCarta), the Ensembl -> symbol map, mapping
expression to symbols (highest-variance duplicate wins) and the 15..500 size filter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.pathways.gene_sets import (
    GeneSetFileError,
    filter_gene_sets,
    map_ensembl_to_symbols,
    read_gmt,
    read_symbol_map,
)
from genebench_assets_tests.conftest import shared_path


@pytest.fixture(scope="module")
def hallmark():
    return read_gmt(shared_path("gene_sets", "mouse_hallmark_v7.0.gmt"))


@pytest.fixture(scope="module")
def mitocarta():
    return read_gmt(shared_path("gene_sets", "mitocarta3_mouse.gmt"))


@pytest.fixture(scope="module")
def symbol_map():
    return read_symbol_map(shared_path("genelab_release", "processed", "ensembl_symbol_map.csv"))


def test_real_hallmark_gmt(hallmark):
    assert len(hallmark) == 50
    assert all(name.startswith("HALLMARK_") for name in hallmark)
    # mouse symbols (first letter upper, rest mostly lower), no URL or empty entries among the genes
    genes = hallmark["HALLMARK_TNFA_SIGNALING_VIA_NFKB"]
    assert genes[:3] == ["Abca1", "Ackr3", "Areg"]
    assert all(g and not g.startswith("http") for members in hallmark.values() for g in members)
    assert all(len(members) == len(set(members)) for members in hallmark.values())


def test_real_mitocarta_gmt(mitocarta):
    assert len(mitocarta) == 137
    assert all(name.startswith("MITOCARTA_") for name in mitocarta)
    assert mitocarta["MITOCARTA_METABOLISM_AMINO_ACID_METABOLISM_BRANCHED_CHAIN_AMINO_ACID_DEHYDROGENASE_COMPLEX"] == [
        "Dbt", "Bckdha", "Dld", "Bckdhb", "Bckdk", "Ppm1k",
    ]


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ("A\tdesc\tg1\tg2\nno_tab_here\n", 2, "found no tab"),
        ("A\tdesc\tg1\n\tdesc\tg2\n", 2, "empty gene set name"),
        ("A\tdesc\tg1\nB\tdesc\t\t\n", 2, "lists no genes"),
        ("A\tdesc\tg1\n\nA\tdesc\tg2\n", 3, "appears twice"),
    ],
)
def test_read_gmt_errors_name_file_and_line(tmp_path, content, line, message):
    path = tmp_path / "bad.gmt"
    path.write_text(content)
    with pytest.raises(GeneSetFileError, match=message) as err:
        read_gmt(path)
    assert f"{path}:{line}:" in str(err.value)


def test_read_gmt_missing_file_and_dedup(tmp_path):
    with pytest.raises(GeneSetFileError, match="nope.gmt"):
        read_gmt(tmp_path / "nope.gmt")
    path = tmp_path / "ok.gmt"
    path.write_text("A\tdesc\tg1\tg2\tg1\t\n\nB\t\tg3\n")
    assert read_gmt(path) == {"A": ["g1", "g2"], "B": ["g3"]}


def test_real_symbol_map(symbol_map):
    assert len(symbol_map) == 27207
    assert symbol_map["ENSMUSG00000000001"] == "Gnai3"
    assert symbol_map.index.is_unique
    assert symbol_map.duplicated().sum() == 247  # symbols shared by several Ensembl ids


def test_symbol_map_errors(tmp_path):
    bad = tmp_path / "map.csv"
    bad.write_text("gene,name\nE1,A\n")
    with pytest.raises(GeneSetFileError, match="lacks column"):
        read_symbol_map(bad)
    conflict = tmp_path / "conflict.csv"
    conflict.write_text("ENSEMBL,SYMBOL\nE1,A\nE1,B\n")
    with pytest.raises(GeneSetFileError, match="more than one symbol"):
        read_symbol_map(conflict)


def test_map_ensembl_keeps_highest_variance_duplicate_and_drops_unmapped():
    symbol_map = pd.Series({"E1": "A", "E2": "B", "E3": "A", "E4": "C", "E5": "A"})
    expr = pd.DataFrame(
        {
            "s1": [1.0, 5.0, 0.0, 2.0, 1.0, 9.0],
            "s2": [1.1, 5.0, 10.0, 2.0, 1.0, 9.0],
            "s3": [0.9, 5.0, 20.0, 2.0, 1.0, 9.0],
        },
        index=["E1", "E2", "E3", "E4", "E5", "E9"],  # E9 unmapped; E1, E3, E5 all "A", E3 varies most
    )
    out, report = map_ensembl_to_symbols(expr, symbol_map)
    assert list(out.index) == ["B", "A", "C"]  # kept rows stay in input order
    assert out.index.name == "symbol"
    assert out.loc["A"].tolist() == [0.0, 10.0, 20.0]
    assert report["n_input_genes"] == 6
    assert report["n_unmapped"] == 1 and report["unmapped_examples"] == ["E9"]
    assert report["n_duplicate_symbols"] == 1 and report["n_dropped_duplicates"] == 2
    assert report["duplicate_examples"] == {"A": "E3"}
    assert report["n_output_genes"] == 3


def test_map_ensembl_variance_on_given_samples_only():
    # Strict protocol: the duplicate is chosen on the training samples; test values cannot change it.
    symbol_map = pd.Series({"E1": "A", "E2": "A"})
    expr = pd.DataFrame({"tr1": [0.0, 5.0], "tr2": [1.0, 5.5], "te1": [0.0, 50.0]}, index=["E1", "E2"])
    by_all, _ = map_ensembl_to_symbols(expr, symbol_map)
    by_train, _ = map_ensembl_to_symbols(expr, symbol_map, variance_samples=["tr1", "tr2"])
    assert by_all.loc["A"].tolist() == [5.0, 5.5, 50.0]
    assert by_train.loc["A"].tolist() == [0.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="variance sample"):
        map_ensembl_to_symbols(expr, symbol_map, variance_samples=["nope"])


def test_map_ensembl_tie_keeps_first_row():
    symbol_map = pd.Series({"E1": "A", "E2": "A"})
    expr = pd.DataFrame({"s1": [0.0, 10.0], "s2": [1.0, 11.0]}, index=["E1", "E2"])
    out, _ = map_ensembl_to_symbols(expr, symbol_map)
    assert out.loc["A"].tolist() == [0.0, 1.0]


def test_map_ensembl_with_real_map(symbol_map):
    # Two real Ensembl ids that share a symbol, one unmapped id and one unique gene.
    shared = symbol_map[symbol_map.duplicated(keep=False)].sort_values()
    first, second = shared.index[:2]
    assert symbol_map[first] == symbol_map[second]
    rng = np.random.default_rng(0)
    expr = pd.DataFrame(
        np.vstack([rng.normal(0, 1, 6), rng.normal(0, 3, 6), rng.normal(0, 1, 6), rng.normal(0, 1, 6)]),
        index=[first, second, "ENSMUSG_NOT_A_GENE", "ENSMUSG00000000001"],
        columns=[f"s{i}" for i in range(6)],
    )
    out, report = map_ensembl_to_symbols(expr, symbol_map)
    assert list(out.index) == [symbol_map[first], "Gnai3"]
    np.testing.assert_array_equal(out.iloc[0].to_numpy(), expr.loc[second].to_numpy())
    assert report["n_unmapped"] == 1 and report["n_dropped_duplicates"] == 1


def test_filter_gene_sets_reasons_and_coverage():
    sets = {
        "small": ["g1", "g2", "x1"],
        "ok": ["g1", "g2", "g3", "g4", "x2"],
        "big": [f"g{i}" for i in range(1, 11)],
    }
    universe = [f"g{i}" for i in range(1, 11)]
    kept, report = filter_gene_sets(sets, universe, min_size=3, max_size=6)
    assert kept == {"ok": ["g1", "g2", "g3", "g4"]}
    assert report["kept"] == {"ok": 4}
    assert set(report["dropped"]) == {"small", "big"}
    assert report["dropped"]["small"].startswith("too small: 2 of 3 genes")
    assert report["dropped"]["big"].startswith("too large: 10 of 10 genes")
    assert report["genes_covered"] == 4 and report["universe_size"] == 10
    with pytest.raises(ValueError, match="min_size"):
        filter_gene_sets(sets, universe, min_size=5, max_size=4)


def test_filter_real_sets_on_the_release_symbols(hallmark, mitocarta, symbol_map):
    universe = set(symbol_map)
    kept, report = filter_gene_sets(hallmark, universe)
    assert report["n_kept"] == 50 and not report["dropped"]
    assert all(15 <= n <= 500 for n in report["kept"].values())
    assert report["genes_covered"] == len(set().union(*kept.values()))
    assert report["genes_covered"] > 3500

    kept_mito, report_mito = filter_gene_sets(mitocarta, universe)
    assert report_mito["n_kept"] + report_mito["n_dropped"] == 137
    assert report_mito["n_dropped"] > 0  # MitoCarta has many complexes with fewer than 15 genes
    assert all(reason.startswith(("too small", "too large")) for reason in report_mito["dropped"].values())
    assert all(15 <= len(genes) <= 500 for genes in kept_mito.values())
    print(f"\nHallmark: 50/50 sets kept, {report['genes_covered']} genes covered; MitoCarta: "
          f"{report_mito['n_kept']}/137 kept, {report_mito['genes_covered']} genes covered")


def test_no_gene_id_mapped_names_the_symbol_map(tmp_path):
    """Issue 10: a mirror whose gene ids match nothing failed later as "empty expression matrix"."""
    import pandas as pd
    import pytest

    from genebench_assets.science.pathways.gene_sets import GeneSetFileError, map_ensembl_to_symbols, read_symbol_map

    path = tmp_path / "symbols.csv"
    path.write_text("ENSEMBL,SYMBOL\nENSMUSG00000000001,Gnai3\nENSMUSG00000000028,Cdc45\n")
    expr = pd.DataFrame({"S1": [1.0, 2.0, 3.0], "S2": [2.0, 1.0, 0.0]},
                        index=["ENSG00000000003", "ENSG00000000005", "ENSG00000000419"])  # human ids
    with pytest.raises(GeneSetFileError) as err:
        map_ensembl_to_symbols(expr, read_symbol_map(path))
    assert str(err.value).startswith(f"0 of 3 gene ids mapped to a symbol (symbol map: {path}, 2 ids such as "
                                     "ENSMUSG00000000001")
    assert "ENSG00000000003" in str(err.value)
    # One id mapped is enough to go on (the report counts the rest).
    expr.index = ["ENSMUSG00000000001", "ENSG00000000005", "ENSG00000000419"]
    out, report = map_ensembl_to_symbols(expr, read_symbol_map(path))
    assert list(out.index) == ["Gnai3"] and report["n_unmapped"] == 2
