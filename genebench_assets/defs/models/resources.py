"""Which models and feature sets the tissue assets run (SPEC §6): its own module, so lomo_folds (which
builds the feature sets' fold matrices) and model_predictions (which fits the models) share one
resource without importing each other."""

import dagster as dg

from genebench_assets.defs.runtime.settings import env_list, from_env

DEFAULT_MODELS = ("lr", "pca_lr", "rf", "xgb", "negative_control")
FEATURE_SETS = ("genes", "pathways")


class ModelSettings(dg.ConfigurableResource):
    """Which models and feature sets to run (SPEC §6). Feature sets: genes, and pathways of a collection."""

    models: list[str] = env_list("GENEBENCH_MODELS", ",".join(DEFAULT_MODELS))
    feature_sets: list[str] = env_list("GENEBENCH_FEATURE_SETS", "genes,pathways")
    seed: int = 42
    # Independent fits run on this many processes (results do not depend on it).
    n_jobs: int = from_env("GENEBENCH_JOBS", "2", int)
