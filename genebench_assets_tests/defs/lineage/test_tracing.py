"""Lineage with no gaps (issue 9), on the real graph over the demo (gastrocnemius, three missions,
gene and pathway features, DESeq2 -> NES), in a persistent Dagster instance:

1. every asset reads only tables of assets it declares (TableStore and gene-set file reads recorded
   per running asset);
2. a change to one science function's source marks exactly its downstream stale, in Dagster's own
   staleness (the code location reloaded from a modified copy, against the same instance);
3. every asset records a data version and provenance, and `genebench lineage` of a pathway-feature
   AUROC reaches the gene-set file's sha256 and the normalized-expression versions GSVA read."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import dagster as dg
import pytest

from genebench_assets.definitions import defs
from genebench_assets.defs.lineage.tracing import lineage_from_instance, render_lineage_text
from genebench_assets.science.storage.atomic_files import sha256_file
from genebench_assets.science.storage.table_store import TableStore
from genebench_assets_tests.defs.demo_graph import DemoGraph

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[3]
TISSUE, MISSIONS = "gastrocnemius", ["RR-1", "RR-5", "RR-9"]
STUDY_ASSETS = ["raw_counts", "sample_metadata", "normalized_expression", "pathway_scores"]
# DESeq2 and prerank GSEA (1000 permutations) are slow: one study is enough to see their lineage.
NES_ASSETS, NES_MISSION = ["differential_expression", "pathway_nes"], "RR-9"
TISSUE_ASSETS = ["lomo_folds", "model_predictions", "evaluation_summary", "nes_conservation"]
GLOBAL_ASSETS = ["osdr_catalog", "gene_sets"]


class ReadRecorder:
    """Which store tables (by file) each running asset reads and writes, and which gene-set files it
    parses. The running asset comes from Dagster's current execution context (in-process runs)."""

    def __init__(self):
        self.reads: dict[str, set[tuple[str, Path]]] = defaultdict(set)
        self.writer_of: dict[Path, str] = {}

    @staticmethod
    def current_asset() -> str | None:
        try:
            ctx = dg.AssetExecutionContext.get()
        except Exception:  # an asset check or no run: not an asset's read
            return None
        return ctx.asset_key.to_user_string()

    def install(self, monkeypatch):
        from genebench_assets.science.pathways import gene_sets

        recorder = self
        for name in ("read_frame", "read_json", "sha256", "exists"):
            original = getattr(TableStore, name)

            def wrapped(store, asset, *parts, _original=original, _name=name, **kw):
                ext = kw.get("ext", "json" if _name == "read_json" else "parquet")
                who = recorder.current_asset()
                if who:
                    recorder.reads[who].add((asset, store.path(asset, *parts, ext=ext)))
                return _original(store, asset, *parts, **kw)

            monkeypatch.setattr(TableStore, name, wrapped)
        # Promoted study snapshots (tables/_promoted/...): a promoted file is the study's table.
        if hasattr(TableStore, "promote"):
            original_promote = TableStore.promote

            def promote(store, tissue, mission, expected, *a, **kw):
                if who := recorder.current_asset():
                    for table, ext in expected:
                        recorder.reads[who].add((table, store.path(table, tissue, mission, ext=ext)))
                return original_promote(store, tissue, mission, expected, *a, **kw)

            monkeypatch.setattr(TableStore, "promote", promote)
            for name, ext in (("read_promoted_frame", "parquet"), ("read_promoted_json", "json")):
                original = getattr(TableStore, name)

                def read_promoted(store, version, table, _original=original, _ext=ext):
                    if who := recorder.current_asset():
                        recorder.reads[who].add((table, store.path(table, version.tissue, version.mission, ext=_ext)))
                    return _original(store, version, table)

                monkeypatch.setattr(TableStore, name, read_promoted)
        for name in ("write_frame", "write_json"):
            original = getattr(TableStore, name)

            def wrapped_write(store, obj, asset, *parts, _original=original):
                target, sha = _original(store, obj, asset, *parts)
                if who := recorder.current_asset():
                    recorder.writer_of[Path(target)] = who
                return target, sha

            monkeypatch.setattr(TableStore, name, wrapped_write)
        for name in ("read_gmt", "read_symbol_map"):
            original = getattr(gene_sets, name)

            def wrapped_gs(path, *a, _original=original, **kw):
                if who := recorder.current_asset():
                    recorder.reads[who].add(("gene_sets", Path(path)))
                return _original(path, *a, **kw)

            monkeypatch.setattr(gene_sets, name, wrapped_gs)

    def read_assets(self, asset: str) -> dict[str, set[str]]:
        """{upstream asset: tables read} for one asset: a file maps to the asset that wrote it in
        this run, else (a file looked for but absent) to the asset the table is named after."""
        out: dict[str, set[str]] = defaultdict(set)
        for table, path in self.reads.get(asset, ()):
            out[self.writer_of.get(path, table)].add(table)
        out.pop(asset, None)
        return dict(out)


def undeclared_reads(recorder: ReadRecorder, parents: dict[str, set[str]]) -> dict[str, dict[str, set[str]]]:
    problems = {}
    for asset in parents:
        extra = {up: tables for up, tables in recorder.read_assets(asset).items() if up not in parents[asset]}
        if extra:
            problems[asset] = extra
    return problems


def declared_parents(definitions: dg.Definitions) -> dict[str, set[str]]:
    graph = definitions.resolve_asset_graph()
    return {k.to_user_string(): {p.to_user_string() for p in graph.get(k).parent_keys}
            for k in graph.materializable_asset_keys}


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    yield from build_graph(tmp_path_factory.mktemp("lineage"))


def build_graph(root: Path):
    mp = pytest.MonkeyPatch()
    g = DemoGraph(root / "data", models=("lr", "negative_control"), feature_sets=("genes", "pathways"))
    g.home = root / "dagster_home"
    g.home.mkdir()
    g.instance = dg.DagsterInstance.local_temp(str(g.home))
    g.recorder = ReadRecorder()
    g.recorder.install(mp)

    def run(keys, partition_key=None):
        # With their checks: a study's readers read only what passed its blocking checks.
        result = g.run(keys, partition_key)
        assert result.success, [e.message for e in result.all_events if e.is_failure]
        return result

    run(GLOBAL_ASSETS)
    for m in MISSIONS:
        run(STUDY_ASSETS + (NES_ASSETS if m == NES_MISSION else []), dg.MultiPartitionKey({"tissue": TISSUE, "mission": m}))
    run(TISSUE_ASSETS, TISSUE)
    mp.undo()
    g.instance_dir = g.home
    yield g
    g.instance.dispose()


# -- 1. every asset declares every asset it reads -------------------------------------------------

def test_every_asset_reads_only_what_it_declares(graph):
    parents = declared_parents(defs)
    exercised = set(graph.recorder.reads)
    assert set(STUDY_ASSETS + NES_ASSETS + TISSUE_ASSETS + ["gene_sets"]) <= exercised | {"raw_counts"}
    assert undeclared_reads(graph.recorder, parents) == {}
    # Not vacuous: the reads that were missing before (issue 9) are seen.
    reads = graph.recorder.read_assets("model_predictions")
    assert {"lomo_folds", "normalized_expression", "sample_metadata", "raw_counts"} <= set(reads)
    assert "raw_files" in reads["raw_counts"]  # a side table maps to the asset that wrote it
    # Pathway fold features are built at the tasks stage: lomo_folds reads the gene sets, and the
    # models read the matrices lomo_folds wrote, not the gene sets.
    assert "lomo_fold_features" in reads["lomo_folds"]
    assert "gene_sets" in graph.recorder.read_assets("lomo_folds") and "gene_sets" not in reads


def test_the_audit_fails_on_the_old_declarations(graph):
    """Planted gap: model_predictions declared only lomo_folds, as before issue 9."""
    parents = declared_parents(defs)
    parents["model_predictions"] = {"lomo_folds"}
    parents["lomo_folds"] -= {"gene_sets"}  # and lomo_folds without the gene sets its pathway features read
    problems = undeclared_reads(graph.recorder, parents)
    assert set(problems) == {"model_predictions", "lomo_folds"}
    assert {"normalized_expression", "sample_metadata", "raw_counts"} <= set(problems["model_predictions"])
    assert set(problems["lomo_folds"]) == {"gene_sets"}


def test_release_assets_read_only_what_they_declare(tmp_path, monkeypatch):
    """The release source mode (published GeneLab files) on one (tissue, collection)."""
    from genebench_assets.defs.release.resources import ReleaseSettings
    from genebench_assets.defs.runtime.settings import GenebenchSettings
    from genebench_assets_tests.conftest import shared_path

    release = shared_path("genelab_release")
    recorder = ReadRecorder()
    recorder.install(monkeypatch)
    keys = ["release_fold_features", "release_predictions", "release_evaluation"]
    result = dg.materialize(
        defs.assets, selection=[dg.AssetKey(k) for k in keys],
        partition_key=dg.MultiPartitionKey({"tissue": "eye", "collection": "hallmark"}),
        instance=dg.DagsterInstance.ephemeral(),
        resources={**defs.resources, "settings": GenebenchSettings(data_dir=str(tmp_path)),
                   "release_settings": ReleaseSettings(release_dir=str(release), out_dir=str(tmp_path / "out"))})
    assert result.success
    assert undeclared_reads(recorder, declared_parents(defs)) == {}
    assert set(recorder.read_assets("release_evaluation")) == {"release_predictions", "release_fold_features"}


# -- 2. code versions: a science change marks exactly its downstream stale ------------------------

STALE_SCRIPT = r"""
import json, sys
from pathlib import Path

import dagster as dg
from dagster._core.instance.ref import InstanceRef

import genebench_assets
from genebench_assets.definitions import defs
from genebench_assets.defs.lineage.tracing import stale_partitions
from genebench_assets_tests.defs.demo_graph import DemoGraph


def main():
    home, data_dir, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(home))
    history = [stale_partitions(instance, defs)]
    for _ in range(rounds):  # "materialize stale", as a user would in the UI, then look again
        g = DemoGraph(Path(data_dir), models=("lr", "negative_control"), feature_sets=("genes", "pathways"))
        g.instance = instance
        stale = [(asset, part) for asset, parts in history[-1].items() for part, st in parts.items() if st == "STALE"]
        for part in sorted({p for _, p in stale}):
            keys = sorted(a for a, p in stale if p == part)
            result = g.run(keys, part or None)  # a tissue, or a study's multi-partition key string
            assert result.success, [e.message for e in result.all_events if e.is_failure]
        history.append(stale_partitions(instance, defs))
    print(json.dumps({"package": genebench_assets.__file__, "history": history}))


if __name__ == "__main__":  # the model fits run in worker processes that re-import __main__
    main()
"""


def stale_after(graph, tmp_path, edit=None, rounds: int = 0) -> list[dict[str, set[str]]]:
    """Load the code location from a copy of the package (with `edit` applied to its source) in a
    new process, as the webserver would after a deploy; return {asset: statuses} against the
    instance the demo graph materialized into, then again after each round of materializing
    exactly the stale partitions with the new code."""
    copy = tmp_path / "code"
    shutil.copytree(REPO / "genebench_assets", copy / "genebench_assets",
                    ignore=shutil.ignore_patterns("__pycache__"))
    if edit:
        path, old, new = edit
        target = copy / "genebench_assets" / path
        text = target.read_text()
        assert text.count(old) == 1, f"{path}: anchor {old!r} not found once"
        target.write_text(text.replace(old, new))
    script = tmp_path / "stale_status.py"
    script.write_text(STALE_SCRIPT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(copy), str(REPO)]), "DAGSTER_HOME": str(graph.instance_dir)}
    proc = subprocess.run([sys.executable, str(script), str(graph.instance_dir), str(graph.data_dir), str(rounds)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["package"].startswith(str(copy)), out["package"]  # the modified copy, not the repo
    return [{asset: set(parts.values()) for asset, parts in status.items()} for status in out["history"]]


def stale_set(status: dict[str, set[str]]) -> set[str]:
    return {a for a, s in status.items() if "STALE" in s}


def test_unchanged_code_leaves_everything_fresh(graph, tmp_path):
    [status] = stale_after(graph, tmp_path)
    assert set(GLOBAL_ASSETS + STUDY_ASSETS + NES_ASSETS + TISSUE_ASSETS) <= set(status)
    assert stale_set(status) == set(), status


def test_a_change_off_the_auroc_path_leaves_the_auroc_fresh(graph, tmp_path):
    """DESeq2 Flight vs Ground feeds NES only: Dagster marks its asset stale (code version), and
    nothing else: no fold, prediction or evaluation."""
    [status] = stale_after(graph, tmp_path, ("science/expression/differential_expression.py",
                                             "    return res.replace([np.inf, -np.inf], np.nan)\n",
                                             "    res = res.copy()\n    return res.replace([np.inf, -np.inf], np.nan)\n"))
    assert stale_set(status) == {"differential_expression"}, status


# -- 3. data versions, provenance, and the lineage of a pathway AUROC ---------------------------

def test_every_asset_has_a_data_version_and_provenance(graph):
    for asset in GLOBAL_ASSETS + STUDY_ASSETS + NES_ASSETS + TISSUE_ASSETS:
        records = graph.instance.fetch_materializations(dg.AssetKey(asset), limit=10).records
        assert records, asset
        for r in records:
            mat = r.asset_materialization
            assert (mat.tags or {}).get("dagster/data_version"), asset
            assert "provenance" in (mat.metadata or {}), asset
            assert mat.tags.get("dagster/code_version"), asset
            # the provenance names the derived code version the table was made with
            assert mat.metadata["provenance"].value["code_version"] == mat.tags["dagster/code_version"], asset


def test_lineage_of_a_pathway_auroc_reaches_gene_set_files_and_gsva_inputs(graph):
    store = graph.settings.table_store()
    chain = lineage_from_instance(graph.instance, tissue=TISSUE, model="lr", feature_set="pathways")
    assert chain["evaluation"]["metrics"] and all(k.startswith("auroc_pathways_") for k in chain["evaluation"]["metrics"])
    gmt = graph.source.demo_root(graph.data_dir) / "gene_sets" / "demo_pathways.gmt"
    pathways = chain["feature_inputs"]["pathways"]
    assert {f["file_name"]: f["sha256"] for f in pathways["gene_set_files"]}[gmt.name] == sha256_file(gmt)
    assert {f["sha256"] for f in chain["gene_set_files"]} >= {sha256_file(gmt)}
    used = {u["partition"]: u["data_version"] for u in pathways["gsva_inputs"]}
    assert used == {f"{TISSUE}|{m}": store.sha256("normalized_expression", TISSUE, m)[:16] for m in MISSIONS}
    assert "training samples" in pathways["gsva_fitted"]
    assert {"gene_sets", "normalized_expression", "lomo_folds", "model_predictions"} <= {s["asset"] for s in chain["steps"]}
    text = render_lineage_text(chain)
    assert sha256_file(gmt) in text and "pathways features computed from" in text


def test_genebench_lineage_command_prints_the_pathway_chain(graph, monkeypatch, capsys):
    from genebench_assets import cli

    monkeypatch.setenv("DAGSTER_HOME", str(graph.instance_dir))
    monkeypatch.setenv("GENEBENCH_DATA_DIR", str(graph.data_dir))
    assert cli.main(["lineage", "--task", "A2", "--model", "lr", "--features", "pathways", "--json"]) == 0
    chain = json.loads(capsys.readouterr().out)
    gmt = graph.source.demo_root(graph.data_dir) / "gene_sets" / "demo_pathways.gmt"
    assert sha256_file(gmt) in json.dumps(chain["feature_inputs"])
    assert chain["protocol"] == "strict"


# Runs last in this module: it re-materializes part of the shared graph with the changed code.
def test_a_science_change_marks_exactly_its_downstream_stale(graph, tmp_path):
    """Change the GSVA walk (scores rounded to 3 decimals). Dagster marks stale the assets that can call
    it: lomo_folds (which builds the pathway fold features: GSVA inside each fold), not per-study
    pathway_scores (gseapy's GSVA, another function of the same module), not model_predictions,
    which only reads those features and fits. Dagster 1.13 does not
    propagate staleness transitively (its CachingStaleStatusResolver compares an asset's recorded
    provenance with its own code version and its parents' *recorded* data versions; a stale parent that
    has not re-run has no new data version): each materialization of the stale set changes its data
    version, which marks the next hop stale - model_predictions and evaluation_summary (which reads
    lomo_folds too) - and then everything is fresh. The union is exactly the change's downstream; raw data, expression, DE and NES
    are never stale."""
    history = stale_after(graph, tmp_path, ("science/pathways/pathway_scoring.py",
                                            "        es[s] = np.maximum(peak, 0.0) + np.minimum(trough, 0.0)\n    return es",
                                            "        es[s] = np.maximum(peak, 0.0) + np.minimum(trough, 0.0)\n"
                                            "    return np.round(es, 3)"), rounds=2)
    stale = [stale_set(s) for s in history]
    assert stale == [{"lomo_folds"}, {"model_predictions", "evaluation_summary"}, set()], history
    never = set(GLOBAL_ASSETS + STUDY_ASSETS + NES_ASSETS + TISSUE_ASSETS) - set().union(*stale)
    assert never == {"osdr_catalog", "gene_sets", "raw_counts", "sample_metadata", "normalized_expression",
                     "pathway_scores", "differential_expression", "pathway_nes", "nes_conservation"}
