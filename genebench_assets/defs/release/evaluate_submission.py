"""`genebench evaluate`: validate and score an outside submission against the release's folds."""

import json
import sys
from pathlib import Path

from genebench_assets.defs.release.resources import ReleaseSettings


def evaluate_submission_cli(args) -> int:
    from genebench_assets.science.release import genelab_release
    from genebench_assets.science.evaluation.submission import (
        SubmissionError, TaskFolds, check_submission, render_score_table, score_submission)

    release_dir = Path(args.release) if args.release else Path(ReleaseSettings().release_dir)
    path = Path(args.submission)
    try:
        obj = json.loads(path.read_text())
    except FileNotFoundError:
        print(f"genebench evaluate: {path}: file not found", file=sys.stderr)
        return 2
    except json.JSONDecodeError as exc:
        print(f"genebench evaluate: {path}: not valid JSON: {exc}", file=sys.stderr)
        return 2
    try:
        task = TaskFolds.from_release(genelab_release.read_task(release_dir, args.task))
    except (genelab_release.ReleaseError, FileNotFoundError, KeyError, ValueError) as exc:
        print(f"genebench evaluate: task {args.task} in {release_dir}: {exc}", file=sys.stderr)
        return 2
    try:
        check_submission(obj, task)
    except SubmissionError as exc:
        if args.json:
            print(json.dumps({"valid": False, "problems": exc.problems}, indent=1))
        else:
            print(f"genebench evaluate: {path} rejected:", file=sys.stderr)
            for p in exc.problems:
                print(f"  - {p}", file=sys.stderr)
        return 1
    result = score_submission(obj, task)
    print(json.dumps({"valid": True, **result}, indent=1, default=float) if args.json else render_score_table(result))
    return 0
