"""Leaderboard assets (issue 20), one per benchmark: the results records of every task beside the
published baselines, as `genebench results --task X` prints them, with a bar chart per task.

They read the results records (JSON files under <data_dir>/results/, written by `evaluation_summary`
after its own read gate and by `genebench evaluate`), not a checked asset's table: no read gate is
involved. A malformed record fails the asset in one line naming the file and the field."""


import dagster as dg

from genebench_assets.defs.lineage.code_versions import code_version_of
from genebench_assets.defs.lineage.provenance import provenance_metadata
from genebench_assets.defs.runtime.settings import GenebenchSettings


def _leaderboard_result(settings: GenebenchSettings, benchmark: str, always: tuple[str, ...]) -> dg.MaterializeResult:
    import hashlib
    import json

    from genebench_assets.science.evaluation.plots import png_markdown
    from genebench_assets.science.results.leaderboard import leaderboard, render_table
    from genebench_assets.science.results.published import default_published_dir, default_spaceomicsbench_dir
    from genebench_assets.science.results.record import RecordError, read_records
    from genebench_assets.science.results.report import leaderboard_chart_png

    try:
        records = read_records(settings.data_dir, benchmark=benchmark)
    except RecordError as exc:
        raise dg.Failure(str(exc), allow_retries=False) from None
    tasks = sorted(set(always) | {r["task"] for r in records})
    sections, boards = [], {}
    for task in tasks:
        rows = leaderboard(benchmark, task, records, published_dir=default_published_dir(),
                           soma_dir=default_spaceomicsbench_dir())
        if not rows:
            continue
        boards[task] = rows
        png = leaderboard_chart_png(rows, f"{benchmark} {task}")
        sections.append(f"### {task}\n\n{render_table(rows)}\n\n" + (png_markdown(png, f"{task} leaderboard") if png else ""))
    digest = hashlib.sha256(json.dumps(boards, sort_keys=True, default=str).encode()).hexdigest()
    metadata = {
        "benchmark": benchmark,
        "n_records": len(records),
        "n_tasks": len(boards),
        "leaderboard": dg.MetadataValue.md("\n\n".join(sections) or "no results yet"),
        "rows": dg.MetadataValue.json(boards),
        "records_dir": str(settings.data_dir) + f"/results/{benchmark}",
    }
    metadata.update(provenance_metadata(upstream=[], raw_files=[], protocol=settings.protocol))
    return dg.MaterializeResult(data_version=dg.DataVersion(digest[:16]), metadata=metadata)


@dg.asset(
    code_version=code_version_of(__file__, "genelab_leaderboard"),
    group_name="results",
    description="GeneLab leaderboard per task: results records (built-in, plug-in, submission, embeddings, "
    "reproduction) ranked beside the published baselines, each row labelled; a bar chart per task.",
)
def genelab_leaderboard(context: dg.AssetExecutionContext, settings: GenebenchSettings) -> dg.MaterializeResult:
    return _leaderboard_result(settings, "genelab", tuple(settings.catalog().task_ids.values()))


@dg.asset(
    code_version=code_version_of(__file__, "spaceomicsbench_results_leaderboard"),
    group_name="results",
    description="SpaceOmicsBench leaderboard per task: results records ranked beside the published baselines "
    "(baselines/baseline_results.json), each row labelled; a bar chart per task.",
)
def spaceomicsbench_results_leaderboard(context: dg.AssetExecutionContext,
                                        settings: GenebenchSettings) -> dg.MaterializeResult:
    from genebench_assets.science.spaceomicsbench.task_definitions import TASK_IDS

    return _leaderboard_result(settings, "spaceomicsbench", TASK_IDS)
