"""``temporal_analyses`` (issue 21): T1 (ISS-T vs LAR), T2 (LAR recovery) and T3 (age x spaceflight) from the
release's liver / thymus Hallmark GSVA scores, written as ``T1_temporal_timing_summary.json``,
``T2_recovery_summary.json`` and ``T3_age_spaceflight_summary.json`` in the published layout (the fourth run of
``genebench reproduce analyses``). Gene-level fields are marked not reproducible offline in each file
(``not_reproduced``); the seed defects' fixes are stored beside (``tables/temporal_analyses/strict.json``).
Science: ``science/analyses/temporal.py``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import dagster as dg
import pandas as pd

from genebench_assets.defs.analyses.assets import GROUP, release_file_records
from genebench_assets.defs.lineage.code_versions import code_version_of
from genebench_assets.defs.lineage.provenance import frame_markdown, provenance_metadata
from genebench_assets.defs.release.resources import ReleaseSettings
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.science.storage.atomic_files import write_json
from genebench_assets.science.storage.table_store import TableStore


def _tables(details: dict, strict: dict) -> dict[str, pd.DataFrame]:
    t1 = pd.DataFrame({f"{k} {c}": {f: v.get(f) for f in ("auroc", "ci_low", "ci_high", "perm_p", "n_total")}
                       for k, entry in details["T1"].items() if "conditions" in entry
                       for c, v in entry["conditions"].items() if v["status"] == "OK"}).T
    t1d = pd.DataFrame(details["T1"]["T1d_cross_mission"]["transfers"]).T
    t2 = pd.DataFrame({m: {**{f"seed_{k}": v for k, v in r["pathway_recovery_summary"].items()},
                           **{f"strict_{k}": v for k, v in strict["T2_pathway_recovery"][m].items()}}
                       for m, r in details["T2"].items()}).T
    t3 = pd.DataFrame({k: {f: v.get(f) for f in ("auroc", "ci_low", "ci_high", "perm_p")}
                       for k, v in details["T3"]["subtasks"].items() if k != "T3c_anova"}).T
    return {"t1_pathway_auroc": t1, "t1d_pathway_transfer": t1d, "t2_recovery_seed_vs_strict": t2, "t3_pathway_auroc": t3}


@dg.asset(code_version=code_version_of(__file__, "temporal_analyses"), group_name=GROUP,
          description="T1_temporal_timing_summary.json, T2_recovery_summary.json, T3_age_spaceflight_summary.json "
          "(published layout) from the release's RR-6 / RR-8 liver and RR-6 thymus Hallmark GSVA scores (animal groups "
          "from the sample names): every *_pathway condition, T1d pathway transfers, T2 pathway recovery, T3 ANOVA; "
          "gene-level fields marked not reproducible offline; seed defects fixed in a strict variant beside.")
def temporal_analyses(context, settings: GenebenchSettings, release_settings: ReleaseSettings) -> dg.MaterializeResult:
    from genebench_assets.science.analyses import temporal
    from genebench_assets.science.categories.release_samples import SEED_TISSUE_MISSIONS
    from genebench_assets.science.release.genelab_release import ReleaseError, pathway_score_files

    release_dir = release_settings.checked_release_dir()
    out_dir = Path(release_settings.out_dir)
    try:
        result = temporal.temporal_analyses(release_dir, timestamp="")
    except (temporal.TemporalDataError, ReleaseError) as exc:
        raise dg.Failure(f"temporal_analyses: {exc}") from None
    store = TableStore(settings.data_dir)
    _, sha = store.write_json({"documents": result["documents"], "details": result["details"]}, "temporal_analyses")
    store.write_json(result["strict_variant"], "temporal_analyses", "strict")
    stamp = datetime.now().isoformat()
    files = [write_json({**doc, "timestamp": stamp}, out_dir / temporal.FILENAMES[k], sort_keys=False, indent=2)
             for k, doc in result["documents"].items()]
    inputs = [p for tissue in ("liver", "thymus") for m in SEED_TISSUE_MISSIONS[tissue]
              for p in pathway_score_files(release_dir, tissue, m, temporal.DB)]
    anova = result["details"]["T3"]["subtasks"]["T3c_anova"]
    not_reproduced = [f"{k}: {field}" for k, doc in result["documents"].items() for field in doc["not_reproduced"]]
    return dg.MaterializeResult(
        data_version=dg.DataVersion(sha[:16]),
        metadata={"result_files": [str(f) for f in files], "table_sha256": sha,
                  **{name: dg.MetadataValue.md(frame_markdown(table)) for name, table in
                     _tables(result["details"], result["strict_variant"]).items()},
                  "t3c_anova": {k: anova[k] for k in ("n_pathways", "n_significant_interaction", "n_samples", "timing_filter")},
                  "not_reproduced_offline": not_reproduced,
                  **provenance_metadata(upstream=[], raw_files=release_file_records(release_dir, inputs), protocol="seed")})


temporal_job = dg.define_asset_job(
    "temporal_analyses_job", selection=dg.AssetSelection.assets(temporal_analyses),
    description="T1-T3 summaries from the release's GSVA scores (genebench reproduce analyses).")
