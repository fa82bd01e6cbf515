"""Benchmark: would warm-starting the positive-control LR from the real model's solution save its CPU?

    .venv/bin/python benchmarks/positive_control_warm_start.py [--data-dir DIR] [--tissue liver]

The positive control (issue 9) fits the SPEC §6 LR (saga elastic net, l1_ratio 0.5, C 1, balanced,
max_iter 10000) on a copy of each fold with label-carrying columns planted (planted_label_copy). Its
objective is strictly convex, so one could start saga at the real model's coefficients (planted
columns at 0; the other columns are identical, so the training-set scaler gives them the same values).
For each genes fold of the tissue this prints, single-threaded: the real fit, the positive control
cold (as model_predictions runs it) and warm-started - epochs (n_iter_), seconds, test AUROC - and how
far apart the cold and warm solutions are (saga stops on the relative change per epoch, not on the
distance to the optimum).

--data-dir: the GENEBENCH_DATA_DIR of a `genebench materialize` run (demo); without it the tissue
is materialized first in a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir")
    ap.add_argument("--tissue", default="liver")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="genebench_pc_") as tmp:
        data_dir = args.data_dir
        if not data_dir:
            data_dir = str(Path(tmp) / "data")
            env = dict(os.environ, DAGSTER_HOME=str(Path(tmp) / "home"), GENEBENCH_DATA_DIR=data_dir)
            Path(env["DAGSTER_HOME"]).mkdir()
            print(f"materializing the demo {args.tissue} in {tmp} ...", flush=True)
            subprocess.run([sys.executable, "-m", "genebench_assets.cli", "materialize", "--tissue", args.tissue],
                           env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        os.environ["GENEBENCH_DATA_DIR"] = data_dir
        return compare(args.tissue)


def compare(tissue: str) -> int:
    import numpy as np
    from threadpoolctl import threadpool_limits

    from genebench_assets.defs.runtime.settings import GenebenchSettings
    from genebench_assets.defs.gating.tissue_inputs import load_tissue
    from genebench_assets.science.evaluation import metrics
    from genebench_assets.science.evaluation.lomo_evaluation import planted_label_copy
    from genebench_assets.science.models.classifiers import MODEL_CONFIGS, build_model
    from genebench_assets.science.tasks.folds import Fold, fold_matrices, fold_test_labels, model_fit_rows

    settings = GenebenchSettings()
    store = settings.table_store()
    data = load_tissue(store, settings.catalog(), tissue)
    folds = [Fold.from_dict(d) for d in store.read_json("lomo_folds", tissue)]
    print(f"model: {MODEL_CONFIGS['lr'].description}; seed 42; one thread")
    print(f"{'fold':20s} {'n x p':>11s} | {'real: epochs':>12s} {'s':>6s} | {'control cold: epochs':>20s} {'s':>6s} {'AUROC':>6s} | "
          f"{'warm: epochs':>12s} {'s':>6s} {'AUROC':>6s} | cold vs warm: max|dcoef|/max|coef|")
    totals = np.zeros(3)
    with threadpool_limits(1):
        for fold in folds:
            X_train, y_train, X_test = fold_matrices(fold, data.expression)
            X_train, y_train = model_fit_rows(fold, X_train, y_train)
            y_test = fold_test_labels(fold).loc[X_test.index]
            Xp_train, Xp_test = planted_label_copy(X_train, y_train, X_test, y_test, seed=42)
            fits = {}
            for name, (A, init) in {"real": (X_train, None), "cold": (Xp_train, None), "warm": (Xp_train, "real")}.items():
                model = build_model("lr", *A.shape)
                if init:
                    clf, real = model.named_steps["clf"], fits[init][0].named_steps["clf"]
                    clf.set_params(warm_start=True)
                    clf.coef_ = np.concatenate([real.coef_, np.zeros((1, A.shape[1] - real.coef_.shape[1]))], axis=1)
                    clf.intercept_ = real.intercept_.copy()
                t0 = time.perf_counter()
                model.fit(A.to_numpy(), y_train.to_numpy())
                fits[name] = (model, time.perf_counter() - t0)
            y = y_test.to_numpy(dtype=float)
            auc = {k: metrics.auroc(y, fits[k][0].predict_proba(Xp_test.to_numpy())[:, 1]) for k in ("cold", "warm")}
            it = {k: int(fits[k][0].named_steps["clf"].n_iter_[0]) for k in fits}
            cc, cw = fits["cold"][0].named_steps["clf"].coef_, fits["warm"][0].named_steps["clf"].coef_
            totals += [fits["real"][1], fits["cold"][1], fits["warm"][1]]
            print(f"{fold.fold_id:20s} {X_train.shape[0]:>4d} x {X_train.shape[1]:<5d}| {it['real']:>12d} {fits['real'][1]:6.1f} | "
                  f"{it['cold']:>20d} {fits['cold'][1]:6.1f} {auc['cold']:6.3f} | {it['warm']:>12d} {fits['warm'][1]:6.1f} "
                  f"{auc['warm']:6.3f} | {np.abs(cc - cw).max() / np.abs(cc).max():.2e}", flush=True)
    print(f"total seconds: real {totals[0]:.1f}, positive control cold {totals[1]:.1f}, warm {totals[2]:.1f} "
          f"(warm / cold = {totals[2] / totals[1]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
