"""The genebench_assets code location: one Definitions merged from the domain packages under defs/."""

from __future__ import annotations

import dagster as dg

from genebench_assets.defs import evaluation, expression, llm, models, pathways, refresh, release, sources, tasks
from genebench_assets.defs.jobs import JOBS
from genebench_assets.defs.llm import text_track
from genebench_assets.defs.models.assets import ModelSettings
from genebench_assets.defs.pathways.resources import GeneSetSettings
from genebench_assets.defs.settings import GenebenchSettings
from genebench_assets.defs.sources.resources import OsdrSource

defs = dg.Definitions.merge(
    sources.defs,
    expression.defs,
    pathways.defs,
    tasks.defs,
    models.defs,
    evaluation.defs,
    refresh.defs,
    release.defs,
    llm.defs,
    text_track.text_track_defs,
    dg.Definitions(
        jobs=JOBS,
        resources={
            "settings": GenebenchSettings(),
            "osdr_source": OsdrSource(),
            "gene_set_settings": GeneSetSettings(),
            "model_settings": ModelSettings(),
        },
    ),
)
