"""Test-only fault planting in a written demo mirror (the leakage and duplicate-sample checks' tests)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from genebench_assets.science.osdr.demo_simulator import COUNTS_SUFFIX, RUNSHEET_SUFFIX, _write_bytes


def plant_sample(root: str | Path, osd: str, replace: str, counts: pd.Series | None = None,
                 new_name: str | None = None) -> Path:
    """Edit a written mirror (tests of the leakage checks): in study `osd`'s counts file and runsheet,
    give sample `replace` the `counts` (a Series by gene id; genes the file lacks are ignored, genes the
    Series lacks keep their count) and/or the name `new_name`. The group string and the study's
    sample count stay, so only the planted property changes. Returns the counts file."""
    folder = Path(root) / osd
    counts_path = next(folder.glob(f"*{COUNTS_SUFFIX}"))
    runsheet_path = next(folder.glob(f"*{RUNSHEET_SUFFIX}"))
    frame = pd.read_csv(counts_path, index_col=0)
    if replace not in frame.columns:
        raise KeyError(f"{counts_path.name}: no sample {replace!r}")
    if counts is not None:
        shared = frame.index.intersection(counts.index)
        frame.loc[shared, replace] = counts.loc[shared].astype(np.int64).to_numpy()
    sheet = pd.read_csv(runsheet_path, dtype=str, keep_default_na=False)
    if new_name is not None:
        frame = frame.rename(columns={replace: new_name})
        for col in ("Sample Name", "Original Sample Name"):
            sheet[col] = sheet[col].replace({replace: new_name})
    buf = io.StringIO()
    frame.to_csv(buf, index_label="", lineterminator="\n")
    _write_bytes(counts_path, buf.getvalue().encode())
    buf = io.StringIO()
    sheet.to_csv(buf, index=False, lineterminator="\n")
    _write_bytes(runsheet_path, buf.getvalue().encode())
    return counts_path
