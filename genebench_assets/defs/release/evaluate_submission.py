"""`genebench evaluate`: validate and score an outside submission against the release's folds."""

import json
import sys
from pathlib import Path


def evaluate_submission_cli(args) -> int:
    from genebench_assets.science.evaluation.submission import (
        DEFAULT_MAX_BYTES, SubmissionError, SubmissionReadError, TaskFolds, check_submission, read_submission_file,
        render_score_table, score_submission)

    path = Path(args.submission)
    # Exit 2, one line: the input could not be read as one unambiguous JSON document (issue 10, item 5),
    # through the guarded reader, before Dagster or the release is imported (issue 25).
    try:
        obj = read_submission_file(path, max_bytes=getattr(args, "max_bytes", None) or DEFAULT_MAX_BYTES)
    except SubmissionReadError as exc:
        print(f"genebench evaluate: {exc}", file=sys.stderr)
        return 2
    from genebench_assets.defs.release.resources import ReleaseSettings
    from genebench_assets.science.release import genelab_release

    release_dir = Path(args.release) if args.release else Path(ReleaseSettings().release_dir)
    try:
        from genebench_assets.science.categories import cross_mission   # B tasks: pair_{TRAIN}_{TEST} folds

        task = (cross_mission.task_folds(release_dir, args.task) if cross_mission.is_cross_mission_task(args.task)
                else TaskFolds.from_release(genelab_release.read_task(release_dir, args.task)))
    except (genelab_release.ReleaseError, FileNotFoundError, KeyError, ValueError) as exc:
        print(f"genebench evaluate: task {args.task} in {release_dir}: {exc}", file=sys.stderr)
        return 2
    try:
        check_submission(obj, task)
    except SubmissionError as exc:
        if args.json:
            print(json.dumps({"valid": False, "n_problems": exc.total, "problems": exc.problems}, indent=1))
        else:
            print(f"genebench evaluate: {path} rejected ({exc.total} problem(s)):", file=sys.stderr)
            for p in exc.problems:
                print(f"  - {p}", file=sys.stderr)
            if exc.total > len(exc.problems):
                print(f"  ... and {exc.total - len(exc.problems)} more ({exc.total} in all)", file=sys.stderr)
        return 1
    n_boot, n_perm = getattr(args, "n_bootstrap", None), getattr(args, "n_permutations", None)
    result = score_submission(obj, task, n_boot=2000 if n_boot is None else n_boot, n_perm=1000 if n_perm is None else n_perm)
    if cross_mission.is_cross_mission_task(args.task):
        result["transfer_pattern"] = cross_mission.transfer_pattern_summary(result["folds"])   # SPEC §8, no GO rule
    print(json.dumps({"valid": True, **result}, indent=1, default=float) if args.json else render_score_table(result))
    _write_submission_record(args, path, obj, task, result)   # issue 20: the results record (docs/results.md)
    return 0


def _write_submission_record(args, path: Path, obj: dict, task, result: dict) -> None:
    from genebench_assets.defs.runtime.settings import GenebenchSettings
    from genebench_assets.science.results.from_evaluation import record_from_submission
    from genebench_assets.science.results.record import RecordError, write_record

    try:
        record = record_from_submission(result, task, submission_bytes=path.read_bytes(), source=str(path),
                                        predictions=obj.get("predictions"))
        written = write_record(GenebenchSettings().data_dir, record)
    except (RecordError, OSError) as exc:
        print(f"genebench evaluate: results record not written: {exc}", file=sys.stderr)
        return
    if not args.json:
        print(f"results record: {written}")
