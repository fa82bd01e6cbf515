"""The published GeneLab release: reading it and reproducing its tables."""


def worker_modules() -> tuple[str, ...]:
    """What a worker process running the release steps imports as it starts (fit_pool.worker_pool's
    `preload`): the per-partition step functions and the published models' estimators. Needs neither
    pandas nor Dagster, so a command can start its workers before it loads either."""
    from genebench_assets.science.models.classifiers import estimator_modules

    return ("genebench_assets.science.release.fold_tables", *estimator_modules(("pathway_lr", "pathway_pca_lr")))
