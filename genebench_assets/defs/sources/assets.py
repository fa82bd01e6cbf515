"""Study catalog, raw counts and sample metadata, per (tissue, mission)."""


import pandas as pd

import dagster as dg

from genebench_assets.defs.lineage.code_versions import code_version_of
from genebench_assets.defs.runtime.partitions import CATALOG, real_pairs_markdown, study_partitions
from genebench_assets.defs.lineage.provenance import catalog_files, frame_markdown, provenance_metadata, raw_files_markdown
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.defs.sources.resources import OsdrSource
from genebench_assets.defs.gating.study_partition import StudyPartition, absent_results
from genebench_assets.science.osdr.catalog_additions import load_pending
from genebench_assets.science.storage.table_store import TableStore

REAL_PAIRS_NOTE = (
    "Partitioned by tissue x mission. Only the pairs in the catalog (below) are real studies. Every "
    "other pair is **absent**: it is materialized as an explicit record (data version `absent`, "
    "metadata `absent: (tissue, mission) is not a study in the catalog`, no table written), so "
    "\"Materialize all\" completes, and it is never counted as a study or as missing work.\n\n"
    + real_pairs_markdown(CATALOG)
)


@dg.asset(
    code_version=code_version_of(__file__, "osdr_catalog"),
    group_name="sources",
    description="The study catalog of SPEC §2 as data: every study with tissue, mission, accession, "
    "file prefix, special rules, expected counts; every excluded study with its reason. Registers "
    "the catalog's missions as dynamic partitions.",
)
def osdr_catalog(context: dg.AssetExecutionContext, settings: GenebenchSettings) -> dg.MaterializeResult:
    catalog = settings.catalog()
    missions = catalog.mission_names()
    known = set(context.instance.get_dynamic_partitions("mission"))
    new = [m for m in missions if m not in known]
    if new:
        context.instance.add_dynamic_partitions("mission", new)
        context.log.info(f"registered mission partitions: {new}")
    studies = pd.DataFrame([s.to_record() for s in catalog.studies])
    excluded = pd.DataFrame(
        [{"osd": e.osd, "reason": e.reason, "duplicates_of": ", ".join(e.duplicates_of)} for e in catalog.excluded]
    )
    pending = load_pending(settings.path())
    store = TableStore(settings.data_dir)
    _, sha = store.write_json(
        {
            "studies": studies.to_dict(orient="records"),
            "excluded": excluded.to_dict(orient="records"),
            "pending": pending,
            "source": catalog.source,
        },
        "osdr_catalog",
    )
    return dg.MaterializeResult(
        data_version=dg.DataVersion(sha[:16]),
        metadata={
            "n_studies": len(catalog.studies),
            "n_pairs": len(catalog.pairs()),
            "n_excluded": len(catalog.excluded),
            "n_pending": len(pending),
            "missions": dg.MetadataValue.json(missions),
            "real_pairs": dg.MetadataValue.md(real_pairs_markdown(catalog)),
            "excluded_studies": dg.MetadataValue.md(frame_markdown(excluded.set_index("osd")) if len(excluded)
                                                    else "no excluded studies"),
            "pending_studies": dg.MetadataValue.json(pending),
            "catalog_file": catalog.source,
            **provenance_metadata(upstream=[], raw_files=catalog_files(catalog.source, settings.path())),
            "sha256": sha,
        },
    )


@dg.asset(
    code_version=code_version_of(__file__, "raw_counts"),
    group_name="sources",
    partitions_def=study_partitions,
    deps=[osdr_catalog],
    description="Gene x sample counts of the study or studies of a (tissue, mission) pair, with the "
    "provenance of every raw file (accession, file name, URL or path, size, sha256).\n\n" + REAL_PAIRS_NOTE,
)
def raw_counts(context: dg.AssetExecutionContext, settings: GenebenchSettings, osdr_source: OsdrSource):
    from genebench_assets.science.osdr.parsing import assemble_pair

    part = StudyPartition.open(context, settings)
    if part is None:  # an absent pair: its explicit record, no table (partitions.py)
        yield from absent_results(context, settings)
        return
    tissue, mission, store = part.tissue, part.mission, part.store
    catalog = settings.catalog()
    studies = catalog.studies_for(tissue, mission)
    files_by_osd = {}
    for study in studies:
        context.log.info(f"fetching {study.osd} ({study.glds_prefix}) from source '{osdr_source.mode}'")
        files_by_osd[study.osd] = osdr_source.fetch_study(study, settings.data_dir, catalog)
        for f in files_by_osd[study.osd]:
            context.log.info(f"  {f.file_name}: {f.size} bytes, sha256 {f.sha256[:12]}…")
    counts, samples = assemble_pair(studies, files_by_osd)
    # Parquet drops DataFrame.attrs: keep the parser's reports (samples removed by a catalog filter,
    # fractional RSEM counts rounded) as JSON and in the metadata.
    dropped = dict(samples.attrs.get("dropped_samples", {}))
    parse_report = counts.attrs.get("parse_report") or counts.attrs.get("parse_reports", {})
    store.write_json({"dropped_samples": dropped, "parse_report": parse_report}, "raw_reports", tissue, mission)
    sha = part.write(counts, "raw_counts")
    part.write(samples, "raw_samples")
    raw_files = [f.provenance() for fs in files_by_osd.values() for f in fs]
    # Its sha256 goes in the metadata: promotion copies raw_files.json only as this version (study_promotion).
    _, raw_files_sha = store.write_json(raw_files, "raw_files", tissue, mission)
    yield dg.MaterializeResult(
        data_version=dg.DataVersion(sha[:16]),
        metadata={
            "n_genes": counts.shape[0],
            "n_samples": counts.shape[1],
            "studies": ", ".join(s.osd for s in studies),
            "source_mode": osdr_source.mode,
            "simulated": osdr_source.simulated,
            # whose counts were read (SPEC §3: RSEM by default, GENEBENCH_QUANTIFIER); also in raw_files
            "quantifier": ", ".join(sorted({f.quantifier for fs in files_by_osd.values() for f in fs if f.quantifier})),
            "n_dropped_by_catalog_filter": len(dropped),
            "dropped_by_catalog_filter": dg.MetadataValue.json(dict(list(dropped.items())[:200])),
            "parse_report": dg.MetadataValue.json(parse_report),
            "raw_files": dg.MetadataValue.md(raw_files_markdown(raw_files)),
            "sha256": sha,
            "raw_files_sha256": raw_files_sha,
            **provenance_metadata(upstream=[], raw_files=raw_files),
        },
    )


@dg.asset(
    code_version=code_version_of(__file__, "sample_metadata"),
    group_name="sources",
    partitions_def=study_partitions,
    deps=[raw_counts],
    description="Per sample: group (Flight / GC / VC / BC / AG) parsed from the file's group column "
    "(SPEC §3), binary label, strain parsed from the sample name, the QC flags of SPEC §4.2, and why "
    "any sample was excluded.\n\n" + REAL_PAIRS_NOTE,
)
def sample_metadata(context: dg.AssetExecutionContext, settings: GenebenchSettings):
    from genebench_assets.science.expression.normalization import log2_normalized
    from genebench_assets.science.expression.sample_qc import apply_qc, mission_eligibility, qc_flags

    study = StudyPartition.open(context, settings)
    if study is None:  # an absent pair: its explicit record, no table (partitions.py)
        yield from absent_results(context, settings)
        return
    counts, samples = study.read("raw_counts"), study.read("raw_samples")
    # QC is per study (SPEC §4.2): a pair may hold two studies (skin MHU-2).
    flags = []
    for osd, ids in samples.groupby("osd").groups.items():
        study_counts = counts[list(ids)].dropna(axis=0, how="any").astype("int64")
        # An empty library cannot be normalized; QC flags it (low library) instead of stopping the study.
        nonzero = study_counts.columns[study_counts.sum(axis=0) > 0]
        log2_expr, _ = log2_normalized(study_counts[nonzero], study=osd)
        flags.append(qc_flags(study_counts, log2_expr, samples.loc[list(ids)]))
    meta = apply_qc(samples, pd.concat(flags))
    eligibility = mission_eligibility(meta)
    sha = study.write(meta, "sample_metadata")
    binary = meta[~meta["excluded"].astype(bool) & meta["label"].notna()]
    excluded = meta[meta["excluded"].astype(bool)][["osd", "group", "strain", "exclusion_reason"]]
    yield dg.MaterializeResult(
        data_version=dg.DataVersion(sha[:16]),
        metadata={
            "n_samples": len(meta),
            "n_flight": int((binary["label"] == 1).sum()),
            "n_ground": int((binary["label"] == 0).sum()),
            "groups": dg.MetadataValue.json(meta["group"].value_counts().to_dict()),
            "strains": dg.MetadataValue.json(meta["strain"].fillna("unknown").value_counts().to_dict()),
            "n_excluded": len(excluded),
            "excluded_samples": dg.MetadataValue.md(frame_markdown(excluded) if len(excluded) else "none"),
            "eligibility": dg.MetadataValue.json(eligibility),
            "sha256": sha,
            **study.provenance("raw_counts"),
        },
    )
