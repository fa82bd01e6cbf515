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


def _instance():
    import dagster as dg

    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path.cwd() / ".dagster_home"))).resolve()
    os.environ["DAGSTER_HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").touch(exist_ok=True)
    return dg.DagsterInstance.get()


def _defs():
    from genebench_assets.definitions import defs

    return defs


def cmd_materialize(args: argparse.Namespace) -> int:
    """Materialize the catalog, every real study partition, then every tissue, in-process."""
    import dagster as dg

    from genebench_assets.defs.settings import GenebenchSettings

    if args.source:
        os.environ["GENEBENCH_SOURCE"] = args.source
    t0 = time.perf_counter()
    instance = _instance()
    defs = _defs()
    catalog = GenebenchSettings().catalog()
    tissues = args.tissue or list(catalog.tissues)
    failures: list[str] = []

    def run(job: str, partition=None, label: str = "") -> bool:
        t = time.perf_counter()
        result = defs.resolve_job_def(job).execute_in_process(
            instance=instance, partition_key=partition, raise_on_error=False)
        ok = result.success
        print(f"  {'ok ' if ok else 'FAILED'} {job:12s} {label:28s} {time.perf_counter() - t:6.1f}s", flush=True)
        if not ok:
            for ev in result.all_events:
                if ev.is_failure or ev.event_type_value == "ASSET_CHECK_EVALUATION" and not getattr(
                        ev.event_specific_data, "passed", True):
                    print(f"      {ev.message}", flush=True)
            failures.append(f"{job} {label}")
        return ok

    print(f"genebench: materializing into {GenebenchSettings().data_dir} (DAGSTER_HOME={os.environ['DAGSTER_HOME']})")
    if not run("catalog_job", None, "catalog + gene sets"):
        return 1
    for tissue in tissues:
        for t, m in catalog.pairs():
            if t == tissue:
                run("study_job", dg.MultiPartitionKey({"tissue": t, "mission": m}), f"{t} {m}")
    for tissue in tissues:
        run("tissue_job", tissue, tissue)
    if args.nes:
        for tissue in tissues:
            for t, m in catalog.pairs():
                if t == tissue:
                    run("nes_study_job", dg.MultiPartitionKey({"tissue": t, "mission": m}), f"{t} {m}")
            run("nes_tissue_job", tissue, tissue)
    print(f"done in {time.perf_counter() - t0:.1f}s; {len(failures)} failed" + (f": {failures}" if failures else ""))
    return 1 if failures else 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from genebench_assets.defs.release.reproduce import reproduce_pathway_lomo

    return reproduce_pathway_lomo(_instance(), _defs(), release=Path(args.release), db=args.db,
                                  out=Path(args.out), tissues=args.tissue)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from genebench_assets.defs.release.evaluate_submission import evaluate_submission_cli

    return evaluate_submission_cli(args)


def cmd_lineage(args: argparse.Namespace) -> int:
    from genebench_assets.defs.lineage import lineage_from_instance, render_lineage_text
    from genebench_assets.science.osdr.study_catalog import load_catalog

    task_to_tissue = {v: k for k, v in load_catalog().task_ids.items()}
    if args.task not in task_to_tissue:
        print(f"genebench lineage: unknown task {args.task!r}; known: {sorted(task_to_tissue)}", file=sys.stderr)
        return 2
    tissue = task_to_tissue[args.task]
    fold = None
    if args.fold:
        fold = args.fold if args.fold.startswith("fold_") else f"fold_{args.fold}_test"
    asset = "evaluation_summary"
    if args.release:
        asset = "release_evaluation"
        tissue = f"{tissue}|{args.db}" if args.db else tissue
    try:
        chain = lineage_from_instance(_instance(), tissue=tissue, model=args.model, fold=fold,
                                      feature_set=args.features, evaluation_asset=asset)
    except LookupError as exc:
        print(f"genebench lineage: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(chain, indent=1, default=str) if args.json else render_lineage_text(chain))
    return 0


def cmd_export_folds(args: argparse.Namespace) -> int:
    """Write materialized LOMO folds in the published release layout (SPEC §5), for outside users."""
    from genebench_assets.defs.settings import GenebenchSettings
    from genebench_assets.defs.tissue_inputs import load_tissue
    from genebench_assets.science.tasks.folds import Fold, export_release_layout
    from genebench_assets.science.storage.table_store import TableNotFoundError, TableStore

    settings = GenebenchSettings()
    store = TableStore(settings.data_dir)
    catalog = settings.catalog()
    for tissue in args.tissue or list(catalog.tissues):
        try:
            folds = [Fold.from_dict(d) for d in store.read_json("lomo_folds", tissue)]
        except TableNotFoundError as exc:
            print(f"genebench export-folds: {exc}; run `genebench materialize --tissue {tissue}` first", file=sys.stderr)
            return 1
        data = load_tissue(store, catalog, tissue)
        out = export_release_layout(folds, data.expression, data.metadata, Path(args.out),
                                    write_features=args.features)
        print(f"{tissue}: {len(folds)} folds -> {out}")
    return 0


def cmd_demo_publish(args: argparse.Namespace) -> int:
    """Publish the demo's held-back study, so the refresh sensor finds a new mission on its next tick."""
    from genebench_assets.defs.settings import GenebenchSettings
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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="genebench", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    m = sub.add_parser("materialize", help="materialize the benchmark (default: embedded simulated demo)")
    m.add_argument("--tissue", action="append", help="only this tissue (repeatable)")
    m.add_argument("--source", choices=["demo", "osdr", "mirror"], help="override GENEBENCH_SOURCE")
    m.add_argument("--nes", action="store_true",
                   help="also DESeq2 -> prerank NES -> NES conservation (slow: pydeseq2 fits every gene)")
    m.set_defaults(func=cmd_materialize)

    r = sub.add_parser("reproduce", help="reproduce published numbers")
    rsub = r.add_subparsers(dest="what", required=True)
    pl = rsub.add_parser("pathway-lomo", help="the published pathway-level LOMO (SPEC §7)")
    pl.add_argument("--release", required=True, help="the GeneLab benchmark release directory")
    pl.add_argument("--db", required=True, choices=["hallmark", "kegg", "reactome", "mitocarta"])
    pl.add_argument("--out", required=True, help="where A{n}_pathway_{db}_results.json are written")
    pl.add_argument("--tissue", action="append", help="only this tissue (repeatable)")
    pl.set_defaults(func=cmd_reproduce)

    e = sub.add_parser("evaluate", help="validate and score a submission JSON (SPEC §7)")
    e.add_argument("--submission", required=True)
    e.add_argument("--task", required=True, help="A1 .. A6")
    e.add_argument("--release", help="score against the published release's folds")
    e.add_argument("--json", action="store_true", help="machine-readable output")
    e.set_defaults(func=cmd_evaluate)

    li = sub.add_parser("lineage", help="trace a reported AUROC to folds, features, code and raw files")
    li.add_argument("--task", required=True)
    li.add_argument("--model", required=True)
    li.add_argument("--fold", help="a held-out mission, e.g. RR-6")
    li.add_argument("--features", help="feature set: genes or pathways")
    li.add_argument("--release", help="trace a `genebench reproduce` result instead")
    li.add_argument("--db", help="with --release: the collection")
    li.add_argument("--json", action="store_true")
    li.set_defaults(func=cmd_lineage)
    x = sub.add_parser("export-folds", help="write materialized folds in the published release layout")
    x.add_argument("--out", required=True)
    x.add_argument("--tissue", action="append", help="only this tissue (repeatable)")
    x.add_argument("--features", action="store_true", help="also train_X.csv / test_X.csv (log2, selected genes)")
    x.set_defaults(func=cmd_export_folds)

    d = sub.add_parser("demo-publish", help="publish the demo's held-back study (a new thymus mission)")
    d.set_defaults(func=cmd_demo_publish)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
