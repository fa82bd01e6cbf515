"""`genebench evaluate --benchmark spaceomicsbench --task F4 --submission F`: score a submission in
the published harness format against the task's folds (strict rows by default)."""

from __future__ import annotations

import json
from pathlib import Path


def evaluate_spaceomicsbench_cli(args) -> int:
    import sys

    from genebench_assets.science.spaceomicsbench.submission import (DEFAULT_MAX_BYTES, SubmissionError,
                                                                     read_submission, score_submission)

    max_bytes = getattr(args, "max_bytes", None) or DEFAULT_MAX_BYTES
    try:  # the guarded reader first: a FIFO, a device, a huge or hostile file is one line, exit 2
        read_submission(args.submission, max_bytes)
    except SubmissionError as exc:
        print(f"genebench evaluate: {exc}", file=sys.stderr)
        return 2
    from genebench_assets.defs.llm.resources import default_spaceomicsbench_dir
    from genebench_assets.science.spaceomicsbench.task_data import TaskUnavailable
    from genebench_assets.science.spaceomicsbench.task_definitions import TaskDefinitionError

    root = Path(args.data or default_spaceomicsbench_dir() or ".")
    if not (root / "tasks").is_dir():
        print(f"genebench evaluate: --data {root}: no tasks/ folder (the SpaceOmicsBench directory)", file=sys.stderr)
        return 2
    try:
        result = score_submission(args.submission, args.task, root, protocol=args.protocol, max_bytes=max_bytes)
    except (SubmissionError, TaskUnavailable, TaskDefinitionError) as exc:
        print(f"genebench evaluate: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        s = result["summary"]
        print(f"{args.task} ({args.protocol}): " + ", ".join(f"{k} {v['mean']:.4f} ± {v['std']:.4f}" for k, v in s.items()))
    return 0
