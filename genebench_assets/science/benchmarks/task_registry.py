"""Every task genebench knows, in one list (``genebench list tasks``): its data (tissue or modality),
folds, metric, status (``available``, ``partial: <reason>`` or ``unavailable: <reason>``) and the best
published figure.

- GeneLab benchmark v1: A (from the catalog's ``task_ids``), B1-B6 (``categories.cross_mission``),
  C1-C4 (``categories.cross_tissue``), D3-D6 (``categories.condition_prediction``), J5, NC1/NC2;
- SpaceOmicsBench: its 21 ML tasks (``spaceomicsbench.task_definitions``; a task whose data files are
  missing is ``unavailable: <missing file>``, as ``genebench reproduce spaceomicsbench`` says) and the
  LLM question bank;
- the issue-21 analyses (``ANALYSES``): ``unavailable: <reason>`` until implemented, ``partial: <reason>`` when
  only some published fields have their inputs.

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
    "SHAP": {"implemented": True, "data": "A1-A6 genes (RF and XGBoost TreeExplainer, PCA-LR coefficients; demo / live / mirror: the release has no "
                                          "expression); A6 pathway coefficients (release, offline)", "metric": "mean |SHAP|",
             "published": "A*_shap_rf.json (+ ours A*_shap_xgb.json, A*_pca_lr_gene_coefficients.json), A4_shap_directions.json, A6_pathway_hallmark_shap.json",
             "where": "gene_shap (per tissue, both protocols); release_pathway_interpretation (genebench reproduce analyses)",
             "reason": "SHAP feature attributions are not implemented yet (issue 21)"},
    "J2": {"implemented": True, "data": "DGE pipelines, liver 6 + thymus 3 studies (demo / live / mirror: needs counts; "
                                    "per_pipeline.deseq2 offline from the release's DESeq2 tables)",
           "metric": "log2FC Spearman / DEG Jaccard", "published": "J2_dge_pipeline_comparison.json",
           "where": "dge_pipeline_tables -> dge_pipeline_comparison (dge_pipelines_job, dge_comparison_job; "
                    "optional extra dge-pipelines)",
           "reason": "edgeR QLF and limma-voom need counts, which the release does not ship"},
    "J3": {"implemented": True, "data": "batch correction (gene level: demo / live / mirror)", "metric": "AUROC",
           "published": "J3_batch_correction_comparison.json", "where": "batch_correction_comparison",
           "reason": "the batch correction comparison is not implemented yet (issue 21)"},
    "A1-ComBat": {"implemented": True, "data": "liver, ComBat-seq corrected (gene level)", "metric": "AUROC",
                  "published": "A1_combat_baseline_results.json", "where": "batch_correction_comparison",
                  "reason": "the ComBat variant is not implemented yet (issue 21)"},
    "A1-ISS-only": {"implemented": True, "data": "liver, ISS missions only (gene level)", "metric": "AUROC",
                    "published": "A1_iss_only_baseline_results.json", "where": "a1_iss_only_results",
                    "reason": "the ISS-only variant is not implemented yet (issue 21)"},
    "holdout": {"implemented": False, "data": "A4, A5 held-out missions", "metric": "AUROC",
                "published": "A4_holdout_results.json, A5_holdout_results.json", "reason": "the holdout evaluation report is not implemented yet (issue 21)"},
    "calibration": {"implemented": False, "data": "thymus (A4)", "metric": "Brier / ECE", "published": "A4_calibration.json",
                    "reason": "calibration is not implemented yet (issue 21)"},
    "within-mission-LOO": {"implemented": False, "data": "thymus (A4)", "metric": "AUROC", "published": "A4_within_loo.json",
                           "reason": "within-mission leave-one-out is not implemented yet (issue 21)"},
    "Cell2020": {"implemented": True, "data": "Cell 2020 reference pathways / genes", "metric": "direction concordance / top-50 overlap",
                 "published": "cell2020_validation.json", "where": "cell2020_validation (genebench reproduce analyses)",
                 "reason": "the Cell 2020 validation is not implemented yet (issue 21)"},
    "multi-db": {"implemented": True, "data": "Hallmark, KEGG, Reactome, MitoCarta", "metric": "AUROC",
                 "published": "multi_db_comparison.json", "reason": "the multi-database comparison is not implemented yet (issue 21)"},
    "T1": {"implemented": "partial", "data": "ISS-T vs LAR (RR-6, RR-8 liver; RR-6 thymus)", "metric": "AUROC",
           "published": "T1_temporal_timing_summary.json", "where": "temporal_analyses (genebench reproduce analyses)",
           "reason": "every *_pathway condition and the T1d pathway transfers are reproduced exactly from the release's "
                     "GSVA scores (temporal_analyses); the *_gene conditions, the FLT-GC interpretation and the gene "
                     "transfers need expression of the FLT/GC/BSL ISS-T and LAR animals, which the release does not ship"},
    "T2": {"implemented": "partial", "data": "LAR recovery (RR-6, RR-8 liver)", "metric": "pathway recovery fraction",
           "published": "T2_recovery_summary.json", "where": "temporal_analyses (genebench reproduce analyses)",
           "reason": "pathway_recovery and groups are reproduced exactly from the release's GSVA scores (temporal_analyses); "
                     "the PCA recovery ratio, its variance and the classifier projection are on gene expression of the "
                     "BSL/FLT ISS-T and LAR animals, which the release does not ship"},
    "T3": {"implemented": "partial", "data": "age x spaceflight (RR-8 liver)", "metric": "AUROC / two-way ANOVA",
           "published": "T3_age_spaceflight_summary.json", "where": "temporal_analyses (genebench reproduce analyses)",
           "reason": "every *_pathway result and the T3c ANOVA are reproduced from the release's GSVA scores "
                     "(temporal_analyses); the *_gene results and the aging hypothesis (gene AUROCs) need RR-8 liver "
                     "expression, which the release does not ship"},
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
        status = "available" if a["implemented"] is True else \
            f"partial: {a['reason']}" if a["implemented"] == "partial" else f"unavailable: {a['reason']}"
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
