"""The whole benchmark's results file (published ``baseline_results.json`` layout), the leaderboard
table (markdown), the per-category chart, and seed vs strict side by side with the defect that
moved each task."""

from __future__ import annotations

import base64
import io

import numpy as np

from genebench_assets.science.markdown_tables import markdown_table
from genebench_assets.science.spaceomicsbench.composite import composite_scores
from genebench_assets.science.spaceomicsbench.defect_attribution import (
    BETWEEN_KEY, ORDER_NOTE, SHORT_NAMES, attribute, attribution_text)
from genebench_assets.science.spaceomicsbench.task_definitions import TASK_IDS


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
             "(seed-style composite, normalized by the Random baseline, beside it)", ""]
    rows = []
    for m in sorted(models, key=lambda m: -comp[m]["composite"]):
        row = [f"{comp[m]['category_scores'].get(c, float('nan')):.3f}" for c in cats]
        seedstyle = emp.get(m, {}).get("composite")
        rows.append([m, f"{comp[m]['composite']:.4f}", "" if seedstyle is None else f"{seedstyle:.4f}", *row])
    lines.append(markdown_table(["model", "composite", "seed-style", *cats], rows))
    un = comp.get("_unavailable", {})
    if un.get("tasks"):
        lines += ["", "Unavailable (not scored, not faked): " + "; ".join(f"{t}: {w}" for t, w in un["tasks"].items())]
    if un.get("categories_without_data"):
        lines.append("Categories without any available task (left out of the mean): "
                     + ", ".join(un["categories_without_data"]))
    return "\n".join(lines)


def seed_vs_strict(seed: dict, strict: dict, primary: dict[str, str]) -> list[dict]:
    """Per task and model: the primary metric under both protocols, the difference, the defects
    fixed, and the difference split over them in a fixed order (``defect_attribution``; the point
    between data and metric step is the strict file's ``BETWEEN_KEY`` entry)."""
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
                between = b.get(BETWEEN_KEY, {}).get(model, {}).get(m, {}).get("mean")
                attr = attribute(task, m, v[m]["mean"], b[model][m]["mean"], between)
                rows.append({"task": task, "model": model, "metric": m, "seed": v[m]["mean"],
                             "strict": b[model][m]["mean"], "strict_minus_seed": round(b[model][m]["mean"] - v[m]["mean"], 4),
                             "strict_data_seed_metric": between,
                             "defect_fixed": "; ".join(s["fixes"] for s in attr["steps"]),
                             "attribution": attr["steps"], "remainder": attr["remainder"],
                             "attribution_measured": attr["measured"], "moved_by": attr["moved_by"]})
    return rows


def seed_vs_strict_markdown(rows: list[dict]) -> str:
    lines = [f"Split of strict − seed over the defects ({ORDER_NOTE}).", "",
             markdown_table(
                 ["task", "model", "metric", "seed", "strict", "strict − seed", "moved by (in order)", "defects fixed"],
                 [[r["task"], r["model"], r["metric"], f"{r['seed']:.4f}", f"{r['strict']:.4f}",
                   f"{r['strict_minus_seed']:+.4f}",
                   attribution_text({"steps": r.get("attribution", []), "remainder": r.get("remainder", 0.0)}),
                   r["defect_fixed"]] for r in rows])]
    return "\n".join(lines)


def attribution_by_task(rows: list[dict]) -> list[dict]:
    """Per task and defect step (in order, then the remainder): how many models it moved, the mean
    and the largest-magnitude step over the models: which defect moved the task, and by how much."""
    out: dict[tuple, dict] = {}
    for r in rows:
        steps = [(s["defect"], s["delta"]) for s in r.get("attribution", [])] + [("remainder", r.get("remainder", 0.0))]
        for defect, delta in steps:
            e = out.setdefault((r["task"], defect), {"task": r["task"], "step": defect, "metric": r["metric"],
                                                     "models": 0, "models_moved": 0, "deltas": [], "not_split": 0})
            e["models"] += 1
            if delta is None:
                e["not_split"] += 1
                continue
            e["deltas"].append(delta)
            e["models_moved"] += delta != 0
    table = []
    for e in out.values():
        d = e.pop("deltas")
        e["mean_delta"] = round(float(np.mean(d)), 4) if d else None
        e["largest_delta"] = max(d, key=abs) if d else None
        table.append(e)
    return table


def attribution_by_task_markdown(table: list[dict]) -> str:
    def f(v):
        return "" if v is None else f"{v:+.4f}"

    rows = [[e["task"], e["metric"], SHORT_NAMES.get(e["step"], e["step"]), f"{e['models_moved']}/{e['models']}",
             f(e["mean_delta"]), f(e["largest_delta"]), e["not_split"] or ""]
            for e in table if not (e["step"] == "remainder" and not e["models_moved"])]
    return "\n".join([f"Which defect moved each task ({ORDER_NOTE}).", "", markdown_table(
        ["task", "metric", "step", "models moved", "mean step", "largest step", "not split"], rows)])


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
