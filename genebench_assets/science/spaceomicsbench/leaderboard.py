"""The whole benchmark's results file (published ``baseline_results.json`` layout), the leaderboard
table (markdown), the per-category chart, and seed vs strict side by side with the defect that
moved each task."""

from __future__ import annotations

import base64
import io

import numpy as np

from genebench_assets.science.spaceomicsbench.composite import composite_scores
from genebench_assets.science.spaceomicsbench.task_definitions import TASK_IDS

# Which seed defect the strict protocol fixes in each task (shown beside the seed-vs-strict delta).
DEFECT_BY_TASK = {
    "A1": "positional join of clinical_cbc.csv + clinical_cmp.csv (aligned: no effect expected)",
    "B2": "positional join of correlation and cluster-label rows (aligned: no effect expected)",
    "C2": "split stratified in another row order (regenerated, stratified)",
    "E1": "positional join of all_skin features and layer labels (aligned)",
    "E2": "positional join of all_skin features and layer labels (aligned)",
    "E3": "positional join of all_skin features and layer labels (aligned)",
    "E4": "positional join of all_skin features and layer labels (aligned)",
    "F4": "positional join of pathway columns and metadata rows (misaligned: 3/275)",
    "F5": "positional join of pathway columns and metadata rows (misaligned: 3/275)",
    "G1": "positional join of proteomics and metabolomics rows to clinical rows (misaligned)",
}
STRICT_METRIC_CHANGE = "macro-F1 over the fixed class list (seed: classes present in the fold)"


def results_file(task_results: dict[str, dict], unavailable: dict[str, str], chance: dict[str, float],
                 empirical_random: dict[str, float], primary: dict[str, str], protocol: str) -> dict:
    """task -> model -> metric -> {mean, std} (+ ``<model>_per_fold``), ``_composite`` (analytic
    chance), ``_composite_empirical_random`` (the seed's normalization), ``_random_baselines``."""
    out: dict = {}
    for task in TASK_IDS:
        if task in unavailable:
            out[task] = {"error": unavailable[task]}
        elif task in task_results:
            out[task] = task_results[task]
    scores = {t: {m: v[primary[t]]["mean"] for m, v in r.items()
                  if not m.startswith("_") and not m.endswith("_per_fold") and primary[t] in v}
              for t, r in task_results.items()}
    out["_composite"] = composite_scores(scores, chance, unavailable)
    emp = composite_scores(scores, empirical_random, unavailable, families=False)
    out["_composite_empirical_random"] = emp
    out["_random_baselines"] = {t: empirical_random[t] for t in TASK_IDS if t in empirical_random}
    out["_chance_levels"] = {t: {"analytic": round(chance[t], 4), "empirical_random": empirical_random.get(t),
                                 "metric": primary[t]} for t in TASK_IDS if t in chance}
    out["_protocol"] = protocol
    return out


def leaderboard_markdown(results: dict) -> str:
    comp = results["_composite"]
    models = [m for m in comp if not m.startswith("_")]
    cats = sorted({c for m in models for c in comp[m]["category_scores"]})
    emp = results.get("_composite_empirical_random", {})
    lines = [f"**protocol: {results.get('_protocol')}** — composite with analytic chance "
             "(seed-style composite, normalized by the Random baseline, beside it)", "",
             "| model | composite | seed-style | " + " | ".join(cats) + " |",
             "|---|---|---|" + "---|" * len(cats)]
    for m in sorted(models, key=lambda m: -comp[m]["composite"]):
        row = [f"{comp[m]['category_scores'].get(c, float('nan')):.3f}" for c in cats]
        seedstyle = emp.get(m, {}).get("composite")
        lines.append(f"| {m} | {comp[m]['composite']:.4f} | "
                     f"{'' if seedstyle is None else f'{seedstyle:.4f}'} | " + " | ".join(row) + " |")
    un = comp.get("_unavailable", {})
    if un.get("tasks"):
        lines += ["", "Unavailable (not scored, not faked): " + "; ".join(f"{t}: {w}" for t, w in un["tasks"].items())]
    if un.get("categories_without_data"):
        lines.append("Categories without any available task (left out of the mean): "
                     + ", ".join(un["categories_without_data"]))
    return "\n".join(lines)


def seed_vs_strict(seed: dict, strict: dict, primary: dict[str, str]) -> list[dict]:
    """Per task and model: the primary metric under both protocols, the difference, the defect."""
    rows = []
    for task in TASK_IDS:
        a, b = seed.get(task, {}), strict.get(task, {})
        if "error" in a or "error" in b or not a or not b:
            continue
        for model, v in a.items():
            if model.startswith("_") or model.endswith("_per_fold"):
                continue
            m = primary[task]
            if m in v and m in b.get(model, {}):
                diff = round(b[model][m]["mean"] - v[m]["mean"], 4)
                defect = DEFECT_BY_TASK.get(task, "")
                if m == "macro_f1" and diff != 0:
                    defect = f"{defect}; {STRICT_METRIC_CHANGE}" if defect else STRICT_METRIC_CHANGE
                rows.append({"task": task, "model": model, "metric": m, "seed": v[m]["mean"],
                             "strict": b[model][m]["mean"], "strict_minus_seed": diff, "defect_fixed": defect})
    return rows


def seed_vs_strict_markdown(rows: list[dict]) -> str:
    lines = ["| task | model | metric | seed | strict | strict − seed | defect fixed |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['task']} | {r['model']} | {r['metric']} | {r['seed']:.4f} | {r['strict']:.4f} | "
                     f"{r['strict_minus_seed']:+.4f} | {r['defect_fixed']} |")
    return "\n".join(lines)


def category_chart_markdown(results: dict) -> str:
    """Grouped bars: per category, one bar per model (analytic-chance normalized score)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    comp = results["_composite"]
    models = [m for m in comp if not m.startswith("_") and m not in ("random", "majority")]
    cats = sorted({c for m in models for c in comp[m]["category_scores"]})
    fig, ax = plt.subplots(figsize=(10, 4), dpi=90)
    width = 0.8 / max(len(models), 1)
    x = np.arange(len(cats))
    for i, m in enumerate(models):
        ax.bar(x + i * width, [comp[m]["category_scores"].get(c, 0.0) for c in cats], width, label=m)
    ax.set_xticks(x + 0.4 - width / 2, cats, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("normalized score (analytic chance)")
    ax.set_title(f"SpaceOmicsBench per-category scores ({results.get('_protocol')})")
    ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return f"![per-category scores](data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()})"
