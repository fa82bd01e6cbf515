"""Task definitions (``tasks/<ID>.json``) validated against the published ``tasks/task_schema.json``.

A malformed file fails with one line naming the file, the field and the offending value; a task
whose data files are absent is *unavailable* (B1: its features file, F1-F3: the taxonomy table) and
says which file is missing, instead of being faked or silently dropped."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

MAIN_TASKS = ("A1", "A2", "B1", "B2", "C1", "C2", "D1", "E1", "E4", "F1", "F2", "F3", "F4", "F5",
              "G1", "H1", "I1", "I2", "I3")
SUPPLEMENTARY_TASKS = ("E2", "E3")   # frontier tasks, outside the composite (as in the seed)
TASK_IDS = MAIN_TASKS + SUPPLEMENTARY_TASKS

# The seed's composite categories (F split into body site / phase / source sub-categories).
CATEGORIES: dict[str, tuple[str, ...]] = {
    "A_clinical": ("A1", "A2"),
    "B_cfrna": ("B1", "B2"),
    "C_proteomics": ("C1", "C2"),
    "D_metabolomics": ("D1",),
    "E_spatial": ("E1", "E4"),
    "F_bodysite": ("F1", "F4"),
    "F_phase": ("F2", "F5"),
    "F_source": ("F3",),
    "G_multimodal": ("G1",),
    "H_crosstissue": ("H1",),
    "I_crossmission": ("I1", "I2", "I3"),
}
TASK_TYPES = ("binary_classification", "multi_class_classification", "multilabel_classification")
PRIMARY_METRICS = {"binary_classification": ("auroc", "auprc"),
                   "multi_class_classification": ("macro_f1",),
                   "multilabel_classification": ("micro_f1",)}


class TaskDefinitionError(ValueError):
    """A task file that does not follow the schema; the message names file, field and value."""


@dataclass(frozen=True)
class TaskDefinition:
    task_id: str
    path: Path
    raw: dict

    @property
    def task_type(self) -> str:
        return self.raw["task_type"]

    @property
    def primary_metric(self) -> str:
        return self.raw["evaluation"]["primary_metric"]

    @property
    def split_name(self) -> str:
        return self.raw["split"]

    @property
    def supplementary(self) -> bool:
        return self.task_id in SUPPLEMENTARY_TASKS or bool(self.raw.get("supplementary"))

    @property
    def classes(self) -> list | None:
        out = self.raw.get("output_spec", {})
        return out.get("classes") or out.get("label_names")

    def all_files(self) -> list[str]:
        files = list(self.raw["data_files"]) + list(self.raw.get("ground_truth_files", []))
        if self.raw.get("metadata_file"):
            files.append(self.raw["metadata_file"])
        return files


def _schema(tasks_dir: Path) -> dict:
    path = tasks_dir / "task_schema.json"
    if not path.exists():
        raise TaskDefinitionError(f"{path}: task schema not found (field: -, value: -)")
    return json.loads(path.read_text())


def validate_task_definition(raw: object, path: Path, schema: dict) -> None:
    """Schema validation (jsonschema) plus what the baselines rely on beyond the schema."""
    import jsonschema

    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(raw), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        field = ".".join(str(p) for p in e.absolute_path) or (
            e.message.split("'")[1] if e.validator == "required" else "<root>")
        value = "<missing>" if e.validator == "required" else json.dumps(e.instance)[:80]
        raise TaskDefinitionError(f"{path}: field '{field}': {e.message} (value: {value})")
    checks = [
        ("task_id", raw["task_id"] == path.stem, f"does not match the file name {path.stem!r}"),
        ("task_type", raw["task_type"] in TASK_TYPES, f"must be one of {list(TASK_TYPES)}"),
        ("evaluation.primary_metric", raw["evaluation"].get("primary_metric") in PRIMARY_METRICS.get(
            raw["task_type"], ()), f"must be one of {list(PRIMARY_METRICS.get(raw['task_type'], ()))}"),
        ("n_samples", raw["n_samples"] > 0, "must be positive"),
    ]
    for field, ok, why in checks:
        if not ok:
            value = raw
            for part in field.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            raise TaskDefinitionError(f"{path}: field '{field}' {why} (value: {json.dumps(value)})")


def load_task_definition(tasks_dir: str | Path, task_id: str) -> TaskDefinition:
    from genebench_assets.science.inputs.guarded_files import (LIMITS, IdentifierError, InputFileError, load_json,
                                                              validate_task_id)

    tasks_dir = Path(tasks_dir)
    try:  # a task id is a file name below tasks/, never a path (`--task ../x`)
        validate_task_id(task_id, f"{tasks_dir}: --task")
    except IdentifierError as exc:
        raise TaskDefinitionError(f"{exc} (field: task, value: {task_id!r:.60})") from None
    path = tasks_dir / f"{task_id}.json"
    if not path.exists():
        raise TaskDefinitionError(f"{path}: task file not found (field: -, value: {task_id})")
    try:  # the guarded reader: regular file, size, UTF-8, no duplicate key
        raw = load_json(path, max_bytes=LIMITS["task_definition"])
    except InputFileError as exc:
        raise TaskDefinitionError(str(exc)) from None
    validate_task_definition(raw, path, _schema(tasks_dir))
    return TaskDefinition(task_id=task_id, path=path, raw=raw)


def missing_files(task: TaskDefinition, data_dir: str | Path) -> list[str]:
    """Files the task needs that are not in ``data_dir``, plus the ones the seed needs beyond the
    task file's own list (F1-F3 read the human taxonomy table; G1 the two metadata tables)."""
    data_dir = Path(data_dir)
    needed = task.all_files() + _EXTRA_FILES.get(task.task_id, [])
    return sorted({f for f in needed if not (data_dir / f).exists()})


_EXTRA_FILES = {
    "F1": ["microbiome_human_taxonomy_cpm.csv"], "F2": ["microbiome_human_taxonomy_cpm.csv"],
    "F3": ["microbiome_human_taxonomy_cpm.csv"],
    "F4": ["microbiome_metadata.csv"], "F5": ["microbiome_metadata.csv"],
    "G1": ["proteomics_metadata.csv", "metabolomics_metadata.csv"],
}


def category_of(task_id: str) -> str | None:
    for cat, tasks in CATEGORIES.items():
        if task_id in tasks:
            return cat
    return None
