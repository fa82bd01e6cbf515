"""Category C methods A and B with gene features on two synthetic tissues: strict method B's gene list
does not move when the test tissue's labels are permuted; the seed's (shared DEGs, as published) does."""

import numpy as np
import pandas as pd

from genebench_assets.science.categories import cross_tissue_genes as ctg


def _tissue(name, signal, seed, n=12, n_genes=400):
    rng = np.random.default_rng(seed)
    ids = [f"{name}_{i}" for i in range(n)]
    y = np.array([1.0, 0.0] * (n // 2))
    expr = pd.DataFrame(6 + rng.normal(size=(n_genes, n)), index=[f"G{i:03d}" for i in range(n_genes)], columns=ids)
    expr.loc[signal, y == 1.0] += 3.0
    meta = pd.DataFrame({"mission": "RR-1", "label": y, "tissue": name, "excluded": False}, index=pd.Index(ids, name="sample_id"))
    return ctg.TissueSide(name, expr, meta)


def test_strict_gene_list_reads_training_labels_only_and_seed_reads_the_test_tissue():
    train = _tissue("liver", [f"G{i:03d}" for i in range(0, 60)], 1)
    test = _tissue("kidney", [f"G{i:03d}" for i in range(30, 90)], 2)
    folds = {p: ctg.build_gene_folds(train, test, task_id="C1", protocol=p) for p in ("seed", "strict")}
    strict_b, seed_b = folds["strict"]["method_b"], folds["seed"]["method_b"]
    assert strict_b["gene_list_from"] == ["liver"] and set(strict_b["gene_list_label_samples"]) == set(train.expression.columns)
    assert seed_b["gene_list_from"] == ["liver", "kidney"] and "defect 1" in seed_b["flag"]
    assert set(seed_b["genes"]) < set(strict_b["genes"])  # the shared DEGs
    assert ctg.gene_list_depends_on_test_labels(train, test, strict_b) == []
    found = ctg.gene_list_depends_on_test_labels(train, test, seed_b)
    assert any("changes when the test tissue's labels are permuted" for f in found)
    assert any("read the labels of 12 test-tissue samples" for f in found)
    a = folds["strict"]["method_a"]
    assert a["variance_filter_fitted_on"] == list(train.expression.columns) and len(a["genes"]) == 300
    result = ctg.fit_evaluate(strict_b, train, test, n_bootstrap=100, n_permutations=100)
    assert result["auroc"] > 0.8 and result["n_features"] == len(strict_b["genes"])
