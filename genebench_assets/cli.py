"""The `genebench` command: materialize the benchmark, reproduce published numbers, score a
submission, and trace any AUROC to its raw files. Runs are recorded in the Dagster instance at
$DAGSTER_HOME (default: ./.dagster_home), the same one `dagster dev` shows."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


class UsageError(Exception):
    """A bad argument or setting found after parsing: printed as one line, exit 2."""


# ---- argument types (argparse `type=`): one line naming the argument and the value, exit 2 ----------
def positive_int(text: str) -> int:
    """A whole number >= 1 (bootstrap draws, permutations, byte limits)."""
    if not text.strip().lstrip("+").isdigit() or len(text.strip()) > 12 or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text[:40]!r}")
    return int(text)


def _writable_dir_problem(path: Path) -> str | None:
    """Why `path` cannot be an output directory we create or write into (None when it can)."""
    resolved = path.expanduser().resolve()
    for special in ("/dev", "/proc", "/sys"):
        if resolved == Path(special) or Path(special) in resolved.parents:
            return f"is under {special}, not a place for output files"
    if resolved.exists() and not resolved.is_dir():
        return "exists and is not a directory"
    for parent in resolved.parents:  # the nearest existing ancestor must be a directory we may write
        if parent.exists():
            if not parent.is_dir():
                return f"is under {parent}, which is a file, not a directory"
            break
    target = resolved if resolved.exists() else next((p for p in resolved.parents if p.exists()), None)
    if target is not None and not os.access(target, os.W_OK | os.X_OK):
        return f"{target} is not writable"
    return None


def output_dir(text: str) -> str:
    """A directory we may create or write into: not an existing file, not under a file, not /dev/null,
    /proc or /sys."""
    problem = _writable_dir_problem(Path(text)) if text else "is empty"
    if problem:
        raise argparse.ArgumentTypeError(f"{text[:200]!r} {problem}")
    return text


def existing_dir(text: str) -> str:
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text[:200]!r} is not a directory" + ("" if path.exists() else " (not found)"))
    return text


def input_file(limit_kind: str):
    """A regular file within the guarded reader's limit for this kind (FIFO, device, directory and
    oversized files refused before anything is opened or imported)."""
    def check(text: str) -> str:
        from genebench_assets.science.inputs.guarded_files import LIMITS, InputFileError, read_bytes

        try:  # reads at most the limit (+1 byte), non-blocking: a FIFO swapped in cannot hang
            read_bytes(text, max_bytes=LIMITS[limit_kind])
        except InputFileError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text
    check.__name__ = "file"
    return check


def task_id_arg(text: str) -> str:
    from genebench_assets.science.inputs.guarded_files import IdentifierError, validate_task_id

    try:
        return validate_task_id(text)
    except IdentifierError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def tissue_arg(text: str) -> str:
    from genebench_assets.science.osdr.identifiers import IdentifierError, validate_tissue

    try:
        return validate_tissue(text)
    except IdentifierError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _dagster_home() -> Path:
    """$DAGSTER_HOME (default ./.dagster_home), refused in one line when it is a file or under one."""
    raw = os.environ.get("DAGSTER_HOME") or str(Path.cwd() / ".dagster_home")
    problem = _writable_dir_problem(Path(raw))
    if problem:
        raise UsageError(f"DAGSTER_HOME={raw!r:.200} {problem}")
    return Path(raw).expanduser().resolve()


def _catalog():
    """The catalog the command needs (GENEBENCH_CATALOG and catalog additions); one line when bad."""
    from genebench_assets.science.osdr.study_catalog import CatalogError, load_catalog

    from genebench_assets.science.osdr.catalog_additions import load_additions
    from genebench_assets.science.storage.data_dir import default_data_dir

    try:  # what GenebenchSettings().catalog() reads, without importing Dagster (fast refusals)
        base = load_catalog(os.environ.get("GENEBENCH_CATALOG") or None)
        return base.with_studies(load_additions(Path(default_data_dir())))  # with catalog_additions.json
    except CatalogError as exc:
        raise UsageError(f"catalog: {exc}") from None
    except ValueError as exc:  # GENEBENCH_DATA_DIR with another protocol than file:// (not a CatalogError)
        raise UsageError(str(exc)) from None


def _instance():
    import dagster as dg

    home = _dagster_home()
    os.environ["DAGSTER_HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "dagster.yaml"
    text = settings.read_text() if settings.exists() else ""
    # Ours when empty or written by an earlier genebench (refreshed: telemetry setting added)
    if not text.strip() or (text.startswith("# Written by genebench") and "telemetry:" not in text):
        # Run monitoring on, so a killed run ends FAILED; telemetry off, so no banner on the first
        # command (a user's own dagster.yaml is left alone).
        from genebench_assets.defs.runtime.run_monitoring import INSTANCE_YAML

        settings.write_text(INSTANCE_YAML)
    return dg.DagsterInstance.get()


def _defs():
    from genebench_assets.defs.runtime.execution import RunConfigError
    from genebench_assets.science.osdr.study_catalog import CatalogError

    try:
        from genebench_assets.definitions import defs
    except (CatalogError, RunConfigError) as exc:  # GENEBENCH_CATALOG / GENEBENCH_EXECUTOR_CONFIG
        raise UsageError(f"cannot load the code location: {exc}") from None
    return defs


def _model_options_to_env(args: argparse.Namespace) -> None:
    """--model-spec NAME=MODULE:FACTORY (repeatable) and --seeds 42,43 into GENEBENCH_MODEL_SPECS /
    GENEBENCH_SEEDS, checked first (one line when bad; science/models/plugins.py)."""
    specs = list(getattr(args, "model_spec", None) or [])
    if specs:
        from genebench_assets.science.models.plugins import PluginError, parse_spec

        try:
            [parse_spec(t) for t in specs]
        except PluginError as exc:
            raise UsageError(f"--model-spec: {exc}") from None
        os.environ["GENEBENCH_MODEL_SPECS"] = ",".join(specs)
    if getattr(args, "seeds", None):
        os.environ["GENEBENCH_SEEDS"] = ",".join(str(x) for x in args.seeds)


def seed_list(text: str) -> list[int]:
    """--seeds: comma-separated whole numbers >= 0, e.g. 42,43,44."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or len(parts) > 100 or not all(p.isdigit() and len(p) <= 10 for p in parts):
        raise argparse.ArgumentTypeError(f"expected seeds like 42,43,44, got {text[:40]!r}")
    return list(dict.fromkeys(int(p) for p in parts))


def cmd_materialize(args: argparse.Namespace) -> int:
    """Materialize the catalog, every real study partition and every tissue (defs/runtime/materialize_plan.py:
    each tissue after its studies, two runs at a time)."""
    if args.source:
        os.environ["GENEBENCH_SOURCE"] = args.source
    if args.protocol:  # before the definitions are imported: their resources read it at construction
        os.environ["GENEBENCH_PROTOCOL"] = args.protocol
    _model_options_to_env(args)  # --model-spec, --seeds (issue 20): read by ModelSettings
    t0 = time.perf_counter()
    if args.run_config:  # the guarded read first (no alias bomb, no duplicate key), before Dagster is imported
        from genebench_assets.science.inputs.guarded_files import LIMITS, InputFileError, load_yaml

        try:
            load_yaml(args.run_config, max_bytes=LIMITS["run_config"])
        except InputFileError as exc:
            raise UsageError(f"--run-config {exc}") from None
    catalog = _catalog()
    unknown = [t for t in args.tissue or () if t not in catalog.tissues]
    if unknown:
        raise UsageError(f"--tissue {unknown[0]!r} is not a tissue of the catalog; known: {list(catalog.tissues)}")
    if args.run_config:  # read (guarded) and checked before any run; validated against the jobs on first use
        from genebench_assets.defs.runtime.execution import RunConfigError, read_run_config_file

        try:
            read_run_config_file(args.run_config)
        except RunConfigError as exc:
            raise UsageError(f"--run-config {exc}") from None
    instance = _instance()
    tissues = args.tissue or list(catalog.tissues)
    failures: list[str] = []
    from genebench_assets.defs.runtime.jobs import END_OF_RUN_JOBS  # the leaderboards, after every other run
    from genebench_assets.defs.runtime.materialize_plan import lane_pool, plan_runs, run_concurrently, stop_lanes

    plan = plan_runs(list(catalog.pairs()), tissues, nes=args.nes, categories=getattr(args, "categories", False),
                     final_jobs=END_OF_RUN_JOBS)
    total = len(plan)
    # Two runs at a time (defs/runtime/materialize_plan.py): while one tissue's models are fitted, the
    # next tissue's studies are prepared. One at a time, in this process, with --run-config (its
    # executor decides where steps run) or --concurrent-runs 1.
    lanes = 1 if args.run_config else max(1, min(args.concurrent_runs, total))
    done = [0]
    from genebench_assets.defs.runtime.progress import TerminalProgress

    # On a terminal: a progress bar under the runs' lines; with or without one, the runs' console log
    # goes to a file, so CI logs and `nohup` get the same concise lines as a terminal.
    progress = TerminalProgress(total, log_path=Path(os.environ["DAGSTER_HOME"]) / "materialize_console.log")
    tags = {"genebench/protocol": os.environ.get("GENEBENCH_PROTOCOL", "strict")}
    started: dict[int, float] = {}

    def on_start(i: int) -> None:
        started[i] = time.perf_counter()
        if lanes > 1:  # one lane: progress.running() around the run names it
            progress.started(plan[i].title)

    def on_end(i: int, outcome) -> bool:
        # ok only if the run succeeded and no check of severity ERROR failed, blocking or not
        ok, failed_checks, report = outcome
        done[0] += 1
        if lanes > 1:
            progress.ended(plan[i].title)
        run = plan[i]
        progress.line(f"  [{done[0]:>{len(str(total))}}/{total}] {'ok ' if ok else 'FAILED'} {run.job:12s} {run.label:28s} "
                      f"{time.perf_counter() - started[i]:6.1f}s  (elapsed {time.perf_counter() - t0:5.0f}s)")
        if not ok:
            # Failed checks, each failed step's root cause in one line, and what was skipped.
            for line in report:
                progress.line(f"      {line}")
            failures.append(run.title + (f" (failed check: {', '.join(failed_checks)})" if failed_checks else ""))
        return ok

    from genebench_assets.defs.runtime.settings import GenebenchSettings

    print(f"genebench: materializing into {GenebenchSettings().data_dir} (DAGSTER_HOME={os.environ['DAGSTER_HOME']})")
    print(f"genebench: Dagster's event log goes to {progress.log_path} (all events: the UI)"
          + (f"; {lanes} runs at a time" if lanes > 1 else ""), flush=True)
    if lanes == 1:
        import concurrent.futures

        import dagster as dg  # only now: every argument and input file above is checked without it

        from genebench_assets.defs.runtime.execution import execute_for_cli
        from genebench_assets.defs.runtime.run_report import run_outcome

        defs = _defs()

        def start(i: int) -> concurrent.futures.Future:
            run, future = plan[i], concurrent.futures.Future()
            key = dg.MultiPartitionKey(run.partition) if isinstance(run.partition, dict) else run.partition
            with progress.running(run.title):  # in-process, or on --run-config's executor (defs/runtime/execution.py)
                result = execute_for_cli(defs, instance, run.job, key, run_config_file=args.run_config, tags=tags)
            future.set_result(run_outcome(instance, result))
            return future

        run_concurrently(plan, start, on_end, on_start, lanes=1)
    else:
        from genebench_assets.defs.runtime.materialize_plan import lane_execute, lane_loaded

        import tempfile

        from genebench_assets.science.models.fit_pool import FIT_SLOTS_ENV

        # Both lanes' fit workers share the cores' worth of CPU slots (science/models/fit_pool.cpu_slot).
        slots = tempfile.TemporaryDirectory(prefix="genebench_fit_slots_")
        os.environ[FIT_SLOTS_ENV] = f"{os.cpu_count() or 1}:{slots.name}"
        pool, clean = lane_pool(lanes, progress.log_path), False  # the lanes load the code location ...
        try:
            error = pool.submit(lane_loaded).result()  # ... once, in the lanes (a bad catalog or executor file)
            if error:
                raise UsageError(f"cannot load the code location: {error}")
            run_concurrently(plan, lambda i: pool.submit(lane_execute, plan[i].job, plan[i].partition, tags),
                             on_end, on_start, lanes=lanes)
            clean = True
        except UsageError:
            progress.close()
            raise
        except BaseException:
            progress.crashed()  # the reason is not hidden in the log file
            raise
        finally:
            stop_lanes(pool, clean)
            os.environ.pop(FIT_SLOTS_ENV, None)
            slots.cleanup()
    progress.close()
    print(f"done in {time.perf_counter() - t0:.1f}s; {len(failures)} failed" + (f": {failures}" if failures else ""))
    return 1 if failures else 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    """All requested collections and tissues in one process and (normally) ONE Dagster run, on the
    release assets alone (defs/release/reproduce.py). The worker processes start first, so their imports
    (numpy, pandas, scikit-learn) overlap this process loading Dagster; every step of the run uses them."""
    from genebench_assets.science.models.fit_pool import worker_pool
    from genebench_assets.science.release import worker_modules

    jobs = os.environ.get("GENEBENCH_JOBS", "2")  # ReleaseSettings.n_jobs, read before Dagster is loaded
    if not jobs.strip().isdigit():
        raise UsageError(f"GENEBENCH_JOBS={jobs[:40]!r}: expected a whole number of worker processes")
    with worker_pool(int(jobs), preload=worker_modules()) as workers:
        from genebench_assets.defs.release.reproduce import release_definitions, reproduce_pathway_lomo
        from genebench_assets.defs.release.resources import COLLECTIONS

        t0 = time.perf_counter()
        dbs = COLLECTIONS if "all" in args.db else args.db
        code = reproduce_pathway_lomo(_instance(), release_definitions(), release=Path(args.release), db=dbs,
                                      out=Path(args.out), tissues=args.tissue, workers=workers)
    print(f"done in {time.perf_counter() - t0:.1f}s")
    import gc

    gc.freeze()  # the interpreter's exit then skips a cyclic GC over all Dagster loaded (0.8 s measured)
    return code


def cmd_reproduce_analyses(args: argparse.Namespace) -> int:
    """Issue 21: pathway coefficients / SHAP and multi_db_comparison.json (defs/analyses/reproduce.py)."""
    from genebench_assets.defs.analyses.reproduce import analyses_definitions, reproduce_analyses

    return reproduce_analyses(_instance(), analyses_definitions(), release=Path(args.release), out=Path(args.out))


def cmd_reproduce_categories(args: argparse.Namespace) -> int:
    from genebench_assets.defs.categories.reproduce import reproduce_categories

    return reproduce_categories(_instance(), _defs(), release=Path(args.release), out=Path(args.out))


def cmd_reproduce_spaceomicsbench(args: argparse.Namespace) -> int:
    from genebench_assets.defs.spaceomicsbench.reproduce import reproduce_spaceomicsbench

    return reproduce_spaceomicsbench(_instance(), _defs(), data=Path(args.data), protocol=args.protocol,
                                     out=Path(args.out), tasks=args.task, n_boot=args.n_boot)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from genebench_assets.science.inputs.guarded_files import LIMITS, InputFileError, check_file

    if getattr(args, "embeddings", None) or not args.submission:  # issue 20: a probe on embeddings
        return cmd_evaluate_embeddings(args)

    try:  # before the scoring code is imported: a FIFO, a device or an oversized file is refused at once
        check_file(args.submission, max_bytes=args.max_bytes or LIMITS["submission"], hint="raise it with --max-bytes")
    except InputFileError as exc:
        raise UsageError(str(exc)) from None
    # The whole guarded read (UTF-8, JSON, duplicates, nesting, numbers) before Dagster is imported.
    if getattr(args, "benchmark", "genelab") == "spaceomicsbench":
        from genebench_assets.science.spaceomicsbench.submission import SubmissionError, read_submission

        try:
            read_submission(args.submission, args.max_bytes or LIMITS["submission"])
        except SubmissionError as exc:
            raise UsageError(str(exc)) from None
    else:
        from genebench_assets.science.evaluation.submission import SubmissionReadError, read_submission_file

        try:
            read_submission_file(args.submission, max_bytes=args.max_bytes or LIMITS["submission"])
        except SubmissionReadError as exc:
            raise UsageError(str(exc)) from None
    if getattr(args, "benchmark", "genelab") == "spaceomicsbench":
        from genebench_assets.defs.spaceomicsbench.evaluate_submission import evaluate_spaceomicsbench_cli

        return evaluate_spaceomicsbench_cli(args)
    from genebench_assets.defs.release.evaluate_submission import evaluate_submission_cli

    return evaluate_submission_cli(args)


def cmd_evaluate_embeddings(args: argparse.Namespace) -> int:
    """`genebench evaluate --embeddings FILE.parquet --task A4`: a linear probe through the folds (issue 20)."""
    if bool(args.submission) == bool(args.embeddings):
        raise UsageError("give exactly one of --submission FILE.json or --embeddings FILE.parquet")
    if args.benchmark != "genelab" or args.release:  # the probe runs on the materialized benchmark's folds
        extra = "--release" if args.release else f"--benchmark {args.benchmark}"
        raise UsageError(f"--embeddings scores the materialized GeneLab folds (`genebench materialize`); drop {extra}")
    from genebench_assets.science.inputs.guarded_files import InputFileError, check_file

    try:  # a FIFO, a device or an oversized file is refused before Dagster is imported
        check_file(args.embeddings, max_bytes=args.max_bytes or 500 * 1024 * 1024, hint="raise it with --max-bytes")
    except InputFileError as exc:
        raise UsageError(str(exc)) from None
    from genebench_assets.defs.evaluation.embeddings import EmbeddingsUsageError, evaluate_embeddings_cli

    try:
        return evaluate_embeddings_cli(args, instance=_instance(), catalog=_catalog())
    except EmbeddingsUsageError as exc:
        raise UsageError(str(exc)) from None


def cmd_export_tokens(args: argparse.Namespace) -> int:
    """Per fold, each sample's genes ranked Geneformer-style with training-sample medians (issue 20)."""
    from genebench_assets.defs.evaluation.embeddings import EmbeddingsUsageError, export_tokens_cli

    try:
        return export_tokens_cli(args, instance=_instance(), catalog=_catalog())
    except EmbeddingsUsageError as exc:
        raise UsageError(str(exc)) from None


def cmd_lineage(args: argparse.Namespace) -> int:
    from genebench_assets.science.osdr.study_catalog import CatalogError, load_catalog

    try:
        catalog = load_catalog(os.environ.get("GENEBENCH_CATALOG") or None)
    except CatalogError as exc:
        raise UsageError(f"catalog: {exc}") from None
    task_to_tissue = {v: k for k, v in catalog.task_ids.items()}
    if args.task not in task_to_tissue:
        raise UsageError(f"--task {args.task!r:.40} is not a task; known: {sorted(task_to_tissue)}")
    tissue = task_to_tissue[args.task]
    from genebench_assets.science.models.classifiers import MODEL_NAMES

    from genebench_assets.science.models.plugins import PluginError, configured_specs, split_specs

    # Plug-ins named here (--model-spec, GENEBENCH_MODEL_SPECS, installed entry points) are models too.
    specs = [*(args.model_spec or []), *split_specs(os.environ.get("GENEBENCH_MODEL_SPECS", ""))]
    try:
        plugin_names = [p.name for p in configured_specs(specs)]
    except PluginError as exc:
        raise UsageError(f"--model-spec / GENEBENCH_MODEL_SPECS: {exc}") from None
    known_models = [*MODEL_NAMES, *plugin_names]
    # Unknown names are refused before anything is read (issue 19): a plug-in run earlier is named again
    # for lineage, the way it was named for the run.
    if args.model.removeprefix("positive_control:") not in known_models:
        raise UsageError(f"--model {args.model!r:.60} is not a model; known: {known_models} (a plug-in: name it with "
                         "--model-spec NAME=MODULE:FACTORY, GENEBENCH_MODEL_SPECS or a genebench.models entry point)")
    fold = None
    if args.fold:
        mission = args.fold.removeprefix("fold_").removesuffix("_test").removesuffix("_holdout")
        known = catalog.missions_for(tissue, include_holdout=True)
        if mission not in known:
            raise UsageError(f"--fold {args.fold!r:.60} is not a fold of {args.task} ({tissue}); known missions: {known}")
        fold = args.fold if args.fold.startswith("fold_") else f"fold_{args.fold}_test"
    if args.features:
        # defs/models/resources.py FEATURE_SETS (not imported: it loads the whole code location)
        known_fs = ("hallmark", "kegg", "reactome", "mitocarta") if args.release else ("genes", "pathways")
        if args.features not in known_fs:
            raise UsageError(f"--features {args.features!r:.60} is not a feature set; known: {list(known_fs)}")
    asset = "evaluation_summary"
    if args.release:
        asset = "release_evaluation"
        tissue = f"{tissue}|{args.db}" if args.db else tissue
    # Dagster and the code location only now, after every argument is checked (fast refusals).
    from genebench_assets.defs.lineage.tracing import LineageArgumentError, lineage_from_instance, render_lineage_text

    try:
        chain = lineage_from_instance(_instance(), tissue=tissue, model=args.model, fold=fold,
                                      feature_set=args.features, evaluation_asset=asset)
    except LineageArgumentError as exc:
        raise UsageError(str(exc)) from None
    except LookupError as exc:
        print(f"genebench lineage: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(chain, indent=1, default=str) if args.json else render_lineage_text(chain))
    return 0


def cmd_export_folds(args: argparse.Namespace) -> int:
    """Write materialized LOMO folds in the published release layout (SPEC §5), for outside users."""
    from genebench_assets.defs.runtime.settings import GenebenchSettings
    from genebench_assets.defs.gating.read_gate import InputRefused
    from genebench_assets.defs.gating.tissue_inputs import load_tissue, read_checked_folds
    from genebench_assets.science.tasks.folds import export_release_layout
    from genebench_assets.science.osdr.identifiers import IdentifierError
    from genebench_assets.science.storage.table_store import TableNotFoundError

    settings = GenebenchSettings()
    catalog = _catalog()
    store = settings.table_store()  # folds of GENEBENCH_PROTOCOL; studies as promoted
    unknown = [t for t in args.tissue or () if t not in catalog.tissues]
    if unknown:
        raise UsageError(f"--tissue {unknown[0]!r} is not a tissue of the catalog; known: {list(catalog.tissues)}")
    instance = _instance()  # where `genebench materialize` recorded the folds and their checks
    for tissue in args.tissue or list(catalog.tissues):
        try:  # through the read gate: folds whose leakage checks failed are never exported
            folds = read_checked_folds(None, store, tissue, instance=instance)
        except (TableNotFoundError, InputRefused) as exc:
            print(f"genebench export-folds: {exc}; run `genebench materialize --tissue {tissue}` first", file=sys.stderr)
            return 1
        data = load_tissue(store, catalog, tissue)
        try:  # every file is resolved inside --out (a task id or fold id cannot lead out of it)
            out = export_release_layout(folds, data.expression, data.metadata, Path(args.out),
                                        write_features=args.features)
        except IdentifierError as exc:
            raise UsageError(f"--out {args.out}: {exc}") from None
        print(f"{tissue}: {len(folds)} folds -> {out}")
    return 0


def cmd_demo_publish(args: argparse.Namespace) -> int:
    """Publish the demo's held-back study, so the refresh sensor finds a new mission on its next tick."""
    from genebench_assets.defs.runtime.settings import GenebenchSettings
    from genebench_assets.defs.sources.resources import OsdrSource
    from genebench_assets.science.osdr.demo_simulator import held_back_demo_studies, write_demo_mirror

    settings = GenebenchSettings()
    source = OsdrSource()
    root = source.demo_root(settings.data_dir)
    write_demo_mirror(root, settings.catalog(), seed=source.demo_seed, n_genes=source.demo_n_genes,
                      publish_held_back=True)
    for s in held_back_demo_studies():
        print(f"published simulated study {s.osd}: {s.tissue} {s.mission} -> {root / s.osd}")
    print("start the sensor 'osdr_new_studies_sensor' in the UI (or wait for its next tick) to pick it up")
    return 0


def cmd_llm_replay(args: argparse.Namespace) -> int:
    """All stored LLM runs -> leaderboard, in one Dagster run (see defs/llm/replay.py)."""
    from genebench_assets.defs.llm.resources import LlmSetupError
    from genebench_assets.defs.llm.replay import leaderboard_text, replay_all, replay_definitions, write_leaderboard_json

    t0 = time.perf_counter()
    try:
        outcome = replay_all(_instance(), replay_definitions())
    except LlmSetupError as exc:
        print(f"genebench llm replay: {exc.description}", file=sys.stderr)
        return 1
    if not outcome.success:
        print(f"genebench llm replay: failed (runs {', '.join(outcome.run_ids)}): " + "; ".join(outcome.errors[:5]), file=sys.stderr)
        return 1
    print(leaderboard_text(outcome.leaderboard))
    if args.out:
        print(f"wrote {write_leaderboard_json(outcome.leaderboard, Path(args.out))}")
    print(f"{len(outcome.models)} models replayed in {len(outcome.run_ids)} Dagster run(s) "
          f"({', '.join(outcome.run_ids)}) in {time.perf_counter() - t0:.1f}s")
    return 0


# ---- issue 20: list / results / report / cite (docs/results.md) -------------------------------------
def _results_dirs() -> dict:
    from genebench_assets.science.results.published import default_published_dir, default_spaceomicsbench_dir

    return {"published_dir": default_published_dir(), "soma_dir": default_spaceomicsbench_dir()}


def _results_data_dir() -> str:
    from genebench_assets.defs.runtime.settings import GenebenchSettings

    return GenebenchSettings().data_dir


def _read_results(benchmark=None, task=None) -> list[dict]:
    from genebench_assets.science.results.commands import records
    from genebench_assets.science.results.record import RecordError

    try:
        return records(_results_data_dir(), benchmark, task)
    except RecordError as exc:
        raise UsageError(str(exc)) from None


def _catalog_light():
    from genebench_assets.science.osdr.study_catalog import CatalogError, load_catalog

    try:
        return load_catalog(os.environ.get("GENEBENCH_CATALOG") or None)
    except CatalogError as exc:
        raise UsageError(f"catalog: {exc}") from None


def cmd_list(args: argparse.Namespace) -> int:
    from genebench_assets.science.benchmarks.task_registry import TASK_FIELDS
    from genebench_assets.science.results import commands as rc

    if args.what == "tasks":
        rows, fields = rc.list_tasks(_catalog_light(), args.benchmark, **_results_dirs()), TASK_FIELDS
    elif args.what == "models":
        rows, fields = rc.list_models(args.benchmark, _read_results(args.benchmark)), rc.MODEL_FIELDS
    else:
        rows, fields = rc.list_results(_read_results(args.benchmark)), rc.RESULT_FIELDS
    print(rc.to_json(rows) if args.json else rc.render_rows(rows, fields))
    return 0


def cmd_results(args: argparse.Namespace) -> int:
    from genebench_assets.science.results import commands as rc
    from genebench_assets.science.results.leaderboard import leaderboard, render_table

    recs = _read_results(args.benchmark, args.task)
    rows = leaderboard(args.benchmark, args.task, recs, include_published=not args.no_published, **_results_dirs())
    if args.json:
        print(rc.to_json({"benchmark": args.benchmark, "task": args.task, "rows": rows}))
    elif not rows:
        print(f"no results for {args.benchmark} {args.task}: no record and no published file holds it")
    else:
        print(f"{args.benchmark} {args.task}: {len(recs)} record(s) beside the published baselines\n" + render_table(rows))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from genebench_assets.science.results import commands as rc
    from genebench_assets.science.results.report import render_report, write_report

    dirs = _results_dirs()
    data_dir = _results_data_dir()
    tasks = rc.list_tasks(_catalog_light(), None, **dirs)
    audits = sorted(str(p) for p in Path(data_dir).glob("**/leakage_audit.md"))[:20]
    html = render_report(_read_results(), tasks, data_dir=data_dir, audit_files=audits, **dirs)
    print(f"wrote {write_report(args.out, html)}")
    return 0


def cmd_cite(args: argparse.Namespace) -> int:
    from genebench_assets.science.results.commands import cite_text, to_json

    text, accessions = cite_text(_catalog_light(), args.task, args.benchmark)
    if args.benchmark == "genelab" and not accessions:
        catalog = _catalog_light()
        if args.task not in catalog.task_ids.values():
            from genebench_assets.science.benchmarks.task_registry import all_tasks

            known = [t.task for t in all_tasks(catalog, benchmark="genelab", **_results_dirs())]
            if args.task not in known:
                raise UsageError(f"--task {args.task!r:.40} is not a GeneLab task; known: {known}")
    print(to_json({"task": args.task, "benchmark": args.benchmark, "text": text, "accessions": accessions})
          if args.json else text)
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error in ONE line (`genebench evaluate: argument --n-bootstrap: ...`), exit 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {' '.join(message.split())}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="genebench", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    m = sub.add_parser("materialize", help="materialize the benchmark (default: embedded simulated demo)")
    m.add_argument("--tissue", action="append", type=tissue_arg, help="only this tissue (repeatable)")
    m.add_argument("--source", choices=["demo", "osdr", "mirror"], help="override GENEBENCH_SOURCE")
    m.add_argument("--protocol", choices=["strict", "seed"],
                   help="override GENEBENCH_PROTOCOL; each protocol's tissue tables are kept under tables/<protocol>/")
    m.add_argument("--model-spec", action="append", metavar="NAME=MODULE:FACTORY",
                   help="also run this model plug-in (repeatable; docs/models.md)")
    m.add_argument("--seeds", type=seed_list, metavar="42,43,...",
                   help="run every model's fits once per seed (default 42); the summary gives mean ± sd")
    m.add_argument("--nes", action="store_true",
                   help="also DESeq2 -> prerank NES -> NES conservation (slow: pydeseq2 fits every gene)")
    m.add_argument("--categories", action="store_true",
                   help="also Category B transfer (genes, pathways), negative controls NC1/NC2 and NES vs transfer")
    m.add_argument("--concurrent-runs", type=int, choices=range(1, 9), default=min(2, os.cpu_count() or 1), metavar="N",
                   help="runs at a time (default: 2, or 1 on one core); each run's model fits use the fit pool's workers")
    m.add_argument("--run-config", metavar="FILE", type=input_file("run_config"),
                   help="run every job on the executor this Dagster run config YAML selects (e.g. "
                        "deploy/dask/run_config.yaml); validated before anything runs")
    m.set_defaults(func=cmd_materialize)

    r = sub.add_parser("reproduce", help="reproduce published numbers")
    rsub = r.add_subparsers(dest="what", required=True)
    pl = rsub.add_parser("pathway-lomo", help="the published pathway-level LOMO (SPEC §7)")
    pl.add_argument("--release", required=True, type=existing_dir, help="the GeneLab benchmark release directory")
    pl.add_argument("--db", required=True, action="append", choices=["hallmark", "kegg", "reactome", "mitocarta", "all"],
                    help="gene-set collection; repeatable, or `all` for the four (one Dagster run for all of them)")
    pl.add_argument("--out", required=True, type=output_dir, help="where A{n}_pathway_{db}_results.json are written")
    pl.add_argument("--tissue", action="append", type=tissue_arg, help="only this tissue (repeatable)")
    pl.set_defaults(func=cmd_reproduce)
    rc = rsub.add_parser("categories", help="the published C (method C), D, J5 (pathway) and NES-vs-transfer files (issue 11)")
    rc.add_argument("--release", required=True, type=existing_dir, help="the GeneLab benchmark release directory")
    rc.add_argument("--out", required=True, type=output_dir, help="where the four published-layout JSON files are written")
    rc.set_defaults(func=cmd_reproduce_categories)
    ra = rsub.add_parser("analyses", help="pathway coefficients / SHAP per fold and multi_db_comparison.json (issue 21)")
    ra.add_argument("--release", required=True, type=existing_dir, help="the GeneLab benchmark release directory")
    ra.add_argument("--out", required=True, type=output_dir, help="where the published-layout JSON files are written")
    ra.set_defaults(func=cmd_reproduce_analyses)
    so = rsub.add_parser("spaceomicsbench", help="SpaceOmicsBench's 21 ML tasks x 7 baselines (SPEC §12, issue 12)")
    so.add_argument("--data", required=True, type=existing_dir, help="the SpaceOmicsBench directory (tasks/, splits/, data/)")
    so.add_argument("--protocol", required=True, choices=["seed", "strict"])
    so.add_argument("--out", required=True, type=output_dir, help="where baseline_results.json is written")
    so.add_argument("--task", action="append", type=task_id_arg, help="only this task (repeatable; the leaderboard needs all)")
    so.add_argument("--n-boot", type=positive_int, default=None, help="bootstrap draws per CI (default 200)")
    so.set_defaults(func=cmd_reproduce_spaceomicsbench)

    e = sub.add_parser("evaluate", help="validate and score a submission JSON (SPEC §7)")
    e.add_argument("--submission", help="a submission JSON (or --embeddings)")
    e.add_argument("--embeddings", metavar="FILE.parquet",
                   help="one embedding row per sample id: a linear probe through the materialized folds (issue 20)")
    e.add_argument("--published", type=existing_dir,
                   help="with --embeddings: folder of geneformer_mouse_gf_<task>_lomo_results.json (default: shared data)")
    e.add_argument("--task", required=True, type=task_id_arg, help="A1 .. A6, or B1 .. B6 (pair_{TRAIN}_{TEST} folds)")
    e.add_argument("--n-bootstrap", type=positive_int, default=None, help="bootstrap draws per fold (default 2000)")
    e.add_argument("--n-permutations", type=positive_int, default=None, help="permutations per fold (default 1000)")
    e.add_argument("--release", type=existing_dir, help="score against the published release's folds")
    e.add_argument("--json", action="store_true", help="machine-readable output")
    e.add_argument("--max-bytes", type=positive_int, default=None,
                   help="largest submission file read, in bytes (default 50 MB)")
    e.add_argument("--benchmark", choices=["genelab", "spaceomicsbench"], default="genelab")
    e.add_argument("--data", type=existing_dir, help="with --benchmark spaceomicsbench: its directory (tasks/, splits/, data/)")
    e.add_argument("--protocol", choices=["seed", "strict"], default="strict",
                   help="with --benchmark spaceomicsbench: whose rows and folds to score against")
    e.set_defaults(func=cmd_evaluate)

    li = sub.add_parser("lineage", help="trace a reported AUROC to folds, features, code and raw files")
    li.add_argument("--task", required=True, type=task_id_arg)
    li.add_argument("--model", required=True)
    li.add_argument("--model-spec", action="append", metavar="NAME=MODULE:FACTORY",
                    help="a plug-in's name, as given to materialize (repeatable; or GENEBENCH_MODEL_SPECS / an entry point)")
    li.add_argument("--fold", help="a held-out mission, e.g. RR-6")
    li.add_argument("--features", help="feature set: genes or pathways")
    li.add_argument("--release", help="trace a `genebench reproduce` result instead")
    li.add_argument("--db", choices=["hallmark", "kegg", "reactome", "mitocarta"], help="with --release: the collection")
    li.add_argument("--json", action="store_true")
    li.set_defaults(func=cmd_lineage)
    x = sub.add_parser("export-folds", help="write materialized folds in the published release layout")
    x.add_argument("--out", required=True, type=output_dir)
    x.add_argument("--tissue", action="append", type=tissue_arg, help="only this tissue (repeatable)")
    x.add_argument("--features", action="store_true", help="also train_X.csv / test_X.csv (log2, selected genes)")
    x.set_defaults(func=cmd_export_folds)
    tk = sub.add_parser("export-tokens", help="per fold, Geneformer-style rank tokens (training-sample medians)")
    tk.add_argument("--task", required=True, type=task_id_arg, help="A1 .. A6")
    tk.add_argument("--out", required=True, type=output_dir, help="writes OUT/<task>/<fold_id>/tokens.parquet + manifest")
    tk.add_argument("--top-n", type=positive_int, default=2048, help="genes per sample (default 2048)")
    tk.set_defaults(func=cmd_export_tokens)

    llm = sub.add_parser("llm", help="SpaceOmicsBench LLM question bank")
    llm_sub = llm.add_subparsers(dest="what", required=True)
    lr = llm_sub.add_parser("replay", help="replay every stored, judged model run to the leaderboard (one Dagster run)")
    lr.add_argument("--out", type=output_dir, help="also write DIR/leaderboard.json (one entry per model)")
    lr.set_defaults(func=cmd_llm_replay)

    d = sub.add_parser("demo-publish", help="publish the demo's held-back study (a new thymus mission)")
    d.set_defaults(func=cmd_demo_publish)

    ls_ = sub.add_parser("list", help="tasks, models or stored results (docs/results.md)")
    ls_.add_argument("what", choices=["tasks", "models", "results"])
    ls_.add_argument("--benchmark", choices=["genelab", "spaceomicsbench", "llm"])
    ls_.add_argument("--json", action="store_true", help="stable JSON (keys documented in docs/results.md)")
    ls_.set_defaults(func=cmd_list)
    rs = sub.add_parser("results", help="a task's leaderboard: results records beside the published baselines")
    rs.add_argument("--task", required=True, type=task_id_arg)
    rs.add_argument("--benchmark", choices=["genelab", "spaceomicsbench", "llm"], default="genelab")
    rs.add_argument("--no-published", action="store_true", help="only the stored results records")
    rs.add_argument("--json", action="store_true")
    rs.set_defaults(func=cmd_results)
    rp = sub.add_parser("report", help="write DIR/index.html: tasks, leaderboards, ROC plots, seed vs strict")
    rp.add_argument("--out", required=True, type=output_dir)
    rp.set_defaults(func=cmd_report)
    ct = sub.add_parser("cite", help="the references and OSDR accessions behind a task")
    ct.add_argument("--task", required=True, type=task_id_arg)
    ct.add_argument("--benchmark", choices=["genelab", "spaceomicsbench"], default="genelab")
    ct.add_argument("--json", action="store_true")
    ct.set_defaults(func=cmd_cite)
    return p


def quiet_dagster_notices() -> None:
    """Dagster's BetaWarning / PreviewWarning about our own definitions are not for the user of a command:
    ignored by category, nothing else (other warnings and every error still show). The classes are
    `dagster.BetaWarning` / `dagster.PreviewWarning`, defined in `dagster_shared.utils.warnings`: imported
    from there they cost 30 ms instead of Dagster's 3 s, so refusals stay fast (test_cli_quiet.py checks
    they are the same classes)."""
    import warnings

    from dagster_shared.utils.warnings import BetaWarning, PreviewWarning

    for category in (BetaWarning, PreviewWarning):
        warnings.filterwarnings("ignore", category=category)


def main(argv: list[str] | None = None) -> int:
    quiet_dagster_notices()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"genebench {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
