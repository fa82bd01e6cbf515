"""The genebench_assets code location: one Definitions merged from the domain packages under defs/."""

from __future__ import annotations

import dagster as dg

from genebench_assets.defs import evaluation, expression, llm, models, pathways, refresh, release, sources, tasks
from genebench_assets.defs import categories
from genebench_assets.defs import analyses
from genebench_assets.defs import batch_correction
from genebench_assets.defs import transfer
from genebench_assets.defs import spaceomicsbench
from genebench_assets.defs import results
from genebench_assets.defs.analyses import calibration as analyses_calibration
from genebench_assets.defs.gating.contracts import with_contracts
from genebench_assets.defs.runtime.execution import genebench_executor
from genebench_assets.defs.runtime.jobs import JOBS
from genebench_assets.defs.llm import text_track
from genebench_assets.defs.models.assets import ModelSettings
from genebench_assets.defs.runtime.partition_range_io import PartitionRangeFilesystemIOManager
from genebench_assets.defs.pathways.resources import GeneSetSettings
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.defs.sources.resources import OsdrSource

# with_contracts: the pandera data contracts shown on the assets (defs/gating/contracts.py).
defs = with_contracts(dg.Definitions.merge(
    sources.defs,
    expression.defs,
    pathways.defs,
    tasks.defs,
    models.defs,
    evaluation.defs,
    refresh.defs,
    release.defs,
    analyses.defs,
    categories.defs,
    transfer.defs,
    spaceomicsbench.defs,
    results.defs,
    llm.defs,
    text_track.text_track_defs,
    analyses_calibration.defs,
    batch_correction.defs,
    dg.Definitions(
        jobs=JOBS,
        executor=genebench_executor,  # run config picks multiprocess (default) / in_process / dask / k8s
        resources={
            "settings": GenebenchSettings(),
            "osdr_source": OsdrSource(),
            "gene_set_settings": GeneSetSettings(),
            "model_settings": ModelSettings(),
            # FilesystemIOManager that also stores a single run over several partitions
            "io_manager": PartitionRangeFilesystemIOManager(),
        },
    ),
))

from genebench_assets.defs.runtime.partitions import CATALOG_ERROR  # noqa: E402

if CATALOG_ERROR is not None:  # no tissue partitions without a usable catalog: one clear load error
    raise CATALOG_ERROR
