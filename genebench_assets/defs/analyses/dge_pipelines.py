"""J2, the DGE pipeline comparison (issue 21), as assets on the gene-level sources (demo / live / mirror).
Science: ``science/analyses/dge_comparison.py`` (how the seed made the file, the two seed defects strict fixes).

- ``dge_pipeline_tables`` (per study, J2's nine studies): DESeq2 Wald (pydeseq2), edgeR QLF (edgepython) and
  limma voomWithQualityWeights (pylimma) Flight vs Ground on the study's raw counts, read through the study read
  gate (a study whose raw_counts or sample_metadata failed a blocking check is refused), per protocol's samples
  (seed: every Flight / Ground sample; strict: the QC-kept ones; computed once when they are the same);
- ``dge_pipeline_comparison`` (unpartitioned): reads those tables through the read gate and writes
  ``J2_dge_pipeline_comparison.json`` in the published layout for both protocols side by side
  (``tables/dge_pipeline_comparison/<protocol>/J2_dge_pipeline_comparison.json``).

Not in ``genebench materialize``: jobs ``dge_pipelines_job`` (per study) then ``dge_comparison_job``
(docs/analyses.md). edgepython and pylimma are GPL-3.0-or-later, genebench is MIT: they are the optional extra
``dge-pipelines``, and both assets fail in one line naming it when it is not installed."""

from datetime import datetime

import dagster as dg
import pandas as pd

from genebench_assets.defs.gating.read_gate import require_checked_inputs
from genebench_assets.defs.gating.study_partition import StudyPartition, absent_results
from genebench_assets.defs.gating.study_promotion import partition_key
from genebench_assets.defs.lineage.code_versions import code_version_of
from genebench_assets.defs.lineage.provenance import combined_version, frame_markdown, provenance_metadata
from genebench_assets.defs.runtime.partitions import study_partitions
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.defs.sources.assets import REAL_PAIRS_NOTE, raw_counts, sample_metadata
from genebench_assets.science.optional_extras import MissingExtra, require_extra
from genebench_assets.science.protocols import PROTOCOLS
from genebench_assets.science.storage.atomic_files import write_json
from genebench_assets.science.storage.table_store import TableStore

TABLES = "dge_pipeline_tables"
COMPARISON = "dge_pipeline_comparison"
NOT_IN_SCOPE = "not_in_j2_scope"  # the data version of a study J2 does not run


def require_dge_libraries(reader: str) -> None:
    """One line naming the optional extra when edgepython / pylimma are not installed (science/optional_extras.py)."""
    try:
        require_extra("dge-pipelines", reader)
    except MissingExtra as exc:
        raise dg.Failure(str(exc)) from None


def tables_version(store: TableStore, tissue: str, mission: str) -> str:
    """The data version of a study's dge_pipeline_tables: its manifest's sha256 (16 hex digits)."""
    return store.sha256(TABLES, tissue, mission, ext="json")[:16] if store.exists(TABLES, tissue, mission, ext="json") \
        else "none"


@dg.asset(
    code_version=code_version_of(__file__, "dge_pipeline_tables"),
    group_name="analyses",
    partitions_def=study_partitions,
    deps=[raw_counts, sample_metadata],
    description="Issue 21 (J2): DESeq2 Wald (pydeseq2), edgeR QLF (edgepython) and limma voomWithQualityWeights "
    "(pylimma), Flight vs Ground on the study's rounded raw counts (genes with >= 10 counts in >= the smaller group's "
    "size), per protocol: seed every Flight / Ground sample (the seed's J2 script), strict the QC-kept ones. J2's "
    "nine studies (liver 6, thymus 3); other studies are recorded as out of scope. Optional extra dge-pipelines."
    "\n\n" + REAL_PAIRS_NOTE,
)
def dge_pipeline_tables(context: dg.AssetExecutionContext, settings: GenebenchSettings):
    from genebench_assets.science.analyses import dge_comparison as j2

    reader = f"dge_pipeline_tables [{context.partition_key}]"
    require_dge_libraries(reader)
    study = StudyPartition.open(context, settings)
    if study is None:  # an absent pair: its explicit record, no table (partitions.py)
        yield from absent_results(context, settings)
        return
    if study.mission not in j2.SCOPE.get(study.tissue, ()):
        yield dg.MaterializeResult(data_version=dg.DataVersion(NOT_IN_SCOPE), metadata={
            "in_j2_scope": False, "j2_scope": ", ".join(f"{t} {m}" for t, ms in j2.SCOPE.items() for m in ms)})
        return
    counts, meta = study.read("raw_counts"), study.read("sample_metadata")  # the study read gate
    counts = counts.dropna(axis=0, how="any")
    manifest: dict = {"tissue": study.tissue, "mission": study.mission, "protocols": {}}
    computed: dict[tuple, dict[str, pd.DataFrame]] = {}
    shas, rows = [], []
    for protocol in PROTOCOLS:
        labels = j2.j2_labels(meta, counts.columns, protocol)
        key = tuple(labels.index)
        if key not in computed:
            try:
                computed[key] = j2.run_pipelines(counts, labels)
            except ValueError as exc:
                raise dg.Failure(f"{reader} ({protocol}): {exc}") from None
        entry = {"samples": list(key), "n_flight": int((labels == 1).sum()), "n_ground": int((labels == 0).sum()),
                 "tables": {}}
        for pipeline, table in computed[key].items():
            entry["tables"][pipeline] = study.write(table, TABLES, protocol, pipeline)
            shas.append(entry["tables"][pipeline])
            rows.append({"protocol": protocol, "pipeline": pipeline, "n_samples": len(key),
                         **j2.per_pipeline_entry(table)})
        manifest["protocols"][protocol] = entry
    seed_samples, strict_samples = (set(manifest["protocols"][p]["samples"]) for p in ("seed", "strict"))
    manifest["qc_excluded"] = sorted(seed_samples - strict_samples)
    manifest["simulated"] = any(f.get("source_mode") == "demo" for f in study.raw_files())
    _, sha = study.store.write_json(manifest, TABLES, study.tissue, study.mission)
    entry = j2.mission_entry(study.tissue, study.mission, computed[tuple(manifest["protocols"][settings.protocol]["samples"])])
    pairs = j2.for_protocol({study.tissue: {study.mission: entry}}, settings.protocol)[study.tissue][study.mission]
    concordance = pd.DataFrame([{k: c.get(k) for k in ("pair", "deg_jaccard_005", "top100_jaccard",
                                                       "log2fc_spearman_rho", "direction_concordance")}
                                for c in pairs["pairwise_comparisons"]]).set_index("pair")
    yield dg.MaterializeResult(
        data_version=dg.DataVersion(sha[:16]),
        metadata={
            "significant_genes": dg.MetadataValue.md(frame_markdown(pd.DataFrame(rows).set_index("protocol"))),
            f"concordance_{settings.protocol}": dg.MetadataValue.md(frame_markdown(concordance.round(3))),
            "qc_excluded_samples": ", ".join(manifest["qc_excluded"]) or "none (seed and strict run the same samples)",
            "simulated": manifest["simulated"], "sha256": sha, "tables_sha256": combined_version(shas),
            "sign_convention": "positive log2FC = higher in Flight",
            **study.provenance("raw_counts", "sample_metadata"),
        },
    )


def j2_studies(catalog) -> list[tuple[str, str]]:
    from genebench_assets.science.analyses.dge_comparison import SCOPE

    return [(t, m) for t, missions in SCOPE.items() for m in missions if catalog.has_pair(t, m)]


def read_tables(store: TableStore, tissue: str, mission: str, protocol: str) -> dict[str, pd.DataFrame]:
    """A study's three tables of the protocol, each the version its (gate-checked) manifest recorded."""
    from genebench_assets.science.analyses.dge_comparison import PIPELINES

    recorded = store.read_json(TABLES, tissue, mission)["protocols"][protocol]["tables"]
    for p in PIPELINES:
        on_disk = store.sha256(TABLES, protocol, p, tissue, mission)
        if on_disk != recorded.get(p):
            raise dg.Failure(f"dge_pipeline_comparison: {store.path(TABLES, protocol, p, tissue, mission)} (sha256 "
                             f"{on_disk[:12]}) is not the table dge_pipeline_tables [{mission}|{tissue}] recorded "
                             f"({str(recorded.get(p))[:12]}): re-materialize it")
    return {p: store.read_frame(TABLES, protocol, p, tissue, mission) for p in PIPELINES}


@dg.asset(
    code_version=code_version_of(__file__, "dge_pipeline_comparison"),
    group_name="analyses",
    deps=[dge_pipeline_tables],
    description="Issue 21 (J2): J2_dge_pipeline_comparison.json in the published layout, per protocol side by side: "
    "per study the three pipelines' significant genes (FDR < 0.05) and per pair DEG / top-100 / top-500 Jaccard, "
    "log2FC Spearman / Pearson and sign agreement; the summary pooled over studies and the seed's verdict. strict "
    "records the DEG Jaccard of two empty DEG lists as undefined (seed: 1.0). Reads dge_pipeline_tables of J2's "
    "studies in the catalog through the read gate. genelab_concordance: null (GeneLab's DGE tables are not read).",
)
def dge_pipeline_comparison(context: dg.AssetExecutionContext, settings: GenebenchSettings) -> dg.MaterializeResult:
    from genebench_assets.science.analyses import dge_comparison as j2

    require_dge_libraries("dge_pipeline_comparison")
    studies = j2_studies(settings.catalog())
    if not studies:
        raise dg.Failure("dge_pipeline_comparison: the catalog has none of J2's studies "
                         f"({', '.join(f'{t} {m}' for t, ms in j2.SCOPE.items() for m in ms)})")
    store = TableStore(settings.data_dir)
    versions = {(t, m): tables_version(store, t, m) for t, m in studies}
    require_checked_inputs(context, [(TABLES, partition_key(t, m), v) for (t, m), v in versions.items()])
    docs, files, shas = {}, {}, []
    stamp = datetime.now().isoformat()
    for protocol in PROTOCOLS:
        results: dict = {}
        for t, m in studies:
            results.setdefault(t, {})[m] = j2.mission_entry(t, m, read_tables(store, t, m, protocol))
        docs[protocol] = j2.document(j2.for_protocol(results, protocol))
        _, sha = store.write_json(docs[protocol], COMPARISON, protocol)  # versioned on content (no timestamp)
        shas.append(sha)
        files[protocol] = write_json({**docs[protocol], "timestamp": stamp},
                                     store.path(COMPARISON, protocol, j2.FILENAME.removesuffix(".json"), ext="json"),
                                     sort_keys=False, indent=2)
    doc = docs[settings.protocol]
    per_pipeline = pd.DataFrame({f"{t} {m}": {p: e["per_pipeline"][p]["n_deg_005"] for p in j2.PIPELINES}
                                 for t, missions in doc["results"].items() for m, e in missions.items()}).T
    side = pd.DataFrame({p: {"deg_jaccard_005 mean": d["summary"].get("deg_jaccard_005", {}).get("mean"),
                             "deg_jaccard_005 pairs": sum(c["deg_jaccard_005"] is not None for ms in d["results"].values()
                                                          for e in ms.values() for c in e["pairwise_comparisons"]),
                             "log2fc_spearman mean": d["summary"].get("log2fc_spearman", {}).get("mean"),
                             "verdict": d["verdict"]} for p, d in docs.items()})
    simulated = any(store.read_json(TABLES, t, m).get("simulated") for t, m in studies)
    upstream = [{"asset": TABLES, "partition": f"{t}|{m}", "data_version": v} for (t, m), v in versions.items()]
    return dg.MaterializeResult(
        data_version=dg.DataVersion(combined_version(shas)),
        metadata={"protocol": settings.protocol, "result_file": str(files[settings.protocol]),
                  **{f"result_file_{p}": str(f) for p, f in files.items()}, "simulated": simulated,
                  "n_studies": len(studies), "verdict": doc["verdict"],
                  "significant_genes_fdr_005": dg.MetadataValue.md(frame_markdown(per_pipeline)),
                  "concordance_summary": dg.MetadataValue.json(doc["summary"]),
                  "seed_vs_strict": dg.MetadataValue.md(frame_markdown(side)),
                  **provenance_metadata(upstream=upstream, raw_files=[], protocol=settings.protocol)},
    )

