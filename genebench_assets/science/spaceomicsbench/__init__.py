"""SpaceOmicsBench's ML tasks (SPEC §12): task definitions, id-joined task data, splits, the seven
baselines, metrics, composite score. Plain functions; no Dagster import."""
