"""Published numbers, read from the published result files (never copied into the repo):

- GeneLab benchmark v1: ``<published>/genelab_evaluation/A{n}_baseline_results.json`` (per model
  mean AUROC, mean CI lower, mean permutation p), ``A{n}_pathway_{db}_results.json`` (the pathway-level
  LOMO per gene-set collection), ``B_cross_mission_summary.json`` (per tissue and
  method mean AUROC over mission pairs), ``C_cross_tissue_summary.json`` (methods A/B/C),
  ``D_condition_summary.json`` (macro-F1 per feature mode);
- SpaceOmicsBench: ``<spaceomicsbench>/baselines/baseline_results.json`` (per task and model, the
  mean and std of every metric).

``published_rows(benchmark, task, ...)`` gives one row per published model; ``best_published``
the best of them (None when no file holds the task)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from genebench_assets.science.evaluation.lomo_evaluation import GO_AUROC, GO_CI_LOWER, GO_PERM_P

REPO_ROOT = Path(__file__).resolve().parents[3]
CHANCE_MODELS = ("random", "majority")


def default_published_dir() -> Path:
    return Path(os.environ.get("GENEBENCH_PUBLISHED_RESULTS") or REPO_ROOT.parent / "shared" / "data" / "published_results")


def default_spaceomicsbench_dir() -> Path:
    return Path(os.environ.get("GENEBENCH_SPACEOMICSBENCH_DIR") or REPO_ROOT.parent / "shared" / "data" / "spaceomicsbench")


def _load(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _row(model: str, metric: str, value, source: Path, **extra) -> dict:
    return {"model": model, "kind": "published", "protocol": "published", "feature_set": extra.pop("feature_set", None),
            "metric": metric, "value": None if value is None else float(value), "ci_lower": extra.pop("ci_lower", None),
            "go": extra.pop("go", None), "source": str(source), **extra}


PATHWAY_DBS = ("hallmark", "kegg", "reactome", "mitocarta")


def genelab_rows(task: str, published_dir: Path, *, pathways: bool = True) -> list[dict]:
    """The published rows of `task` (``pathways``: also A{n}_pathway_{db}_results.json, feature set
    ``pathways:<db>``; `best_published` keeps to the gene-level baselines, the benchmark's headline)."""
    return layout_rows(task, published_dir / "genelab_evaluation", pathways=pathways)


def pathway_rows(task: str, ev: Path, dbs=PATHWAY_DBS) -> list[dict]:
    """Rows of A{n}_pathway_{db}_results.json (the pathway-level LOMO, SPEC §7) in folder `ev`; each row also
    carries its file's per-fold rows (`folds`) and summary, for a reproduction record."""
    rows: list[dict] = []
    for db in dbs:
        path = ev / f"{task}_pathway_{db}_results.json"
        for model, r in (_load(path) or {}).items():
            if isinstance(r, dict) and r.get("mean_auroc") is not None:
                rows.append(_row(model, "AUROC", r["mean_auroc"], path, ci_lower=r.get("mean_ci_lower"), go=r.get("go"),
                                 feature_set=f"pathways:{db}", std=r.get("std_auroc"), perm_p=r.get("mean_perm_p"),
                                 folds=r.get("folds") or []))
    return rows


def layout_rows(task: str, ev: Path, *, pathways: bool = True) -> list[dict]:
    """One row per model of `task` from the GeneLab result files in folder `ev`, in the published layout: the
    published release's genelab_evaluation/ or the output folder of `genebench reproduce`."""
    rows: list[dict] = []
    if task.startswith("A"):
        path = ev / f"{task}_baseline_results.json"
        for key, r in (_load(path) or {}).items():
            if not isinstance(r, dict) or "mean_auroc" not in r:
                continue
            ci, p = r.get("mean_ci_lower"), r.get("mean_perm_pvalue")
            go = None if ci is None or p is None else bool(r["mean_auroc"] > GO_AUROC and ci > GO_CI_LOWER and p < GO_PERM_P)
            rows.append(_row(key, "AUROC", r["mean_auroc"], path, ci_lower=ci, go=go, feature_set="genes"))
        if pathways:
            rows += [{k: v for k, v in r.items() if k != "folds"} for r in pathway_rows(task, ev)]
    elif task.startswith("B"):
        from genebench_assets.science.categories.cross_mission import B_TISSUES

        path = ev / "B_cross_mission_summary.json"
        tissue = B_TISSUES.get(task)
        for method, r in ((_load(path) or {}).get(tissue, {}) or {}).get("methods", {}).items():
            if isinstance(r, dict) and r.get("mean_auroc") is not None:
                rows.append(_row(method, "AUROC", r["mean_auroc"], path, ci_lower=r.get("ci_low"), feature_set="genes"))
    elif task.startswith("C"):
        path = ev / "C_cross_tissue_summary.json"
        for method, r in ((_load(path) or {}).get("tasks", {}).get(task, {}) or {}).items():
            if method.startswith("method_") and isinstance(r, dict) and r.get("auroc") is not None:
                rows.append(_row(method, "AUROC", r["auroc"], path, ci_lower=r.get("ci_low")))
    elif task.startswith("D"):
        path = ev / "D_condition_summary.json"
        tasks = (_load(path) or {}).get("tasks", {})
        for tid, t in tasks.items():
            if tid == task or tid.startswith(f"{task}_"):
                for mode, r in t.get("feature_modes", {}).items():
                    if isinstance(r, dict) and r.get("macro_f1") is not None:
                        rows.append(_row(f"{tid} {mode}", "macro-F1", r["macro_f1"], path, ci_lower=r.get("ci_low"),
                                         feature_set=mode))
    return rows


def spaceomicsbench_rows(task: str, soma_dir: Path, metric: str | None = None, *, path: Path | None = None) -> list[dict]:
    """Rows of `task` in ``<soma_dir>/baselines/baseline_results.json`` (or the file `path`, e.g. the one
    `genebench reproduce spaceomicsbench` wrote)."""
    path = path or soma_dir / "baselines" / "baseline_results.json"
    entry = (_load(path) or {}).get(task)
    if not isinstance(entry, dict) or "error" in entry:
        return []
    rows = []
    for model, r in entry.items():
        if model.endswith("_per_fold") or not isinstance(r, dict):
            continue
        m = metric if metric in r else next((k for k in ("auroc", "macro_f1", "micro_f1") if k in r), None)
        if m is None or not isinstance(r[m], dict):
            continue
        rows.append(_row(model, m, r[m].get("mean"), path, std=r[m].get("std"), chance=model in CHANCE_MODELS))
    return rows


def published_rows(benchmark: str, task: str, *, published_dir: Path | None = None, soma_dir: Path | None = None,
                   metric: str | None = None, pathways: bool = True) -> list[dict]:
    if benchmark == "genelab":
        return genelab_rows(task, published_dir or default_published_dir(), pathways=pathways)
    if benchmark == "spaceomicsbench":
        return spaceomicsbench_rows(task, soma_dir or default_spaceomicsbench_dir(), metric)
    return []


def best_published(benchmark: str, task: str, **kw) -> dict | None:
    """The best published non-chance row ({model, metric, value, source}), or None."""
    rows = [r for r in published_rows(benchmark, task, pathways=False, **kw)
            if r["value"] is not None and not r.get("chance")]
    if not rows:
        return None
    best = max(rows, key=lambda r: r["value"])
    return {"model": best["model"], "metric": best["metric"], "value": round(best["value"], 4), "source": best["source"]}
