"""What ``genebench list``, ``results``, ``report`` and ``cite`` print (the CLI parses arguments and
maps ``RecordError`` to one line, exit 2; see genebench_assets/cli.py and docs/results.md)."""

from __future__ import annotations

import json
from pathlib import Path

from genebench_assets.science.results.record import read_records

MODEL_FIELDS = ("benchmark", "model", "kind", "description")
RESULT_FIELDS = ("benchmark", "task", "model", "feature_set", "kind", "protocol", "metric", "value", "go",
                 "record_id", "date")

REFERENCES = {
    "genebench": "genebench: a reproducible, leakage-checked benchmark of spaceflight transcriptomics from NASA OSDR "
                 "(this software; see CITATION.cff).",
    "genelab": "GeneLab benchmark v1 (GeneLab_benchmark): leave-one-mission-out Flight vs Ground classification of "
               "mouse bulk RNA-seq from NASA OSDR, categories A-D, J, NC (MIT licence).",
    "spaceomicsbench": "SpaceOmicsBench v2.1: multi-omics ML tasks and an LLM question bank from the SpaceX "
                       "Inspiration4 mission and related studies (code MIT; data CC BY-NC 4.0).",
    "osdr": "NASA Open Science Data Repository (OSDR), https://osdr.nasa.gov/ — cite each OSD accession used.",
}


def list_tasks(catalog, benchmark: str | None, **dirs) -> list[dict]:
    from genebench_assets.science.benchmarks.task_registry import all_tasks

    return [t.to_dict() for t in all_tasks(catalog, benchmark=benchmark, **dirs)]


def list_models(benchmark: str | None, records: list[dict]) -> list[dict]:
    from genebench_assets.science.models.classifiers import MODEL_CONFIGS
    from genebench_assets.science.spaceomicsbench.baselines import CLASSIFIER_MODELS, MULTILABEL_MODELS

    out: list[dict] = []
    if benchmark in (None, "genelab"):
        out += [{"benchmark": "genelab", "model": name, "kind": "built-in", "description": cfg.description}
                for name, cfg in MODEL_CONFIGS.items()]
    if benchmark in (None, "spaceomicsbench"):
        out += [{"benchmark": "spaceomicsbench", "model": m, "kind": "built-in", "description": "SpaceOmicsBench baseline"}
                for m in dict.fromkeys(CLASSIFIER_MODELS + MULTILABEL_MODELS)]
    # Where a plug-in runs and where it is skipped, with why (issue 20; science/models/plugin_scope.py)
    from genebench_assets.science.models.plugin_scope import PLUGIN_SCOPE

    for path, runs, why in PLUGIN_SCOPE:
        bench = "spaceomicsbench" if path.startswith("SpaceOmicsBench") else "genelab"
        if benchmark in (None, bench):
            out.append({"benchmark": bench, "model": "<plug-in>", "kind": "plug-in",
                        "description": f"{'runs' if runs else 'skipped'}: {path} - {why}"})
    seen = {(m["benchmark"], m["model"]) for m in out}
    for r in records:   # plug-ins, submissions, embeddings seen in the results records
        if (benchmark in (None, r["benchmark"])) and (r["benchmark"], r["model"]) not in seen:
            seen.add((r["benchmark"], r["model"]))
            out.append({"benchmark": r["benchmark"], "model": r["model"], "kind": r["kind"],
                        "description": f"from results record {r['record_id']}"})
    return out


def list_results(records: list[dict]) -> list[dict]:
    return [{"benchmark": r["benchmark"], "task": r["task"], "model": r["model"], "feature_set": r.get("feature_set"),
             "kind": r["kind"], "protocol": r["protocol"], "metric": r["metric"], "value": r["summary"]["mean"],
             "go": r.get("go"), "record_id": r["record_id"], "date": r["date"]} for r in records]


def render_rows(rows: list[dict], fields: tuple[str, ...] | None = None) -> str:
    from tabulate import tabulate

    if not rows:
        return "(none)"
    fields = fields or tuple(rows[0])

    def cell(v):
        if isinstance(v, dict):
            return f"{v.get('model')}: {v.get('value')}"
        if isinstance(v, float):
            return f"{v:.4f}"
        return "" if v is None else v

    return tabulate([[cell(r.get(f)) for f in fields] for r in rows], headers=list(fields), tablefmt="github")


def records(data_dir: str | Path, benchmark: str | None = None, task: str | None = None) -> list[dict]:
    return read_records(data_dir, benchmark=benchmark, task=task)


def cite_text(catalog, task: str, benchmark: str = "genelab") -> tuple[str, list[dict]]:
    """The references and the OSDR accessions behind ``task`` (GeneLab) or SpaceOmicsBench's data."""
    from genebench_assets.science.benchmarks.task_registry import task_osdr_accessions

    refs = [REFERENCES["genebench"]]
    if benchmark == "spaceomicsbench":
        refs += [REFERENCES["spaceomicsbench"], REFERENCES["osdr"]]
        accessions: list[dict] = []
    else:
        refs += [REFERENCES["genelab"], REFERENCES["osdr"]]
        accessions = task_osdr_accessions(catalog, task)
    lines = [f"References for {benchmark} task {task}:"] + [f"  - {r}" for r in refs]
    if accessions:
        lines.append(f"OSDR accessions behind {task}:")
        lines += [f"  - {a['osd']} ({a['glds_prefix']}): {a['tissue']}, {a['mission']}" for a in accessions]
    return "\n".join(lines), accessions


def to_json(obj) -> str:
    return json.dumps(obj, indent=1, default=str)
