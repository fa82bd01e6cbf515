"""Pathway scores per study (GSVA, seed protocol: per mission), DESeq2 Wald statistics, prerank NES,
and NES conservation across missions (SPEC §8, §9)."""


import dagster as dg
import pandas as pd

from genebench_assets.defs.lineage.code_versions import code_version_of
from genebench_assets.defs.expression.assets import normalized_expression
from genebench_assets.defs.runtime.partitions import by_tissue, study_partitions, study_rollup_condition, tissue_partitions
from genebench_assets.defs.pathways.resources import GeneSetSettings
from genebench_assets.defs.lineage.provenance import (
    combined_version, file_record, frame_markdown, gene_sets_upstream, provenance_metadata)
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.defs.sources.assets import REAL_PAIRS_NOTE, osdr_catalog, raw_counts, sample_metadata
from genebench_assets.defs.gating.study_partition import StudyPartition, absent_results
from genebench_assets.defs.sources.resources import OsdrSource
from genebench_assets.science.storage.table_store import TableStore


def load_gene_sets(settings: GenebenchSettings, gene_set_settings: GeneSetSettings, source: OsdrSource):
    from genebench_assets.science.pathways.gene_sets import read_gmt, read_symbol_map

    demo_root = source.demo_root(settings.data_dir)
    collections, symbol_map_path = gene_set_settings.resolve(source.mode, demo_root)
    return {name: read_gmt(path) for name, path in collections.items()}, read_symbol_map(symbol_map_path), collections


def symbol_expression(expr: pd.DataFrame, symbol_map: pd.Series, variance_samples=None) -> pd.DataFrame:
    from genebench_assets.science.pathways.gene_sets import map_ensembl_to_symbols

    by_symbol, _ = map_ensembl_to_symbols(expr.dropna(axis=0, how="any"), symbol_map,
                                          variance_samples=variance_samples)
    return by_symbol


METHODS = {
    "gsva": "GSVA, Gaussian kernel on log2 expression",
    "gsva_poisson": "GSVA, Poisson kernel on rounded normalized counts",
    "ssgsea": "ssGSEA (R's algorithm, normalized by the range)",
}


def _score(by_symbol: pd.DataFrame, gs, method: str, gs_settings) -> pd.DataFrame:
    from genebench_assets.science.pathways.pathway_scoring import score_pathways

    sizes = {"min_size": gs_settings.min_size, "max_size": gs_settings.max_size}
    if method == "gsva":
        return score_pathways(by_symbol, gs, method="gsva", kcdf="Gaussian", **sizes)
    if method == "gsva_poisson":
        counts = (2.0 ** by_symbol - 1.0).round()  # back from log2(x + 1) to normalized counts
        return score_pathways(counts, gs, method="gsva", kcdf="Poisson", **sizes)
    if method == "ssgsea":
        return score_pathways(by_symbol, gs, method="ssgsea", **sizes)
    raise dg.Failure(f"unknown pathway method {method!r}; known: {sorted(METHODS)} (GENEBENCH_PATHWAY_METHODS)")


@dg.asset(
    code_version=code_version_of(__file__, "gene_sets"),
    group_name="pathways",
    deps=[osdr_catalog],
    description="Gene-set collections (GMT) and the Ensembl -> symbol map they are used with. Demo: the "
    "simulator's synthetic sets; real data: mouse Hallmark and MitoCarta (KEGG / Reactome when configured).",
)
def gene_sets(context, settings: GenebenchSettings, gene_set_settings: GeneSetSettings,
              osdr_source: OsdrSource) -> dg.MaterializeResult:
    if osdr_source.mode == "demo":
        osdr_source.ensure_demo(settings.data_dir, settings.catalog())
    sets, symbol_map, paths = load_gene_sets(settings, gene_set_settings, osdr_source)
    from genebench_assets.science.storage.atomic_files import sha256_file

    store = TableStore(settings.data_dir)
    _, sets_sha = store.write_json({k: v for k, v in sets.items()}, "gene_sets")
    _, symbol_map_path = gene_set_settings.resolve(osdr_source.mode, osdr_source.demo_root(settings.data_dir))
    files = [file_record(f"gene sets: {k}", path, f"gene_sets ({osdr_source.mode})") for k, path in paths.items()]
    files.append(file_record("gene sets: symbol map", symbol_map_path, f"gene_sets ({osdr_source.mode})"))
    # The manifest's sha256 is the data version: it changes when any GMT file, the symbol map or
    # the parsed sets change, so every pathway number downstream follows the files it was made from.
    _, sha = store.write_json({"files": files, "sets_sha256": sets_sha}, GENE_SET_FILES)
    summary = pd.DataFrame(
        [{"collection": k, "n_sets": len(v), "n_genes": len({g for s in v.values() for g in s}),
          "file": str(paths[k]), "sha256": sha256_file(paths[k])[:16]} for k, v in sets.items()]
    ).set_index("collection")
    return dg.MaterializeResult(
        data_version=dg.DataVersion(sha[:16]),
        metadata={"collections": dg.MetadataValue.md(frame_markdown(summary)),
                  "n_symbols_mapped": int(symbol_map.size), "sha256": sha,
                  **provenance_metadata(upstream=[], raw_files=files)},
    )


GENE_SET_FILES = "gene_set_files"  # the gene_sets asset's manifest: every file it read, with sha256


@dg.asset(
    code_version=code_version_of(__file__, "pathway_scores"),
    group_name="pathways",
    partitions_def=study_partitions,
    deps=[normalized_expression, sample_metadata, gene_sets, raw_counts],
    description="Pathway scores per collection (min size 15, max size 500): GSVA with the Gaussian kernel on "
    "log2 expression by default; GSVA with the Poisson kernel and ssGSEA when listed in "
    "GENEBENCH_PATHWAY_METHODS. Scored within each study (the seed protocol, SPEC §9: per-mission scoring centres every pathway "
    "within a mission). The strict protocol scores inside each fold instead.\n\n" + REAL_PAIRS_NOTE,
)
def pathway_scores(context: dg.AssetExecutionContext, settings: GenebenchSettings,
                   gene_set_settings: GeneSetSettings, osdr_source: OsdrSource):
    study = StudyPartition.open(context, settings)
    if study is None:  # an absent pair: its explicit record, no table (partitions.py)
        yield from absent_results(context, settings)
        return
    expr, meta = study.read("normalized_expression"), study.read("sample_metadata")
    sets, symbol_map, _ = load_gene_sets(settings, gene_set_settings, osdr_source)
    summary, shas = [], []
    for collection, gs in sets.items():
        for method in gene_set_settings.methods:
            parts = []
            for osd, ids in meta.loc[meta.index.intersection(expr.columns)].groupby("osd").groups.items():
                by_symbol = symbol_expression(expr[list(ids)], symbol_map)
                parts.append(_score(by_symbol, gs, method, gene_set_settings))
            scores = pd.concat(parts, axis=1, join="inner")
            table = collection if method == "gsva" else f"{collection}.{method}"
            shas.append(study.write(scores, "pathway_scores", table))
            summary.append({"table": table, "method": METHODS[method], "n_pathways": scores.shape[0],
                            "n_samples": scores.shape[1]})
            context.log.info(f"{study.tissue} {study.mission} {table}: "
                             f"{scores.shape[0]} pathways x {scores.shape[1]} samples")
    yield dg.MaterializeResult(
        data_version=dg.DataVersion(combined_version(shas)),
        metadata={
            "tables": dg.MetadataValue.md(frame_markdown(pd.DataFrame(summary).set_index("table"))),
            **provenance_metadata(
                upstream=[study.upstream("normalized_expression"), study.upstream("sample_metadata"),
                          gene_sets_upstream(study.store)],
                raw_files=study.raw_files(), protocol="seed"),
        },
    )


@dg.asset(
    code_version=code_version_of(__file__, "differential_expression"),
    group_name="pathways",
    partitions_def=study_partitions,
    deps=[raw_counts, sample_metadata],
    description="DESeq2 (pydeseq2) Flight vs Ground per study pair on the binary samples: log2 fold change "
    "and Wald statistic per gene. Label-derived: used for NES only, never as a Category A feature "
    "(a leakage check enforces it).\n\n" + REAL_PAIRS_NOTE,
)
def differential_expression(context: dg.AssetExecutionContext, settings: GenebenchSettings):
    from genebench_assets.science.expression.differential_expression import deseq2_flight_vs_ground

    study = StudyPartition.open(context, settings)
    if study is None:  # an absent pair: its explicit record, no table (partitions.py)
        yield from absent_results(context, settings)
        return
    de = deseq2_flight_vs_ground(study.read("raw_counts"), study.read("sample_metadata"))
    sha = study.write(de, "differential_expression")
    yield dg.MaterializeResult(
        data_version=dg.DataVersion(sha[:16]),
        metadata={
            "n_genes": len(de),
            "n_padj_lt_0.05": int((de["padj"] < 0.05).sum()),
            "sign_convention": "positive log2FC / stat = higher in Flight",
            **study.provenance("raw_counts", "sample_metadata"),
        },
    )


@dg.asset(
    code_version=code_version_of(__file__, "pathway_nes"),
    group_name="pathways",
    partitions_def=study_partitions,
    deps=[differential_expression, gene_sets, raw_counts],
    description="Prerank GSEA (gseapy) on the DESeq2 Wald statistic: NES, p, padj, leading edge per "
    "pathway. Sign convention: positive NES = higher in Flight.\n\n" + REAL_PAIRS_NOTE,
)
def pathway_nes(context: dg.AssetExecutionContext, settings: GenebenchSettings,
                gene_set_settings: GeneSetSettings, osdr_source: OsdrSource):
    from genebench_assets.science.pathways.prerank_gsea import prerank_nes

    study = StudyPartition.open(context, settings)
    if study is None:  # an absent pair: its explicit record, no table (partitions.py)
        yield from absent_results(context, settings)
        return
    de = study.read("differential_expression")
    sets, symbol_map, _ = load_gene_sets(settings, gene_set_settings, osdr_source)
    from genebench_assets.science.pathways.prerank_gsea import ranking_from_dge

    # Duplicate symbols keep the gene with the largest |stat|.
    ranking = ranking_from_dge(de, symbol_map, id_column=None)
    summary, shas = [], []
    for collection, gs in sets.items():
        nes = prerank_nes(ranking, gs, permutations=1000, seed=42,
                          min_size=gene_set_settings.min_size, max_size=gene_set_settings.max_size)
        shas.append(study.write(nes, "pathway_nes", collection))
        summary.append({"collection": collection, "n_pathways": len(nes), "sha256": shas[-1][:16],
                        "n_padj_lt_0.05": int((nes["padj"] < 0.05).sum())})
    yield dg.MaterializeResult(
        # One table per collection: the version is the hash of their hashes, in collection order.
        data_version=dg.DataVersion(combined_version(shas)),
        metadata={"collections": dg.MetadataValue.md(frame_markdown(pd.DataFrame(summary).set_index("collection"))),
                  "sign_convention": "positive NES = higher in Flight",
                  **provenance_metadata(
                      upstream=[study.upstream("differential_expression"), gene_sets_upstream(study.store)],
                      raw_files=study.raw_files(),
                      extra={"permutations": 1000, "seed": 42, "ranking": "DESeq2 Wald statistic"})},
    )


@dg.asset(
    code_version=code_version_of(__file__, "nes_conservation"),
    group_name="pathways",
    partitions_def=tissue_partitions,
    deps=[dg.AssetDep(pathway_nes, partition_mapping=by_tissue), gene_sets],
    automation_condition=study_rollup_condition(),
    description="NES conservation (SPEC §8): Spearman r of the NES vectors between each pair of missions "
    "(>= 10 shared pathways); the tissue score is the mean over pairs.",
)
def nes_conservation(context, settings: GenebenchSettings, gene_set_settings: GeneSetSettings,
                     osdr_source: OsdrSource) -> dg.MaterializeResult:
    from genebench_assets.science.pathways.prerank_gsea import nes_conservation as conservation

    tissue = context.partition_key
    store = TableStore(settings.data_dir)
    catalog = settings.catalog()
    collections, _ = gene_set_settings.resolve(osdr_source.mode, osdr_source.demo_root(settings.data_dir))
    results, md, upstream = {}, [], []
    for collection in collections:
        nes_by_mission = {}
        for mission in catalog.missions_for(tissue):
            if store.exists("pathway_nes", collection, tissue, mission):
                nes_by_mission[mission] = store.read_frame("pathway_nes", collection, tissue, mission)["NES"]
                upstream.append({"asset": "pathway_nes", "partition": f"{tissue}|{mission}", "collection": collection,
                                 "data_version": store.sha256("pathway_nes", collection, tissue, mission)[:16]})
        res = conservation(nes_by_mission)
        results[collection] = res
        mean = res.get("mean")
        md.append(f"**{collection}**: " + (f"mean Spearman r = {mean:.3f} over {res.get('n_pairs')} mission pairs"
                                           if mean is not None else "fewer than 2 missions with NES: no pairs"))
    _, sha = store.write_json(results, "nes_conservation", tissue)
    return dg.MaterializeResult(
        data_version=dg.DataVersion(sha[:16]),
        metadata={"conservation": dg.MetadataValue.md("\n\n".join(md)),
                  **{f"mean_r_{c}": float(r["mean"]) for c, r in results.items() if r.get("mean") is not None},
                  **provenance_metadata(upstream=[*upstream, gene_sets_upstream(store)], raw_files=[])},
    )
