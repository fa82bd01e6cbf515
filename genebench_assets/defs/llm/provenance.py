"""Provenance of the LLM question-bank assets: the question bank version every score was made from,
the stored run files (replay) with sha256, and the upstream partitions' content versions. The
assets' outputs go through the IO manager, so their data version is a hash of the output itself
(defs/provenance.content_version)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from genebench_assets.defs.lineage.provenance import file_record, provenance_metadata


def question_bank_files(llm_dir: Path) -> list[dict[str, Any]]:
    llm_dir = Path(llm_dir)
    paths = [llm_dir / "question_bank.json", llm_dir / "annotation_schema.json",
             *sorted((llm_dir / "data_context").glob("*.md"))]
    return [file_record("SpaceOmicsBench question bank", p, "spaceomicsbench") for p in paths if p.exists()]


def stored_run_files(spaceomicsbench, label: str, mode: str) -> list[dict[str, Any]]:
    """The stored, already judged run a replayed partition comes from; nothing in live mode (the
    responses are cached by prompt hash, recorded per row)."""
    if mode != "replay":
        return []
    from genebench_assets.science.llm import replay

    path = replay.discover_stored_runs(spaceomicsbench.results_dir()).get(label)
    return [file_record("SpaceOmicsBench stored run", path, "replay")] if path else []


def llm_provenance(bank_hash: str, files: list[dict[str, Any]], *, answers_version: str | None = None,
                   model: str | None = None, judge_scores: dict[str, str] | None = None) -> dict[str, Any]:
    upstream = [{"asset": "llm_question_bank", "partition": None, "data_version": bank_hash}]
    if answers_version:
        upstream.append({"asset": "llm_answers", "partition": model, "data_version": answers_version})
    for m, version in (judge_scores or {}).items():
        upstream.append({"asset": "llm_judge_scores", "partition": m, "data_version": version})
    return provenance_metadata(upstream=upstream, raw_files=files)
