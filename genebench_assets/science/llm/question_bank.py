"""SpaceOmicsBench LLM question bank and annotation schema: load, validate, hash (SPEC §12).

The bank (``llm/question_bank.json``), the schema (``llm/annotation_schema.json``) and the context
files (``llm/data_context/*.md``) are read from a configured directory; they are CC BY-NC 4.0 and are
never copied into this repository.

Validation errors name the question id and the field, so a malformed bank is fixable from the
message alone. The content hash covers the bank, the schema and every context file a prompt can
include: any change to any of them changes every prompt, hence every downstream score.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from genebench_assets.science.inputs.json_schema import first_problem

DIFFICULTIES = ("easy", "medium", "hard", "expert")
QUESTION_FIELDS = (
    "id",
    "modality",
    "category",
    "difficulty",
    "question",
    "data_context_files",
    "expected_reasoning",
    "ground_truth_key_facts",
    "rubric",
)
# The judge prompt always includes this file as the ground-truth reference.
GROUND_TRUTH_FILE = "ground_truth.md"


class QuestionBankError(ValueError):
    """The bank or schema is malformed; the message names the question id and the field."""


@dataclass(frozen=True)
class Question:
    id: str
    modality: str
    category: str
    difficulty: str
    question: str
    data_context_files: tuple[str, ...]
    expected_reasoning: tuple[str, ...]
    ground_truth_key_facts: tuple[str, ...]
    rubric: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["data_context_files"] = list(self.data_context_files)
        d["expected_reasoning"] = list(self.expected_reasoning)
        d["ground_truth_key_facts"] = list(self.ground_truth_key_facts)
        d["rubric"] = dict(self.rubric)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Question:
        return _parse_question(d, position=0)


@dataclass(frozen=True)
class AnnotationSchema:
    """The five rating dimensions (in schema order, which fixes the summation order) and flags."""

    weights: Mapping[str, float]
    descriptions: Mapping[str, str]
    flags: tuple[str, ...]
    version: str = ""

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(self.weights)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "weights": dict(self.weights),
            "descriptions": dict(self.descriptions),
            "flags": list(self.flags),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AnnotationSchema:
        return cls(
            weights=dict(d["weights"]),
            descriptions=dict(d.get("descriptions", {})),
            flags=tuple(d["flags"]),
            version=d.get("version", ""),
        )


@dataclass(frozen=True)
class QuestionBank:
    questions: tuple[Question, ...]
    schema: AnnotationSchema
    contexts: Mapping[str, str] = field(repr=False)  # context file name -> text
    content_hash: str = ""
    version: str = ""

    def by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    @property
    def ground_truth(self) -> str:
        return self.contexts.get(GROUND_TRUTH_FILE, "")

    def counts(self) -> pd.DataFrame:
        """Question counts, modality (rows) x difficulty (columns), with totals."""
        df = pd.DataFrame([{"modality": q.modality, "difficulty": q.difficulty} for q in self.questions])
        table = pd.crosstab(df["modality"], df["difficulty"], margins=True, margins_name="total")
        cols = [d for d in DIFFICULTIES if d in table.columns] + ["total"]
        return table[cols]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (what the Dagster asset stores); `from_dict` inverts it."""
        return {
            "version": self.version,
            "content_hash": self.content_hash,
            "questions": [q.to_dict() for q in self.questions],
            "schema": self.schema.to_dict(),
            "contexts": dict(self.contexts),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> QuestionBank:
        return cls(
            questions=tuple(_parse_question(q, i) for i, q in enumerate(d["questions"])),
            schema=AnnotationSchema.from_dict(d["schema"]),
            contexts=dict(d["contexts"]),
            content_hash=d.get("content_hash", ""),
            version=d.get("version", ""),
        )


# --- validation -----------------------------------------------------------------------------------


# The shape of one question (JSON Schema, checked with jsonschema: science/inputs/json_schema.py); ids
# unique, rubric dimensions in the annotation schema and context files present are checked after it.
_TEXT = {"type": "string", "pattern": r"\S", "x-message": "must be a non-empty string, got {value}"}
_STRINGS = {"type": "array", "items": {"type": "string", "pattern": r"\S"},
            "x-message": "must be a list of non-empty strings, got {value}"}
_NOT_EMPTY = {"minItems": 1, "x-message": "must not be empty"}
QUESTION_SCHEMA: dict[str, Any] = {
    "type": "object", "x-record": True, "x-message": "expected an object, got {type}",
    "required": list(QUESTION_FIELDS), "x-required-message": "is missing (missing fields: {missing})",
    "properties": {
        "id": _TEXT, "modality": _TEXT, "category": _TEXT,
        "difficulty": {"allOf": [_TEXT, {"enum": list(DIFFICULTIES),
                                         "x-message": f"must be one of {DIFFICULTIES}, got {{value}}"}]},
        "question": _TEXT,
        "rubric": {"type": "object", "additionalProperties": {"type": "string"},
                   "x-message": "must be an object of dimension -> text, got {value}"},
        "data_context_files": _STRINGS,
        "expected_reasoning": {"allOf": [_STRINGS, _NOT_EMPTY]},
        "ground_truth_key_facts": {"allOf": [_STRINGS, _NOT_EMPTY]},
    },
}


def _fail(qid: str, fieldname: str, problem: str) -> QuestionBankError:
    return QuestionBankError(f"question {qid}: field '{fieldname}' {problem}")


def _parse_question(q: Any, position: int) -> Question:
    if not isinstance(q, Mapping):
        raise QuestionBankError(f"question at position {position}: expected an object, got {type(q).__name__}")
    qid = q.get("id")
    label = qid if isinstance(qid, str) and qid else f"at position {position}"
    problem = first_problem(QUESTION_SCHEMA, dict(q), f"question {label}")
    if problem:
        raise QuestionBankError(problem)
    return Question(
        id=q["id"],
        modality=q["modality"],
        category=q["category"],
        difficulty=q["difficulty"],
        question=q["question"],
        data_context_files=tuple(q["data_context_files"]),
        expected_reasoning=tuple(q["expected_reasoning"]),
        ground_truth_key_facts=tuple(q["ground_truth_key_facts"]),
        rubric=dict(q["rubric"]),
    )


def parse_schema(raw: Mapping[str, Any]) -> AnnotationSchema:
    """Weights from ``rating_dimensions`` (schema order kept); they must be positive and sum to 1."""
    dims = raw.get("rating_dimensions") if isinstance(raw, Mapping) else None
    if not isinstance(dims, Mapping) or not dims:
        raise QuestionBankError("annotation schema: field 'rating_dimensions' is missing or empty")
    weights: dict[str, float] = {}
    descriptions: dict[str, str] = {}
    for name, cfg in dims.items():
        w = cfg.get("weight") if isinstance(cfg, Mapping) else None
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not w > 0:
            raise QuestionBankError(f"annotation schema: dimension {name}: field 'weight' must be > 0, got {w!r}")
        weights[name] = float(w)
        descriptions[name] = str(cfg.get("description", ""))
    if abs(sum(weights.values()) - 1.0) > 1e-9:
        raise QuestionBankError(f"annotation schema: field 'weight' must sum to 1 over dimensions, got {sum(weights.values())}")
    flags = tuple(raw.get("additional_flags", {}) or {})
    return AnnotationSchema(weights=weights, descriptions=descriptions, flags=flags, version=str(raw.get("version", "")))


def validate_bank(raw: Any, schema: AnnotationSchema, context_names: Sequence[str] | None = None) -> list[Question]:
    """Parse and validate every question; cross-check ids, rubric dimensions, context files, totals."""
    questions_raw = raw.get("questions") if isinstance(raw, Mapping) else raw
    if not isinstance(questions_raw, list) or not questions_raw:
        raise QuestionBankError("question bank: field 'questions' must be a non-empty list")
    questions = [_parse_question(q, i) for i, q in enumerate(questions_raw)]
    dupes = [qid for qid, n in Counter(q.id for q in questions).items() if n > 1]
    if dupes:
        raise _fail(dupes[0], "id", f"is duplicated ({len(dupes)} duplicated ids)")
    for q in questions:
        unknown = [k for k in q.rubric if k not in schema.weights]
        if unknown:
            raise _fail(q.id, "rubric", f"names unknown dimension {unknown[0]!r} (schema: {', '.join(schema.weights)})")
        if context_names is not None:
            absent = [f for f in q.data_context_files if f not in context_names]
            if absent:
                raise _fail(q.id, "data_context_files", f"names {absent[0]!r}, which is not in data_context/")
    if isinstance(raw, Mapping):
        total = raw.get("total_questions")
        if total is not None and total != len(questions):
            raise QuestionBankError(f"question bank: field 'total_questions' says {total}, found {len(questions)} questions")
        for key, attr in (("difficulty_distribution", "difficulty"), ("modality_distribution", "modality")):
            declared = raw.get(key)
            if declared is not None:
                found = dict(Counter(getattr(q, attr) for q in questions))
                if dict(declared) != found:
                    raise QuestionBankError(f"question bank: field '{key}' says {dict(declared)}, found {found}")
    return questions


def content_hash(bank_raw: Any, schema_raw: Any, contexts: Mapping[str, str]) -> str:
    """sha256 of the canonical JSON of bank, schema and context texts (key order independent)."""
    payload = {"bank": bank_raw, "schema": schema_raw, "contexts": dict(sorted(contexts.items()))}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_question_bank(llm_dir: str | Path) -> QuestionBank:
    """Read ``question_bank.json``, ``annotation_schema.json`` and ``data_context/*.md`` from llm_dir."""
    llm_dir = Path(llm_dir)
    paths = {name: llm_dir / name for name in ("question_bank.json", "annotation_schema.json")}
    for name, p in paths.items():
        if not p.is_file():
            raise QuestionBankError(f"{name} not found in {llm_dir}")
    from genebench_assets.science.inputs.guarded_files import LIMITS, InputFileError, load_json, read_text

    limit = LIMITS["question_bank"]
    try:  # the guarded reader: regular file, size, UTF-8, no duplicate key, numbers that fit
        bank_raw = load_json(paths["question_bank.json"], max_bytes=limit)
        schema_raw = load_json(paths["annotation_schema.json"], max_bytes=limit)
        context_dir = llm_dir / "data_context"
        contexts = {p.name: read_text(p, max_bytes=limit) for p in sorted(context_dir.glob("*.md"))}
    except InputFileError as e:
        raise QuestionBankError(str(e)) from None
    schema = parse_schema(schema_raw)
    questions = validate_bank(bank_raw, schema, context_names=list(contexts))
    return QuestionBank(
        questions=tuple(questions),
        schema=schema,
        contexts=contexts,
        content_hash=content_hash(bank_raw, schema_raw, contexts),
        version=str(bank_raw.get("version", "")) if isinstance(bank_raw, Mapping) else "",
    )
