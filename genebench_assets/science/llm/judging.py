"""Turn a judge's reply into validated scores (SPEC §12).

- Only text blocks count; thinking / redacted-thinking blocks are ignored.
- The JSON object may be bare, surrounded by prose, or inside a ``` / ```json fence.
- Each of the five dimensions must be present and an integer (an integral float or a digit string is
  accepted); out-of-range integers are clamped into [1, 5] and the clamp is recorded.
- The weighted score is recomputed from the integers with the schema's weights, exactly (decimal
  arithmetic), rounded to 2 decimals like the published scorer. A weighted score the judge may have
  returned is ignored.
- Anything else (no JSON, a missing or non-numeric dimension) is a *failed* judgement: it carries
  the error and the raw reply, and is counted, never silently dropped from a denominator.
"""

from __future__ import annotations

import json
import math
import re
from decimal import ROUND_HALF_UP, Decimal
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

SCORE_MIN, SCORE_MAX = 1, 5
WEIGHTED_DECIMALS = 2
FLAGS = ("hallucination", "factual_error", "harmful_recommendation", "exceeds_data_scope", "novel_insight")

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n?(.*?)```", re.DOTALL)


class JudgeParseError(ValueError):
    pass


@dataclass
class Judgement:
    success: bool
    scores: dict[str, int] = field(default_factory=dict)
    weighted_score: float | None = None
    flags: dict[str, bool] = field(default_factory=dict)
    justification: str = ""
    strengths: list[str] = field(default_factory=list)
    weaknesses: list[str] = field(default_factory=list)
    missed_points: list[str] = field(default_factory=list)
    clamped: list[str] = field(default_factory=list)  # dimensions whose value was clamped into [1, 5]
    error: str = ""
    raw: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def failed_judgement(error: str, raw: str = "") -> Judgement:
    return Judgement(success=False, error=error, raw=raw)


def text_of_content(content: Iterable[Any]) -> str:
    """Concatenate the text blocks of a Messages API ``content`` list (SDK objects or dicts)."""
    parts = []
    for block in content or ():
        kind = block.get("type") if isinstance(block, Mapping) else getattr(block, "type", None)
        if kind == "text":
            parts.append(block["text"] if isinstance(block, Mapping) else block.text)
    return "".join(parts)


def _balanced_objects(text: str) -> Iterable[str]:
    """Yield each top-level {...} span, honouring JSON strings (braces inside strings don't count)."""
    depth, start, in_str, escaped = 0, None, False, False
    for i, ch in enumerate(text):
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
            continue
        if ch == '"' and depth > 0:
            in_str = True
        elif ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth > 0:
            depth -= 1
            if depth == 0 and start is not None:
                yield text[start : i + 1]
                start = None


def extract_json_object(text: str) -> dict[str, Any]:
    """The judge's JSON object: fenced blocks first, then balanced-brace spans of the whole text.

    The last candidate that parses to an object wins (a judge that "corrects itself" ends with its
    final answer)."""
    candidates: list[str] = []
    for fenced in _FENCE.findall(text):
        candidates.extend(_balanced_objects(fenced))
    candidates.extend(_balanced_objects(text))
    parsed = None
    for cand in candidates:
        try:
            obj = json.loads(cand)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            parsed = obj
    if parsed is None:
        raise JudgeParseError(f"no JSON object in the judge reply ({len(text)} chars)")
    return parsed


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


def weighted_score(scores: Mapping[str, int], weights: Mapping[str, float]) -> float:
    """sum(score * weight), computed exactly in decimal and rounded half-up to 2 decimals.

    Exact on purpose, so no float artefact (x.xx4999...) can flip a rounding for other weights. With
    the schema's weights it agrees with the published round(float sum, 2) on every one of the 5**5
    integer combinations (tested), which is why the stored scores reproduce exactly."""
    total = sum((Decimal(str(w)) * int(scores[d]) for d, w in weights.items()), Decimal(0))
    return float(total.quantize(Decimal(1).scaleb(-WEIGHTED_DECIMALS), rounding=ROUND_HALF_UP))


def _str_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(x) for x in value]
    return [str(value)] if value not in (None, "") else []


def validate_scores(obj: Mapping[str, Any], weights: Mapping[str, float], raw: str = "") -> Judgement:
    """Validate a parsed judge object against the dimensions; failed judgement if any is unusable."""
    scores: dict[str, int] = {}
    clamped: list[str] = []
    missing = [d for d in weights if d not in obj]
    if missing:
        return failed_judgement(f"missing dimensions: {', '.join(missing)}", raw)
    for d in weights:
        v = _as_int(obj[d])
        if v is None:
            return failed_judgement(f"dimension {d}: not an integer score: {obj[d]!r:.40}", raw)
        if not SCORE_MIN <= v <= SCORE_MAX:
            clamped.append(d)
            v = min(SCORE_MAX, max(SCORE_MIN, v))
        scores[d] = v
    flags_raw = obj.get("flags") if isinstance(obj.get("flags"), Mapping) else {}
    flags = {f: flags_raw.get(f) is True or str(flags_raw.get(f)).lower() == "true" for f in FLAGS}
    return Judgement(
        success=True,
        scores=scores,
        weighted_score=weighted_score(scores, weights),
        flags=flags,
        justification=str(obj.get("justification", "") or ""),
        strengths=_str_list(obj.get("strengths")),
        weaknesses=_str_list(obj.get("weaknesses")),
        missed_points=_str_list(obj.get("missed_points")),
        clamped=clamped,
        raw=raw,
    )


def parse_judge_reply(text: str, weights: Mapping[str, float]) -> Judgement:
    """Text of the judge's reply (text blocks only) -> a Judgement, failed if unparseable."""
    try:
        obj = extract_json_object(text)
    except JudgeParseError as e:
        return failed_judgement(str(e), text)
    return validate_scores(obj, weights, raw=text)


def judgement_record(j: Judgement, weights: Mapping[str, float]) -> dict[str, Any]:
    """One flat row of the judge-scores table (shared by live and replay): scores are None when failed."""
    row: dict[str, Any] = {"judge_success": j.success}
    row |= {d: (j.scores.get(d) if j.success else None) for d in weights}
    row["weighted_score"] = j.weighted_score if j.success else None
    row |= {f"flag_{f}": bool(j.flags.get(f, False)) for f in FLAGS}
    row |= {
        "clamped": ",".join(j.clamped),
        "judge_error": j.error,
        "justification": j.justification,
        "strengths": json.dumps(j.strengths, ensure_ascii=False),
        "weaknesses": json.dumps(j.weaknesses, ensure_ascii=False),
        "missed_points": json.dumps(j.missed_points, ensure_ascii=False),
        "judge_raw": "" if j.success else j.raw,  # keep the raw reply of failures for inspection
    }
    return row
