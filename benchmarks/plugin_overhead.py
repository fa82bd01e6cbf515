"""Benchmark: a model plug-in costs no more than the same estimator as a built-in (issue 20).

    .venv/bin/python benchmarks/plugin_overhead.py [--tissue gastrocnemius] [--jobs 2] [--repeats 2]

Materializes the demo tissue once (in-process, temporary directory), then model_predictions (genes) with
the built-in `rf` (SPEC §6 RandomForest) and with the same RandomForest as a plug-in
(`rf_plugin=plugin_overhead:make_rf`), alternating, `--repeats` times each. Prints the best wall time of
each, the fits' CPU seconds (model_predictions' `fit_cost` metadata), the worker's peak memory, the ratio
plug-in / built-in, and whether the two gave the same scores (they must: same estimator, same seed).
The plug-in does one extra predict (the label-blindness probe) and imports its module in the worker.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from sklearn.ensemble import RandomForestClassifier  # at import: the fit workers preload the plug-in's module

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_rf(seed: int = 42):
    """The SPEC §6 RandomForest, as the built-in `rf` builds it."""
    return RandomForestClassifier(n_estimators=200, max_features="sqrt", class_weight="balanced",
                                  random_state=seed, n_jobs=1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tissue", default="gastrocnemius")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args(argv)
    import warnings

    warnings.filterwarnings("ignore")
    from genebench_assets.defs.models.resources import ModelSettings
    from genebench_assets.science.osdr.study_catalog import load_catalog
    from genebench_assets_tests.defs.demo_graph import DemoGraph

    with tempfile.TemporaryDirectory(prefix="genebench_plugin_") as tmp:
        g = DemoGraph(Path(tmp) / "data")
        print(f"materializing the demo {args.tissue} in {tmp} ...", flush=True)
        assert g.catalog().success
        for t, m in load_catalog().pairs():
            if t == args.tissue:
                assert g.study(t, m).success, m
        assert g.run(["lomo_folds"], args.tissue).success
        store = g.settings.table_store()
        variants = {
            "built-in rf": ModelSettings(models=["rf"], feature_sets=["genes"], n_jobs=args.jobs, model_specs=[],
                                         entry_points=False),
            "plug-in rf": ModelSettings(models=[], feature_sets=["genes"], n_jobs=args.jobs, entry_points=False,
                                        model_specs=["rf_plugin=plugin_overhead:make_rf"]),
        }
        best: dict[str, dict] = {}
        scores = {}
        for _ in range(args.repeats):
            for name, ms in variants.items():
                g.resources["model_settings"] = ms
                t0 = time.perf_counter()
                result = g.run(["model_predictions"], args.tissue)
                wall = time.perf_counter() - t0
                assert result.success, name
                mat = result.get_asset_materialization_events()[0].event_specific_data.materialization
                cost = next(iter(v for k, v in mat.metadata["fit_cost"].value.items() if not k.startswith("positive")))
                cpu = sum(v["cpu_seconds"] for v in mat.metadata["fit_cost"].value.values())
                peak = max(v["peak_rss_mb"] for v in mat.metadata["fit_cost"].value.values())
                if name not in best or wall < best[name]["wall"]:
                    best[name] = {"wall": wall, "cpu": cpu, "peak": peak, "fits": cost["fits"]}
                fits = store.read_json("model_fit_times", args.tissue)
                print(f"  {name}: fit CPU s per fit {[f['cpu_seconds'] for f in fits]}", flush=True)
                preds = store.read_frame("model_predictions", args.tissue)
                scores[name] = preds.assign(model=preds["model"].str.replace("rf_plugin", "rf"))
        print(f"{'variant':14s} {'wall s':>8s} {'fit CPU s':>10s} {'peak MB':>8s}   (best of {args.repeats}, {args.jobs} processes)")
        for name, b in best.items():
            print(f"{name:14s} {b['wall']:8.2f} {b['cpu']:10.2f} {b['peak']:8.0f}")
        a, b = best["built-in rf"], best["plug-in rf"]
        same = scores["built-in rf"].reset_index(drop=True).equals(scores["plug-in rf"].reset_index(drop=True))
        print(f"ratio plug-in / built-in: wall {b['wall'] / a['wall']:.2f}, fit CPU {b['cpu'] / a['cpu']:.2f}; "
              f"same scores: {same}")
        g.instance.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
