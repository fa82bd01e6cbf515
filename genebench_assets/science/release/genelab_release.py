"""Read the published GeneLab benchmark release (``../shared/data/genelab_release``) into plain
structures: Category A task folds (labels, metadata, fold info) and per-mission GSVA scores.

Layout read here::

    tasks/A{n}_{tissue}_lomo/task_info.json
    tasks/A{n}_{tissue}_lomo/fold_{MISSION}_test/{train,test}_y.csv, {train,test}_meta.csv, fold_info.json
    tasks/A{n}_{tissue}_lomo/fold_{MISSION}_holdout/...          (A4 RR-23, A5 RR-7: optional)
    processed/pathway_scores/{tissue}/{file_mission}_gsva_{db}.csv (samples x pathways)

Quirks of the release handled here (data README, "Known quirks"):
- gastrocnemius task files prefix sample ids with the mission (``RR-1.Mmus_...``), its pathway
  files do not; its meta files hold only ``label, mission, REMOVE, tissue``;
- thymus ``MHU-2_gsva_*`` also holds the MHU-1 samples: when missions are combined, duplicate
  sample ids keep the first occurrence with missions in sorted order (the MHU-1 file's row);
- skin MHU-2 is one mission across ``MHU-2_dorsal_*`` then ``MHU-2_femoral_*``;
- ids may be GeneLab names, GEO/SRA ids (``GSM...``, ``SRR...``) or eye TBD's ``M21``-style ids:
  they are kept as strings, never parsed.
Every error names the file and the offending value.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

TASK_TISSUES = {"A1": "liver", "A2": "gastrocnemius", "A3": "kidney", "A4": "thymus", "A5": "skin", "A6": "eye"}
TISSUE_TASKS = {tissue: task for task, tissue in TASK_TISSUES.items()}
PATHWAY_DBS = ("hallmark", "kegg", "reactome", "mitocarta")
# one benchmark mission scored in several GSVA files, in the order they are concatenated
MISSION_FILES = {("skin", "MHU-2"): ("MHU-2_dorsal", "MHU-2_femoral")}


class ReleaseError(ValueError):
    """The release directory does not hold what the benchmark expects (message names file and value)."""


@dataclass(frozen=True)
class ReleaseFold:
    fold_id: str                       # directory name, e.g. "fold_RR-1_test"
    test_mission: str
    train_missions: tuple[str, ...]
    train_y: pd.Series                 # index = sample id as written in the task files; 1.0 Flight, 0.0 Ground
    test_y: pd.Series
    train_meta: pd.DataFrame
    test_meta: pd.DataFrame
    info: dict                         # fold_info.json
    holdout: bool = False


@dataclass(frozen=True)
class ReleaseTask:
    task_id: str
    tissue: str
    task_dir: Path
    info: dict                         # task_info.json
    folds: list[ReleaseFold]           # LOMO folds in task_info.json order
    holdout_folds: list[ReleaseFold] = field(default_factory=list)

    def fold(self, fold_id_or_mission: str) -> ReleaseFold:
        for f in self.folds + self.holdout_folds:
            if fold_id_or_mission in (f.fold_id, f.test_mission):
                return f
        raise KeyError(f"{self.task_id}: no fold {fold_id_or_mission!r}; have {[f.fold_id for f in self.folds]}")


def resolve_task(task_or_tissue: str) -> tuple[str, str]:
    """'A3' or 'kidney' -> ('A3', 'kidney')."""
    key = task_or_tissue.strip()
    if key.upper() in TASK_TISSUES:
        return key.upper(), TASK_TISSUES[key.upper()]
    if key.lower() in TISSUE_TASKS:
        return TISSUE_TASKS[key.lower()], key.lower()
    raise ReleaseError(f"unknown task or tissue {task_or_tissue!r}; expected one of "
                       f"{sorted(TASK_TISSUES)} or {sorted(TISSUE_TASKS)}")


def task_dir(release_dir: Path | str, task_or_tissue: str) -> Path:
    task_id, tissue = resolve_task(task_or_tissue)
    path = Path(release_dir) / "tasks" / f"{task_id}_{tissue}_lomo"
    if not path.is_dir():
        raise ReleaseError(f"task directory not found: {path}")
    return path


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise ReleaseError(f"missing file: {path}")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ReleaseError(f"{path}: not valid JSON ({exc})") from exc


def read_labels(path: Path) -> pd.Series:
    """A ``train_y.csv`` / ``test_y.csv`` (header ``,0``; index sample id; 1.0 / 0.0)."""
    if not path.is_file():
        raise ReleaseError(f"missing file: {path}")
    df = pd.read_csv(path, index_col=0)
    if df.shape[1] != 1:
        raise ReleaseError(f"{path}: expected one label column, found columns {list(df.columns)}")
    y = df.iloc[:, 0]
    y.index = y.index.astype(str)
    y.index.name = "sample_id"
    bad = y[~y.isin([0.0, 1.0])]
    if len(bad):
        raise ReleaseError(f"{path}: label {bad.iloc[0]!r} for sample {bad.index[0]!r} is not 1.0 (Flight) or 0.0 (Ground)")
    dup = y.index[y.index.duplicated()]
    if len(dup):
        raise ReleaseError(f"{path}: sample id {dup[0]!r} appears twice")
    return y.astype(float).rename("label")


def _read_meta(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ReleaseError(f"missing file: {path}")
    meta = pd.read_csv(path, index_col=0)
    meta.index = meta.index.astype(str)
    return meta


def _read_fold(fold_path: Path, holdout: bool) -> ReleaseFold:
    info = _read_json(fold_path / "fold_info.json")
    for key in ("test_mission", "train_missions"):
        if key not in info:
            raise ReleaseError(f"{fold_path / 'fold_info.json'}: missing key {key!r}")
    train_y = read_labels(fold_path / "train_y.csv")
    test_y = read_labels(fold_path / "test_y.csv")
    train_meta = _read_meta(fold_path / "train_meta.csv")
    test_meta = _read_meta(fold_path / "test_meta.csv")
    for y, meta, name in ((train_y, train_meta, "train"), (test_y, test_meta, "test")):
        missing = y.index.difference(meta.index)
        if len(missing):
            raise ReleaseError(f"{fold_path / f'{name}_meta.csv'}: no row for sample {missing[0]!r} of {name}_y.csv")
    overlap = train_y.index.intersection(test_y.index)
    if len(overlap):
        raise ReleaseError(f"{fold_path}: sample {overlap[0]!r} is in both train_y.csv and test_y.csv")
    return ReleaseFold(
        fold_id=fold_path.name,
        test_mission=str(info["test_mission"]),
        train_missions=tuple(str(m) for m in info["train_missions"]),
        train_y=train_y, test_y=test_y, train_meta=train_meta.loc[train_y.index],
        test_meta=test_meta.loc[test_y.index], info=info, holdout=holdout,
    )


def read_task(release_dir: Path | str, task_or_tissue: str) -> ReleaseTask:
    """One Category A task: LOMO folds in ``task_info.json`` order plus any holdout folds."""
    task_id, tissue = resolve_task(task_or_tissue)
    tdir = task_dir(release_dir, task_id)
    info = _read_json(tdir / "task_info.json")
    folds = []
    for entry in info.get("folds", []):
        mission = str(entry.get("test_mission"))
        fold_path = tdir / f"fold_{mission}_test"
        if not fold_path.is_dir():
            raise ReleaseError(f"{tdir / 'task_info.json'}: fold for test mission {mission!r} has no directory {fold_path.name}")
        fold = _read_fold(fold_path, holdout=False)
        if fold.test_mission != mission:
            raise ReleaseError(f"{fold_path / 'fold_info.json'}: test_mission {fold.test_mission!r} != {mission!r} in task_info.json")
        folds.append(fold)
    if not folds:
        raise ReleaseError(f"{tdir / 'task_info.json'}: no folds listed")
    holdouts = [_read_fold(p, holdout=True) for p in sorted(tdir.glob("fold_*_holdout")) if p.is_dir()]
    return ReleaseTask(task_id=task_id, tissue=tissue, task_dir=tdir, info=info, folds=folds, holdout_folds=holdouts)


# ---------------------------------------------------------------------------------------------
# pathway scores
# ---------------------------------------------------------------------------------------------

def pathway_score_files(release_dir: Path | str, tissue: str, mission: str, db: str) -> list[Path]:
    """The GSVA file(s) of one mission (skin MHU-2: dorsal then femoral)."""
    if db not in PATHWAY_DBS:
        raise ReleaseError(f"unknown pathway collection {db!r}; expected one of {PATHWAY_DBS}")
    base = Path(release_dir) / "processed" / "pathway_scores" / tissue
    files = [base / f"{stem}_gsva_{db}.csv" for stem in MISSION_FILES.get((tissue, mission), (mission,))]
    for f in files:
        if not f.is_file():
            raise ReleaseError(f"missing pathway score file for {tissue} {mission} ({db}): {f}")
    return files


def read_score_file(path: Path) -> pd.DataFrame:
    """One GSVA file: samples x pathways, float64 (the caller's own copy).

    A LOMO task reads every mission's file once per fold, and `genebench reproduce` all tissues and
    collections in one process: each file is parsed once per process (keyed by path, size and
    modification time, so a changed file is read again)."""
    st = Path(path).stat()
    return _parsed_score_file(str(Path(path).resolve()), st.st_size, st.st_mtime_ns).copy()


@functools.lru_cache(maxsize=128)
def _parsed_score_file(path: str, size: int, mtime_ns: int) -> pd.DataFrame:
    df = pd.read_csv(path, index_col=0)
    df.index = df.index.astype(str)
    df = df.drop(columns=[c for c in ("mission",) if c in df.columns])
    non_numeric = [c for c, dtype in df.dtypes.items() if not pd.api.types.is_numeric_dtype(dtype)]
    if non_numeric:
        raise ReleaseError(f"{path}: column {non_numeric[0]!r} is not numeric")
    return df.astype(float)


def read_pathway_scores(release_dir: Path | str, tissue: str, missions, db: str) -> pd.DataFrame:
    """GSVA scores of several missions stacked (samples x pathways), as the published pathway
    LOMO combined them: pathways intersected across the files (sorted by name when more than one
    file), missions in the order given, duplicate sample ids keep their first occurrence."""
    parts = [read_score_file(f) for m in missions for f in pathway_score_files(release_dir, tissue, m, db)]
    if len(parts) > 1:
        common = set(parts[0].columns)
        for p in parts[1:]:
            common &= set(p.columns)
        cols = sorted(common)
        parts = [p[cols] for p in parts]
    combined = pd.concat(parts, axis=0)
    return combined[~combined.index.duplicated(keep="first")]


_MISSION_PREFIX = re.compile(r"^[^.]+\.")


def align_samples(scores: pd.DataFrame, sample_ids: pd.Index, *, source: str = "pathway scores") -> pd.DataFrame:
    """Rows of ``scores`` for ``sample_ids`` (task-file ids), in that order, indexed by the task ids.
    Task ids of the form ``MISSION.sample`` (gastrocnemius) are matched on the part after the prefix."""
    ids = pd.Index(sample_ids).astype(str)
    lookup = []
    for sid in ids:
        if sid in scores.index:
            lookup.append(sid)
            continue
        stripped = _MISSION_PREFIX.sub("", sid, count=1)
        if stripped != sid and stripped in scores.index:
            lookup.append(stripped)
            continue
        raise ReleaseError(f"{source}: no row for sample {sid!r} (also tried {stripped!r}); "
                           f"first rows there: {list(scores.index[:3])}")
    out = scores.loc[lookup]
    out.index = ids
    return out
