"""`genebench reproduce ...` keeps what it reproduced as results records of kind ``reproduction`` (issue 20;
science/results/from_reproductions.py builds them from the files the command wrote in the published
layout) in the data directory, so `genebench results` and the leaderboards show them beside the published
rows. The record's code version is the Dagster code version of the asset that wrote the file."""

from __future__ import annotations

from pathlib import Path

import dagster as dg


def data_dir_of(defs: dg.Definitions, data_dir: Path | None = None) -> Path:
    """The data directory the reproduce run wrote to: `data_dir` when given, else the definitions' settings."""
    if data_dir is not None:
        return Path(data_dir)
    settings = (defs.resources or {}).get("settings")
    if settings is None:
        from genebench_assets.defs.runtime.settings import GenebenchSettings

        settings = GenebenchSettings()
    return Path(settings.data_dir)


def asset_code_version(defs: dg.Definitions, asset: str) -> str:
    node = defs.resolve_asset_graph().get(dg.AssetKey(asset))
    return node.code_version or "unknown"


def write_reproduction_records(records: list[dict], data_dir: Path) -> str:
    """Write (replace) the records; the one line the command prints about them. A record that does not
    follow the schema is reported in one line (file, field, value) and nothing more is written."""
    from genebench_assets.science.results.record import RecordError, write_record

    try:
        paths = [write_record(data_dir, r) for r in records]
    except RecordError as exc:
        return f"results records not written: {exc}"
    tasks = sorted({r["task"] for r in records})
    return (f"{len(paths)} reproduction record(s) for {', '.join(tasks)} in {Path(data_dir) / 'results'} "
            "(genebench results --task T)" if paths else "no reproduction record (no result file found)")


def record_pathway_lomo(defs: dg.Definitions, *, release: Path, out: Path, tasks, dbs,
                        data_dir: Path | None = None) -> str:
    from genebench_assets.science.release.genelab_release import task_dir
    from genebench_assets.science.results.from_reproductions import folder_version, reproduction_records

    versions = {t: folder_version(task_dir(release, t)) for t in tasks}
    records = reproduction_records(out, tasks, folds_data_version=versions, dbs=dbs, what="reproduce pathway-lomo",
                                   code_version=asset_code_version(defs, "release_evaluation"))
    return write_reproduction_records(records, data_dir_of(defs, data_dir))


def record_categories(defs: dg.Definitions, *, release: Path, out: Path, data_dir: Path | None = None) -> str:
    from genebench_assets.defs.categories.assets import C_TASKS, D_TASKS
    from genebench_assets.science.results.from_reproductions import folder_version, reproduction_records

    records = reproduction_records(out, [*C_TASKS, *D_TASKS], folds_data_version=folder_version(Path(release) / "tasks"),
                                   what="reproduce categories",
                                   code_version=asset_code_version(defs, "category_published_files"))
    return write_reproduction_records(records, data_dir_of(defs, data_dir))


def record_analyses(defs: dg.Definitions, *, release: Path, out: Path, data_dir: Path | None = None) -> str:
    from genebench_assets.science.release.genelab_release import TASK_TISSUES, task_dir
    from genebench_assets.science.results.from_reproductions import folder_version, multi_db_records

    path = Path(out) / "multi_db_comparison.json"
    if not path.is_file():
        return "no reproduction record (no multi_db_comparison.json)"
    versions = {t: folder_version(task_dir(release, t)) for t in TASK_TISSUES}
    records = multi_db_records(path, folds_data_version=versions, what="reproduce analyses",
                               code_version=asset_code_version(defs, "multi_db_comparison"))
    return write_reproduction_records(records, data_dir_of(defs, data_dir))


def record_spaceomicsbench(defs: dg.Definitions, *, data: Path, out: Path, protocol: str, tasks,
                           data_dir: Path | None = None) -> str:
    from genebench_assets.science.results.from_reproductions import folder_version, spaceomicsbench_records

    path = Path(out) / "baseline_results.json"
    if not path.is_file():
        return "no reproduction record (no baseline_results.json: the leaderboard runs on every task only)"
    records = spaceomicsbench_records(path, tasks, protocol=protocol, what="reproduce spaceomicsbench",
                                      folds_data_version=folder_version(Path(data) / "splits"),
                                      code_version=asset_code_version(defs, "soma_leaderboard"))
    return write_reproduction_records(records, data_dir_of(defs, data_dir))
