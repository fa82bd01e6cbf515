"""Which models and feature sets the tissue assets run (SPEC §6): its own module, so lomo_folds (which
builds the feature sets' fold matrices) and model_predictions (which fits the models) share one
resource without importing each other."""

import os

import dagster as dg
from pydantic import Field

from genebench_assets.science.models.plugins import split_specs

from genebench_assets.defs.runtime.settings import env_list, from_env

DEFAULT_MODELS = ("lr", "pca_lr", "rf", "xgb", "negative_control")
FEATURE_SETS = ("genes", "pathways")


class ModelSettings(dg.ConfigurableResource):
    """Which models and feature sets to run (SPEC §6). Feature sets: genes, and pathways of a collection."""

    models: list[str] = env_list("GENEBENCH_MODELS", ",".join(DEFAULT_MODELS))
    feature_sets: list[str] = env_list("GENEBENCH_FEATURE_SETS", "genes,pathways")
    seed: int = 42
    # Plug-in models (issue 20): NAME=MODULE:FACTORY each (science/models/plugins.py), run after `models`;
    # installed `genebench.models` entry points are added unless `entry_points` is off.
    model_specs: list[str] = Field(default_factory=lambda: split_specs(os.environ.get("GENEBENCH_MODEL_SPECS", "")))
    entry_points: bool = True
    # Seeds: each a full run of the fits (predictions get a `seed` column only with more than one);
    # empty = [seed], so the published single-seed numbers stay exact.
    seeds: list[int] = Field(default_factory=lambda: [int(x) for x in os.environ.get("GENEBENCH_SEEDS", "").split(",") if x.strip()])
    # A plug-in fit slower than this many seconds fails the run in one line (its worker is killed).
    fit_timeout: float = from_env("GENEBENCH_FIT_TIMEOUT", "1800", float)
    # Independent fits run on this many processes (results do not depend on it).
    n_jobs: int = from_env("GENEBENCH_JOBS", "2", int)

    def run_seeds(self) -> list[int]:
        return list(dict.fromkeys(self.seeds)) or [self.seed]

    def plugins(self):
        """The configured plug-ins (PluginSpec list); a bad spec is a one-line PluginError."""
        from genebench_assets.science.models.plugins import configured_specs

        return configured_specs(self.model_specs, entry_points=self.entry_points)
