"""`genebench export-tokens` and `genebench evaluate --embeddings` on the demo graph, end to end with the
example embeddings generator (issue 20): folds read through the read gate from the graph's instance."""

from __future__ import annotations

import importlib.util
import json

import pandas as pd
import pytest

from genebench_assets import cli
from genebench_assets.defs.sources.resources import OsdrSource
from genebench_assets_tests.conftest import REPO_ROOT, SHARED_DATA
from genebench_assets_tests.defs.demo_graph import DemoGraph

pytestmark = pytest.mark.slow
TISSUE, TASK, MISSIONS = "gastrocnemius", "A2", ["RR-1", "RR-5", "RR-9"]
FOLDS = ["fold_RR-1_test", "fold_RR-5_test", "fold_RR-9_test"]


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    root = tmp_path_factory.mktemp("emb")
    g = DemoGraph(root / "data", models=("negative_control",),  # the demo's 6,000 genes (fewer fail sample QC)
                  source=OsdrSource(mode="demo", demo_n_genes=6000, demo_publish_held_back=False))
    assert g.catalog().success
    for m in MISSIONS:
        assert g.study(TISSUE, m).success, m
    assert g.tissue(TISSUE, keys=["lomo_folds"]).success  # the folds and their leakage checks
    return g


@pytest.fixture
def use_graph(graph, monkeypatch):
    monkeypatch.setenv("GENEBENCH_DATA_DIR", str(graph.data_dir))
    monkeypatch.setattr(cli, "_instance", lambda: graph.instance)
    return graph


@pytest.fixture(scope="module")
def tokens(graph, tmp_path_factory):
    out = tmp_path_factory.mktemp("tokens")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GENEBENCH_DATA_DIR", str(graph.data_dir))
        mp.setattr(cli, "_instance", lambda: graph.instance)
        assert cli.main(["export-tokens", "--task", TASK, "--out", str(out), "--top-n", "300"]) == 0
    return out / TASK


def _make_embeddings(task_dir, out, *args):
    spec = importlib.util.spec_from_file_location("make_embeddings", REPO_ROOT / "examples" / "make_embeddings.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--tokens", str(task_dir), "--out", str(out), *args]) == 0
    return out


def test_export_tokens_writes_every_fold_with_training_medians(graph, tokens):
    from genebench_assets.defs.gating.tissue_inputs import load_tissue, read_checked_folds
    from genebench_assets.science.foundation_models.tokens import training_medians

    manifest = json.loads((tokens / "manifest.json").read_text())
    assert [f["fold_id"] for f in manifest["folds"]] == FOLDS
    assert manifest["top_n"] == 300 and manifest["lineage"]["lomo_folds"]["protocol"] == "strict"
    store = graph.settings.table_store()
    folds = {f.fold_id: f for f in read_checked_folds(None, store, TISSUE, instance=graph.instance)}
    expression = load_tissue(store, graph.settings.catalog(), TISSUE).expression
    for entry in manifest["folds"]:
        fold = folds[entry["fold_id"]]
        tok = pd.read_parquet(tokens / entry["fold_id"] / "tokens.parquet")
        assert set(tok.sample_id) == set(fold.train_ids) | set(fold.test_ids)
        assert tok.groupby("sample_id").size().max() == 300
        med = pd.read_parquet(tokens / entry["fold_id"] / "gene_medians.parquet").set_index("gene_id")["median"]
        pd.testing.assert_series_equal(med, training_medians(expression, fold.train_ids), check_names=False)
        assert entry["medians_from"] == f"training samples only ({len(fold.train_ids)})"


def test_evaluate_embeddings_end_to_end_beside_published_geneformer(use_graph, tokens, tmp_path, capsys):
    emb = _make_embeddings(tokens, tmp_path / "emb.parquet", "--dims", "16")
    assert capsys.readouterr().out.startswith(f"wrote {emb}: ")
    from genebench_assets.science.storage.atomic_files import sha256_file

    assert cli.main(["evaluate", "--embeddings", str(emb), "--task", TASK, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [f["fold_id"] for f in result["folds"]] == FOLDS
    assert result["embeddings"]["sha256"] == sha256_file(emb) == result["lineage"]["embeddings_sha256"]
    assert 0.0 <= result["summary"]["mean_auroc"] <= 1.0 and result["summary"]["n_folds"] == 3
    if (SHARED_DATA / "published_results").exists():
        assert result["published_geneformer"]["mean_auroc"] == pytest.approx(0.3819, abs=1e-4)
    if result["record"]:  # the results record (science/results/record.py) names the embeddings' sha256
        record = json.loads(open(result["record"]).read())
        assert record["kind"] == "embeddings" and sha256_file(emb) in record["source"]
    assert cli.main(["evaluate", "--embeddings", str(emb), "--task", TASK]) == 0
    table = capsys.readouterr().out
    assert sha256_file(emb) in table and "published Geneformer" in table
    if (SHARED_DATA / "published_results").exists():
        assert "0.382 +/- 0.054 (3 folds)" in table and "0.444" in table  # fold_RR-1_test, published


def test_bad_embeddings_files_exit_2_in_one_line(use_graph, tokens, tmp_path, capsys):
    emb = pd.read_parquet(_make_embeddings(tokens, tmp_path / "emb.parquet", "--mode", "random"))
    missing = emb[~emb.sample_id.isin(emb.sample_id[:2])]
    missing.to_parquet(tmp_path / "missing.parquet", index=False)
    nan = emb.copy()
    nan.loc[3, "dim_4"] = float("nan")
    nan.to_parquet(tmp_path / "nan.parquet", index=False)
    (tmp_path / "text.parquet").write_text("sample_id,dim_0\n")
    cases = {"missing.parquet": f"2 of the task's {len(emb)} sample ids have no embedding row, first {emb.sample_id[0]!r}",
             "nan.parquet": "dim_4: 1 non-finite value(s) (NaN/inf)",
             "text.parquet": "not a parquet file"}
    for name, expected in cases.items():
        assert cli.main(["evaluate", "--embeddings", str(tmp_path / name), "--task", TASK]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and expected in err and err.startswith("genebench evaluate: "), err
    assert cli.main(["evaluate", "--embeddings", str(tmp_path / "missing.parquet"), "--task", "A9"]) == 2
    assert "is not a task of the catalog" in capsys.readouterr().err
