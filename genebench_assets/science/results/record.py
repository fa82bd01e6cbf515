"""The results record: every scored result (built-in model, plug-in, embeddings, submission,
reproduction) kept in the data directory as ONE JSON file,
``<data_dir>/results/<benchmark>/<task>/<record_id>.json``, validated against ``RECORD_SCHEMA``
(jsonschema) on write and on read. docs/results.md documents the fields.

- ``build_record(...)`` fills the fields every writer shares (library versions, date, record id);
- ``write_record(data_dir, record)`` validates and writes atomically (temp file + rename);
- ``read_record(path)`` / ``read_records(data_dir, benchmark=, task=)`` validate on read: a malformed
  file raises ``RecordError`` whose message is one line naming the file, the field and the value.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Iterable

SCHEMA_VERSION = 1
BENCHMARKS = ("genelab", "spaceomicsbench", "llm")
KINDS = ("built-in", "plug-in", "submission", "embeddings", "reproduction")
PROTOCOLS = ("seed", "strict")
LIBRARIES = ("numpy", "scipy", "scikit-learn", "xgboost", "lightgbm", "pydeseq2", "gseapy")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,159}$")

_NUM_OR_NULL = {"type": ["number", "null"]}
RECORD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "genebench results record",
    "type": "object",
    "additionalProperties": False,
    "required": ["schema_version", "record_id", "benchmark", "task", "model", "kind", "protocol", "metric",
                 "folds", "summary", "go", "predictions_sha256", "folds_data_version", "code_version",
                 "library_versions", "seeds", "cpu_seconds", "peak_memory_mb", "date"],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "record_id": {"type": "string", "pattern": _ID.pattern},
        "benchmark": {"enum": list(BENCHMARKS)},
        "task": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"},
        "model": {"type": "string", "minLength": 1, "maxLength": 200},
        "feature_set": {"type": ["string", "null"], "maxLength": 100},
        "kind": {"enum": list(KINDS)},
        "protocol": {"enum": list(PROTOCOLS)},
        "metric": {"type": "string", "minLength": 1, "maxLength": 40},
        "folds": {"type": "array", "items": {
            "type": "object", "required": ["fold_id", "value"],
            "properties": {"fold_id": {"type": "string"}, "value": _NUM_OR_NULL, "ci_lower": _NUM_OR_NULL,
                           "ci_upper": _NUM_OR_NULL, "perm_p": _NUM_OR_NULL, "n_test": {"type": ["integer", "null"]},
                           "seed": {"type": "integer"}}}},
        "summary": {"type": "object", "required": ["mean"],
                    "properties": {"mean": {"type": "number"}, "std": _NUM_OR_NULL, "mean_ci_lower": _NUM_OR_NULL,
                                   "mean_perm_p": _NUM_OR_NULL, "pooled": _NUM_OR_NULL, "sd_over_seeds": _NUM_OR_NULL}},
        "go": {"type": ["boolean", "null"]},
        "predictions_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "folds_data_version": {"type": "string", "minLength": 1},
        "code_version": {"type": "string", "minLength": 1},
        "library_versions": {"type": "object", "required": list(LIBRARIES),
                             "additionalProperties": {"type": ["string", "null"]}},
        "seeds": {"type": "array", "items": {"type": "integer"}},
        "cpu_seconds": _NUM_OR_NULL,
        "peak_memory_mb": _NUM_OR_NULL,
        "date": {"type": "string", "format": "date-time", "minLength": 10},
        "source": {"type": ["string", "null"]},
        "roc": {"type": ["object", "null"], "required": ["fpr", "tpr"],
                "properties": {"fpr": {"type": "array", "items": {"type": "number"}},
                               "tpr": {"type": "array", "items": {"type": "number"}}}},
        "notes": {"type": ["string", "null"], "maxLength": 2000},
    },
}


class RecordError(ValueError):
    """A record that does not follow RECORD_SCHEMA; the message is one line (file, field, value)."""


def library_versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", text).strip("-")[:60] or "model"


def build_record(*, benchmark: str, task: str, model: str, kind: str, protocol: str, metric: str,
                 folds: list[dict], summary: dict, go: bool | None, predictions_sha256: str,
                 folds_data_version: str, code_version: str, seeds: Iterable[int] = (),
                 cpu_seconds: float | None = None, peak_memory_mb: float | None = None,
                 feature_set: str | None = None, source: str | None = None, roc: dict | None = None,
                 notes: str | None = None, date: str | None = None) -> dict:
    """A record with the shared fields filled; the id is stable for the same result (same task,
    model, feature set, protocol, kind and predictions), so re-scoring replaces instead of piling up."""
    date = date or _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    key = json.dumps([benchmark, task, model, feature_set, kind, protocol, predictions_sha256, folds_data_version])
    rid = f"{kind}_{_slug(model)}" + (f"_{_slug(feature_set)}" if feature_set else "") + \
        f"_{protocol}_{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    record = {
        "schema_version": SCHEMA_VERSION, "record_id": rid, "benchmark": benchmark, "task": task, "model": model,
        "feature_set": feature_set, "kind": kind, "protocol": protocol, "metric": metric,
        "folds": [{k: _plain(v) for k, v in f.items()} for f in folds],
        "summary": {k: _plain(v) for k, v in summary.items()}, "go": None if go is None else bool(go),
        "predictions_sha256": predictions_sha256, "folds_data_version": str(folds_data_version),
        "code_version": str(code_version), "library_versions": library_versions(),
        "seeds": [int(s) for s in seeds], "cpu_seconds": _plain(cpu_seconds), "peak_memory_mb": _plain(peak_memory_mb),
        "date": date, "source": source, "roc": roc, "notes": notes,
    }
    return record


def _plain(v: Any) -> Any:
    """numpy scalars -> Python; NaN -> None (JSON has no NaN)."""
    if v is None or isinstance(v, (str, bool)):
        return v
    try:
        import numpy as np

        if isinstance(v, np.bool_):
            return bool(v)
        if isinstance(v, np.integer):
            return int(v)
        if isinstance(v, (float, np.floating)):
            return None if v != v else float(v)
    except ImportError:  # pragma: no cover
        pass
    return v


def validate_record(record: Any, where: str | Path) -> dict:
    import jsonschema

    errors = sorted(jsonschema.Draft202012Validator(RECORD_SCHEMA).iter_errors(record),
                    key=lambda e: (len(list(e.absolute_path)), list(map(str, e.absolute_path))))
    if errors:
        e = errors[0]
        field = ".".join(str(p) for p in e.absolute_path) or "<record>"
        if e.validator == "required":
            missing = re.search(r"'([^']+)' is a required property", e.message)
            field = f"{field}.{missing.group(1)}" if field != "<record>" and missing else (missing.group(1) if missing else field)
            value = "<missing>"
        elif e.validator == "additionalProperties":
            value = " ".join(e.message.split())[:120]
        else:
            value = json.dumps(e.instance, default=str)[:80]
        raise RecordError(f"{where}: field '{field}': {' '.join(e.message.split())[:160]} (value: {value})")
    return record


def record_path(data_dir: str | Path, record: dict) -> Path:
    for part in ("benchmark", "task", "record_id"):  # ids are file names below results/, never paths
        if not isinstance(record.get(part), str) or not _ID.match(record[part]):
            raise RecordError(f"record: field '{part}' is not a safe name (value: {str(record.get(part))[:60]!r})")
    return Path(data_dir) / "results" / record["benchmark"] / record["task"] / f"{record['record_id']}.json"


def write_record(data_dir: str | Path, record: dict) -> Path:
    from genebench_assets.science.storage.atomic_files import write_json

    path = record_path(data_dir, record)
    validate_record(record, path)
    return write_json(record, path)


def read_record(path: str | Path) -> dict:
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordError(f"{path}: cannot be read ({type(exc).__name__}: {exc})") from None
    except json.JSONDecodeError as exc:
        raise RecordError(f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    return validate_record(raw, path)


def read_records(data_dir: str | Path, *, benchmark: str | None = None, task: str | None = None) -> list[dict]:
    """Every record under ``<data_dir>/results`` (optionally one benchmark / task); the first
    malformed file raises ``RecordError`` (never skipped silently)."""
    root = Path(data_dir) / "results"
    pattern = f"{benchmark or '*'}/{task or '*'}/*.json"
    return [read_record(p) for p in sorted(root.glob(pattern)) if p.is_file()]


def sha256_of_predictions(obj: Any) -> str:
    """sha256 of a canonical JSON rendering (sorted keys) of predictions already in memory."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def process_resources() -> tuple[float, float]:
    """(CPU seconds, peak resident memory in MB) of this process and its finished children so far."""
    import resource
    import sys

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    scale = 1 / (1024 * 1024) if sys.platform == "darwin" else 1 / 1024   # ru_maxrss: bytes on macOS, KiB on Linux
    return round(cpu, 3), round(max(own.ru_maxrss, kids.ru_maxrss) * scale, 1)
