"""Results records of kind ``reproduction`` (issue 20): what ``genebench reproduce`` computed from the published
inputs, read back from the files it wrote in the published layout, so ``genebench results --task A2`` (and the
leaderboards) show our reproductions beside the published rows, each row saying which it is.

One parser reads both sides: ``published.layout_rows`` / ``published.pathway_rows`` take the published
release's genelab_evaluation/ folder or the reproduce command's output folder alike.

- predictions_sha256: sha256 of the reproduced result file (it holds every fold's AUROC, CI and p);
- folds_data_version: sha256 (16 hex digits) of the release's task folder (its fold files, names and bytes),
  or of the input the caller names;
- protocol ``seed``: the published protocol, reproduced exactly (SPEC §11)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from genebench_assets.science.results.published import layout_rows, pathway_rows
from genebench_assets.science.results.record import build_record


def folder_version(folder: Path) -> str:
    """sha256 (16 hex digits) of every file under `folder`: relative path and bytes, in sorted order."""
    h = hashlib.sha256()
    folder = Path(folder)
    for p in sorted(q for q in folder.rglob("*") if q.is_file()):
        h.update(str(p.relative_to(folder)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _fold_rows(folds: list[dict]) -> list[dict]:
    return [{"fold_id": f"fold_{f['test_mission']}_test", "value": f.get("auroc"), "ci_lower": f.get("ci_lower"),
             "ci_upper": f.get("ci_upper"), "perm_p": f.get("perm_p"), "n_test": f.get("n_test")} for f in folds]


def reproduction_records(out_dir: str | Path, tasks, *, folds_data_version: dict[str, str] | str, code_version: str,
                         what: str, dbs=None) -> list[dict]:
    """One record per (task, model, feature set) found in `out_dir`'s result files for `tasks`.

    folds_data_version: one string, or task -> string. what: the command (e.g. ``reproduce pathway-lomo``),
    kept as the record's source with the file. dbs: only these pathway collections (A tasks)."""
    out_dir = Path(out_dir)
    records = []
    for task in tasks:
        version = folds_data_version if isinstance(folds_data_version, str) else folds_data_version.get(task, "unknown")
        if task.startswith("A"):
            rows = pathway_rows(task, out_dir, **({"dbs": tuple(dbs)} if dbs else {}))
            rows += [r for r in layout_rows(task, out_dir, pathways=False)]
        else:
            rows = layout_rows(task, out_dir)
        for r in rows:
            if r["value"] is None:
                continue
            path = Path(r["source"])
            records.append(build_record(
                benchmark="genelab", task=task, model=r["model"], kind="reproduction", protocol="seed",
                metric=r["metric"], feature_set=r.get("feature_set"), folds=_fold_rows(r.get("folds") or []),
                summary={"mean": r["value"], "std": r.get("std"), "mean_ci_lower": r.get("ci_lower"),
                         "mean_perm_p": r.get("perm_p")},
                go=r.get("go"), predictions_sha256=file_sha256(path), folds_data_version=version,
                code_version=code_version, seeds=[42], source=f"{what}: {path}",
                notes="reproduced from the published inputs with the published randomness (seed protocol)"))
    return records


def multi_db_records(path: str | Path, *, folds_data_version: dict[str, str] | str, code_version: str,
                     what: str) -> list[dict]:
    """Records of multi_db_comparison.json's ``auroc`` section (model -> tissue -> collection -> summary), the
    pathway-level LOMO of every collection as `genebench reproduce analyses` recomputed it."""
    import json

    from genebench_assets.science.release.genelab_release import TISSUE_TASKS

    path = Path(path)
    doc = json.loads(path.read_text()).get("auroc") or {}
    sha, records = file_sha256(path), []
    for model, by_tissue in doc.items():
        for tissue, by_db in (by_tissue or {}).items():
            task = TISSUE_TASKS.get(tissue)
            for db, r in (by_db or {}).items() if task else ():
                if not isinstance(r, dict) or r.get("mean_auroc") is None:
                    continue
                version = folds_data_version if isinstance(folds_data_version, str) else folds_data_version.get(task, "unknown")
                records.append(build_record(
                    benchmark="genelab", task=task, model=model, kind="reproduction", protocol="seed", metric="AUROC",
                    feature_set=f"pathways:{db}", folds=[],
                    summary={"mean": r["mean_auroc"], "std": r.get("std_auroc"), "mean_ci_lower": r.get("mean_ci_lower"),
                             "mean_perm_p": r.get("mean_perm_p")},
                    go=r.get("go"), predictions_sha256=sha, folds_data_version=version, code_version=code_version,
                    seeds=[42], source=f"{what}: {path}",
                    notes="multi_db_comparison: reproduced from the published inputs (seed protocol)"))
    return records


def spaceomicsbench_records(path: str | Path, tasks, *, protocol: str, folds_data_version: str, code_version: str,
                            what: str) -> list[dict]:
    """Records of the baseline_results.json `genebench reproduce spaceomicsbench` wrote (published layout);
    chance baselines (random, majority) are controls, not leaderboard entries."""
    from genebench_assets.science.results.published import spaceomicsbench_rows

    path = Path(path)
    sha, records = file_sha256(path), []
    for task in tasks:
        for r in spaceomicsbench_rows(task, path.parent, path=path):
            if r["value"] is None or r.get("chance"):
                continue
            records.append(build_record(
                benchmark="spaceomicsbench", task=task, model=r["model"], kind="reproduction", protocol=protocol,
                metric=r["metric"], feature_set=None, folds=[], summary={"mean": r["value"], "std": r.get("std")},
                go=None, predictions_sha256=sha, folds_data_version=folds_data_version, code_version=code_version,
                seeds=[42], source=f"{what}: {path}"))
    return records
