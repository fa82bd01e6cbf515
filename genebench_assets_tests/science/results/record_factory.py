"""A valid results record for tests (planted user results)."""

from genebench_assets.science.results.record import build_record


def make_record(model="my_model", task="A2", *, kind="submission", protocol="strict", mean=0.95, benchmark="genelab",
                feature_set=None, roc=True, **kw) -> dict:
    return build_record(
        benchmark=benchmark, task=task, model=model, kind=kind, protocol=protocol, metric="AUROC",
        folds=[{"fold_id": "fold_RR-1_test", "value": mean, "ci_lower": mean - 0.1, "ci_upper": 1.0, "perm_p": 0.01,
                "n_test": 12}],
        summary={"mean": mean, "std": 0.0, "mean_ci_lower": mean - 0.1, "mean_perm_p": 0.01},
        go=mean > 0.7, predictions_sha256="a" * 64, folds_data_version="folds-v1", code_version="test",
        seeds=[42], feature_set=feature_set,
        roc={"fpr": [0.0, 0.1, 1.0], "tpr": [0.0, 0.9, 1.0]} if roc else None, **kw)
