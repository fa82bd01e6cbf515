"""Benchmark: a model plug-in costs no more than the same estimator as a built-in (issue 20).

    .venv/bin/python benchmarks/plugin_overhead.py [--tissue gastrocnemius] [--jobs 2] [--repeats 5]

Materializes the demo tissue once (in-process, temporary directory), then model_predictions (genes) with
the built-in `rf` (SPEC §6 RandomForest) and with the same RandomForest as a plug-in, in turn, `--repeats`
times each: as a plug-in receiving float64 arrays like the built-ins (`rf_plugin=plugin_overhead:make_rf`, the
default input) and as one receiving DataFrames (`make_rf_frame`, `genebench_input = "frame"`).

Per variant it prints the median wall time of the run, the fits' CPU seconds (model_predictions' `fit_cost`
metadata: fit + predict in the fit workers, positive control included), the label-blindness probe's CPU
(one more predict_proba on one fold, counted apart by fit_pool.guarded_fit), the workers' peak memory; then
the ratio plug-in / built-in paired repeat by repeat as min / median / max (the machine's noise), for the
fit CPU, the fit CPU plus the probe, and the wall time; and whether the scores are identical to the
built-in's (they must be: same estimator, same seed).

What is left between the two (science/models/plugins.py): the plug-in's module import in the worker (not
in the fit CPU), the probe, and - with DataFrames only - scikit-learn's own per-column validation of a
DataFrame on every fit / predict_proba (about 3 us a column; thousands of genes)."""

from __future__ import annotations

import argparse
import statistics
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


def make_rf_frame(seed: int = 42):
    """The same RandomForest, fed DataFrames (feature ids as columns) instead of float64 arrays."""
    return make_rf(seed)


make_rf_frame.genebench_input = "frame"

BUILT_IN = "built-in rf"


def _spread(values: list[float]) -> str:
    return f"{min(values):.3f} / {statistics.median(values):.3f} / {max(values):.3f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tissue", default="gastrocnemius")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
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

        def plugin(spec: str) -> ModelSettings:
            return ModelSettings(models=[], feature_sets=["genes"], n_jobs=args.jobs, entry_points=False,
                                 model_specs=[spec])

        variants = {
            BUILT_IN: ModelSettings(models=["rf"], feature_sets=["genes"], n_jobs=args.jobs, model_specs=[],
                                    entry_points=False),
            "plug-in rf, arrays (default)": plugin("rf_plugin=plugin_overhead:make_rf"),
            "plug-in rf, DataFrame": plugin("rf_plugin=plugin_overhead:make_rf_frame"),
        }
        runs: dict[str, list[dict]] = {name: [] for name in variants}
        scores, fits = {}, None
        for _ in range(args.repeats):
            for name, ms in variants.items():
                g.resources["model_settings"] = ms
                t0 = time.perf_counter()
                result = g.run(["model_predictions"], args.tissue)
                wall = time.perf_counter() - t0
                assert result.success, name
                mat = result.get_asset_materialization_events()[0].event_specific_data.materialization
                cost = mat.metadata["fit_cost"].value
                fits = next(v["fits"] for k, v in cost.items() if not k.startswith("positive"))
                runs[name].append({"wall": wall, "cpu": sum(v["cpu_seconds"] for v in cost.values()),
                                   "probe": sum(v.get("probe_cpu_seconds", 0.0) for v in cost.values()),
                                   "peak": max(v["peak_rss_mb"] for v in cost.values())})
                preds = store.read_frame("model_predictions", args.tissue)
                scores[name] = preds.assign(model=preds["model"].str.replace("rf_plugin", "rf")).reset_index(drop=True)
        print(f"\n{fits} fits per model (+ positive control) on {args.jobs} processes, {args.repeats} repeats; medians:")
        print(f"{'variant':28s} {'wall s':>7s} {'fit CPU s':>10s} {'probe CPU s':>12s} {'peak MB':>8s}  same scores")
        for name, rs in runs.items():
            same = scores[name].equals(scores[BUILT_IN])
            print(f"{name:28s} {statistics.median(r['wall'] for r in rs):7.2f} {statistics.median(r['cpu'] for r in rs):10.3f} "
                  f"{statistics.median(r['probe'] for r in rs):12.3f} {statistics.median(r['peak'] for r in rs):8.0f}  {same}")
        base = runs[BUILT_IN]
        print("ratio plug-in / built-in, paired by repeat: min / median / max")
        for name, rs in runs.items():
            if name == BUILT_IN:
                continue
            fit = [r["cpu"] / b["cpu"] for r, b in zip(rs, base)]
            with_probe = [(r["cpu"] + r["probe"]) / b["cpu"] for r, b in zip(rs, base)]
            wall = [r["wall"] / b["wall"] for r, b in zip(rs, base)]
            print(f"  {name:28s} fit CPU {_spread(fit)}; fit + probe CPU {_spread(with_probe)}; wall {_spread(wall)}")
        g.instance.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
