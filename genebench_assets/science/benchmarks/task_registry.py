"""Every task genebench knows, in one list (``genebench list tasks``): its data (tissue or modality),
folds, metric, status (``available`` or ``unavailable: <reason>``) and the best published figure.

- GeneLab benchmark v1: A (from the catalog's ``task_ids``), B1-B6 (``categories.cross_mission``),
  C1-C4 (``categories.cross_tissue``), D3-D6 (``categories.condition_prediction``), J5, NC1/NC2;
- SpaceOmicsBench: its 21 ML tasks (``spaceomicsbench.task_definitions``; a task whose data files are
  missing is ``unavailable: <missing file>``, as ``genebench reproduce spaceomicsbench`` says) and the
  LLM question bank;
- the issue-21 analyses (``ANALYSES``): ``unavailable: <reason>`` until implemented.

``TASK_FIELDS`` is the stable key set of ``genebench list tasks --json`` (docs/results.md)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from genebench_assets.science.results.published import (best_published, default_published_dir,
                                                        default_spaceomicsbench_dir)

TASK_FIELDS = ("benchmark", "task", "name", "data", "folds", "metric", "status", "best_published")

# Issue 21's analyses. To switch one on when it is implemented, set its "implemented" to True (and
# "where" to the asset or command that computes it): its status then reads `available`.
# SHAP and multi-database are being implemented (issue 21): flip "SHAP" and "multi-db" here.
ANALYSES: dict[str, dict] = {
    "SHAP": {"implemented": True, "data": "A1, A2, A4, A5 (RF); A6 pathway", "metric": "mean |SHAP|",
             "published": "A*_shap_rf.json", "reason": "SHAP feature attributions are not implemented yet (issue 21)"},
    "J2": {"implemented": False, "data": "DGE pipelines", "metric": "AUROC", "published": "J2_dge_pipeline_comparison.json",
           "reason": "the DGE pipeline comparison is not implemented yet (issue 21)"},
    "J3": {"implemented": False, "data": "batch correction", "metric": "AUROC",
           "published": "J3_batch_correction_comparison.json", "reason": "the batch correction comparison is not implemented yet (issue 21)"},
    "A1-ComBat": {"implemented": False, "data": "liver, ComBat-corrected", "metric": "AUROC",
                  "published": "A1_combat_baseline_results.json", "reason": "the ComBat variant is not implemented yet (issue 21)"},
    "A1-ISS-only": {"implemented": False, "data": "liver, ISS missions only", "metric": "AUROC",
                    "published": "A1_iss_only_baseline_results.json", "reason": "the ISS-only variant is not implemented yet (issue 21)"},
    "holdout": {"implemented": False, "data": "A4, A5 held-out missions", "metric": "AUROC",
                "published": "A4_holdout_results.json, A5_holdout_results.json", "reason": "the holdout evaluation report is not implemented yet (issue 21)"},
    "calibration": {"implemented": False, "data": "thymus (A4)", "metric": "Brier / ECE", "published": "A4_calibration.json",
                    "reason": "calibration is not implemented yet (issue 21)"},
    "within-mission-LOO": {"implemented": False, "data": "thymus (A4)", "metric": "AUROC", "published": "A4_within_loo.json",
                           "reason": "within-mission leave-one-out is not implemented yet (issue 21)"},
    "Cell2020": {"implemented": False, "data": "Cell 2020 validation set", "metric": "AUROC",
                 "published": "cell2020_validation.json", "reason": "the Cell 2020 validation is not implemented yet (issue 21)"},
    "multi-db": {"implemented": True, "data": "Hallmark, KEGG, Reactome, MitoCarta", "metric": "AUROC",
                 "published": "multi_db_comparison.json", "reason": "the multi-database comparison is not implemented yet (issue 21)"},
    "T1": {"implemented": False, "data": "temporal timing", "metric": "AUROC", "published": "T1_temporal_timing_summary.json",
           "reason": "T1 (temporal timing) is not implemented yet (issue 21)"},
    "T2": {"implemented": False, "data": "recovery", "metric": "AUROC", "published": "T2_recovery_summary.json",
           "reason": "T2 (recovery) is not implemented yet (issue 21)"},
    "T3": {"implemented": False, "data": "age x spaceflight", "metric": "AUROC", "published": "T3_age_spaceflight_summary.json",
           "reason": "T3 (age x spaceflight) is not implemented yet (issue 21)"},
}


@dataclass(frozen=True)
class TaskEntry:
    benchmark: str
    task: str
    name: str
    data: str
    folds: str
    metric: str
    status: str
    best_published: dict | None

    def to_dict(self) -> dict:
        return asdict(self)


def genelab_tasks(catalog, published_dir: Path) -> list[TaskEntry]:
    from genebench_assets.science.categories import condition_prediction, cross_tissue
    from genebench_assets.science.categories.cross_mission import B_TISSUES
    from genebench_assets.science.categories.gene_vs_pathway import TISSUES as J5_TISSUES

    out: list[TaskEntry] = []
    for tissue, task in sorted(catalog.task_ids.items(), key=lambda kv: kv[1]):
        missions = catalog.missions_for(tissue)
        holdout = catalog.holdout_missions(tissue)
        folds = f"LOMO, {len(missions)} folds: {', '.join(missions)}" + (f" (+ holdout {', '.join(holdout)})" if holdout else "")
        out.append(TaskEntry("genelab", task, f"Flight vs Ground ({tissue})", tissue, folds, "AUROC", "available",
                             best_published("genelab", task, published_dir=published_dir)))
    for task, tissue in B_TISSUES.items():
        out.append(TaskEntry("genelab", task, f"cross-mission transfer ({tissue})", tissue,
                             "pair_{TRAIN}_{TEST}: every ordered mission pair", "AUROC", "available",
                             best_published("genelab", task, published_dir=published_dir)))
    for task, (train, test) in cross_tissue.TASKS.items():
        out.append(TaskEntry("genelab", task, f"cross-tissue transfer ({train} -> {test})", f"{train} -> {test}",
                             f"train {train}, test {test}", "AUROC", "available",
                             best_published("genelab", task, published_dir=published_dir)))
    d_ids = sorted({t.split("_")[0] for t in condition_prediction.TASKS})
    for task in d_ids:
        subs = {k: v for k, v in condition_prediction.TASKS.items() if k.split("_")[0] == task}
        first = next(iter(subs.values()))
        tissues = sorted({v["tissue"] for v in subs.values()})
        name = first["description"].split(" (")[0]
        out.append(TaskEntry("genelab", task, name, ", ".join(tissues),
                             "leave-one-out (minority <= 15) else stratified 5-fold", "macro-F1", "available",
                             best_published("genelab", task, published_dir=published_dir)))
    out.append(TaskEntry("genelab", "J5", "gene vs pathway features", ", ".join(J5_TISSUES), "A-task LOMO folds",
                         "AUROC difference", "available", _j5_best(published_dir)))
    out.append(TaskEntry("genelab", "NC1", "permutation negative control", "Category A tissues",
                         "A-task LOMO folds, labels permuted in training", "AUROC (expected 0.5)", "available", None))
    out.append(TaskEntry("genelab", "NC2", "housekeeping-gene negative control", "58 housekeeping genes",
                         "A-task LOMO folds", "AUROC (expected in [0.35, 0.65])", "available", None))
    return out


def _j5_best(published_dir: Path) -> dict | None:
    path = published_dir / "genelab_evaluation" / "J5_gene_vs_pathway.json"
    try:
        table = json.loads(path.read_text()).get("j5_table", [])
    except (OSError, ValueError):
        return None
    rows = [r for r in table if r.get("category") == "A" and isinstance(r.get("gene"), (int, float))]
    if not rows:
        return None
    best = max(rows, key=lambda r: r["gene"])
    return {"model": f"gene features, {best['task']}", "metric": best.get("metric", "AUROC"), "value": best["gene"],
            "source": str(path)}


def spaceomicsbench_tasks(soma_dir: Path) -> list[TaskEntry]:
    from genebench_assets.science.spaceomicsbench.task_definitions import (TASK_IDS, TaskDefinitionError, category_of,
                                                                           load_task_definition, missing_files)

    out = []
    for task_id in TASK_IDS:
        cat = category_of(task_id) or "supplementary"
        try:
            task = load_task_definition(soma_dir / "tasks", task_id)
        except TaskDefinitionError as exc:
            out.append(TaskEntry("spaceomicsbench", task_id, task_id, cat, "-", "-", f"unavailable: {exc}", None))
            continue
        missing = missing_files(task, soma_dir / "data")
        status = f"unavailable: {', '.join(missing)}" if missing else "available"
        data = f"{cat}: {', '.join(task.raw['data_files'])}"
        out.append(TaskEntry("spaceomicsbench", task_id, task.raw.get("task_name", task_id), data, task.split_name,
                             task.primary_metric, status,
                             best_published("spaceomicsbench", task_id, soma_dir=soma_dir, metric=task.primary_metric)))
    return out


def llm_tasks(soma_dir: Path) -> list[TaskEntry]:
    bank = soma_dir / "llm" / "question_bank.json"
    try:
        raw = json.loads(bank.read_text())
        n = raw.get("total_questions") or len(raw.get("questions", []))
        status = "available"
    except (OSError, ValueError):
        n, status = "?", f"unavailable: {bank} not found"
    return [TaskEntry("llm", "LLM-QA", "SpaceOmicsBench LLM question bank", f"{n} questions",
                      "every question, judged by an LLM judge", "judge score (1-5)", status, None)]


def analysis_tasks(published_dir: Path) -> list[TaskEntry]:
    out = []
    for name, a in ANALYSES.items():
        status = "available" if a["implemented"] else f"unavailable: {a['reason']}"
        out.append(TaskEntry("genelab", name, f"issue-21 analysis: {name}", a["data"],
                             f"published: {a['published']}", a["metric"], status, None))
    return out


def all_tasks(catalog, *, benchmark: str | None = None, published_dir: Path | None = None,
              soma_dir: Path | None = None) -> list[TaskEntry]:
    published_dir = published_dir or default_published_dir()
    soma_dir = soma_dir or default_spaceomicsbench_dir()
    out: list[TaskEntry] = []
    if benchmark in (None, "genelab"):
        out += genelab_tasks(catalog, published_dir) + analysis_tasks(published_dir)
    if benchmark in (None, "spaceomicsbench"):
        out += spaceomicsbench_tasks(soma_dir)
    if benchmark in (None, "llm"):
        out += llm_tasks(soma_dir)
    return out


def task_osdr_accessions(catalog, task: str) -> list[dict]:
    """The OSDR studies behind a GeneLab task: [{osd, glds_prefix, tissue, mission}]."""
    from genebench_assets.science.categories import condition_prediction, cross_tissue
    from genebench_assets.science.categories.cross_mission import B_TISSUES

    by_task = {v: k for k, v in catalog.task_ids.items()}
    if task in by_task:
        tissues = [by_task[task]]
    elif task in B_TISSUES:
        tissues = [B_TISSUES[task]]
    elif task in cross_tissue.TASKS:
        tissues = list(cross_tissue.TASKS[task])
    elif any(k.split("_")[0] == task for k in condition_prediction.TASKS):
        tissues = sorted({v["tissue"] for k, v in condition_prediction.TASKS.items() if k.split("_")[0] == task})
    elif task in ("J5", "NC1", "NC2"):
        tissues = sorted(catalog.task_ids)
    else:
        return []
    out = []
    for tissue in tissues:
        for t, mission in catalog.pairs():
            if t == tissue:
                for s in catalog.studies_for(t, mission):
                    out.append({"osd": s.osd, "glds_prefix": s.glds_prefix, "tissue": t, "mission": mission})
    return out
