"""Every sample of a tissue in the GeneLab release, with what the category tasks need to know
about it, and the tissue's GSVA scores stacked over missions under an explicit duplicate rule.

The release's task files list only binary (Flight / Ground) samples; the category D tasks also
need the others (AG, basal controls) and their mission, strain and gravity condition. Those come
from the GSVA files (one row per scored sample) and the GeneLab sample names, whose tokens the
published code's metadata was built from (``FLT_uG`` Flight in microgravity, ``FLT_1G`` Flight
at artificial 1 g = AG, ``GC``; strain ``C57-6J`` / ``C57-6CR``).

Seed defect kept visible here (issue 11, defect 2): thymus ``MHU-2_gsva_*`` repeats the nine
MHU-1 samples, scored together with the MHU-2 samples. The published D and J5 numbers used those
repeated rows (the MHU-2 file's), ``DuplicateRows.SEED_LAST``; the strict rule takes each sample's
row from its own mission's file, ``DuplicateRows.OWN_MISSION``.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path

import pandas as pd

from genebench_assets.science.release import genelab_release

# The published scripts' mission lists (order matters: it is the stacking order).
SEED_TISSUE_MISSIONS = {
    "liver": ("RR-1", "RR-3", "RR-6", "RR-8", "RR-9", "MHU-2"),
    "gastrocnemius": ("RR-1", "RR-5", "RR-9"),
    "kidney": ("RR-1", "RR-3", "RR-7"),
    "thymus": ("RR-6", "MHU-1", "MHU-2", "RR-9"),
    "eye": ("RR-1", "RR-3", "TBD"),
}


class DuplicateRows(str, Enum):
    """Which GSVA row a sample scored in two mission files gets."""

    SEED_LAST = "seed_last"          # published: the later file in the seed stacking order (MHU-2's)
    OWN_MISSION = "own_mission"      # strict: the file of the sample's own mission


def lomo_labels(release_dir: Path | str, tissue: str) -> tuple[pd.Series, pd.DataFrame]:
    """Binary labels and metadata of every sample of a tissue's Category A task (each sample is
    the test set of exactly one LOMO fold), in fold order then file order."""
    task = genelab_release.read_task(release_dir, tissue)
    y = pd.concat([f.test_y for f in task.folds])
    meta = pd.concat([f.test_meta for f in task.folds])
    if y.index.duplicated().any():
        dup = y.index[y.index.duplicated()][0]
        raise genelab_release.ReleaseError(f"{task.task_dir}: sample {dup!r} is the test set of two folds")
    return y, meta


def stacked_scores(release_dir: Path | str, tissue: str, db: str, missions, rule: DuplicateRows) -> tuple[pd.DataFrame, pd.Series]:
    """GSVA scores of ``missions`` stacked (samples x pathways, columns of the first file; the
    published loaders concatenate without intersecting) and each row's source file mission.

    A sample in several files keeps one row: ``SEED_LAST`` the last in ``missions`` order,
    ``OWN_MISSION`` the first in sorted mission order (its own file: MHU-1 < MHU-2)."""
    parts, sources = [], []
    order = list(missions) if rule is DuplicateRows.SEED_LAST else sorted(missions)
    for m in order:
        for f in genelab_release.pathway_score_files(release_dir, tissue, m, db):
            df = genelab_release.read_score_file(f)
            parts.append(df)
            sources.append(pd.Series(m, index=df.index))
    scores = pd.concat(parts, axis=0)
    source = pd.concat(sources)
    keep = ~scores.index.duplicated(keep="last" if rule is DuplicateRows.SEED_LAST else "first")
    return scores[keep], source[keep]


def duplicated_samples(release_dir: Path | str, tissue: str, db: str, missions) -> dict[str, list[str]]:
    """Samples scored in more than one mission file: sample -> the files' missions."""
    seen: dict[str, list[str]] = {}
    for m in sorted(missions):
        for f in genelab_release.pathway_score_files(release_dir, tissue, m, db):
            for sid in genelab_release.read_score_file(f).index:
                seen.setdefault(sid, []).append(m)
    return {s: ms for s, ms in seen.items() if len(ms) > 1}


_STRAIN_TOKEN = re.compile(r"_C57-6(J|CR)_")
_STRAINS = {"J": "C57BL/6J", "CR": "C57BL/6CR"}


def strain_from_name(sample_id: str) -> str | None:
    """Strain from a GeneLab sample name (``Mmus_C57-6CR_...`` -> C57BL/6CR, ``C57-6J`` ->
    C57BL/6J); None for other tokens and GEO ids (the task metadata is used for those)."""
    m = _STRAIN_TOKEN.search(sample_id)
    return _STRAINS[m.group(1)] if m else None


def gravity_from_name(sample_id: str) -> str | None:
    """Gravity condition of an MHU sample name: ``FLT_uG`` uG, ``FLT_1G`` AG (artificial 1 g in
    flight), ``GC`` GC; None when the name carries none of them."""
    if "_FLT_uG_" in sample_id:
        return "uG"
    if "_FLT_1G_" in sample_id:
        return "AG"
    if "_GC_" in sample_id:
        return "GC"
    return None


def tissue_samples(release_dir: Path | str, tissue: str, db: str = "hallmark") -> pd.DataFrame:
    """One row per sample scored for the tissue (index = GSVA sample id): ``mission`` (its own
    mission: the first file holding it in sorted order), ``binary`` (1.0 / 0.0 from the task files,
    NaN for non-binary samples), ``group`` (the task metadata's label, e.g. Flight / GC / VC, or
    the gravity token for non-binary MHU samples), ``strain_release`` (task metadata) and
    ``strain_name`` (from the sample name), ``gravity`` (MHU samples)."""
    missions = SEED_TISSUE_MISSIONS[tissue]
    _, own = stacked_scores(release_dir, tissue, db, missions, DuplicateRows.OWN_MISSION)
    y, meta = lomo_labels(release_dir, tissue)
    task_ids = pd.Index(y.index)
    stripped = {re.sub(r"^[^.]+\.", "", s, count=1): s for s in task_ids}
    rows = []
    for sid, mission in own.items():
        task_id = sid if sid in y.index else stripped.get(sid)
        binary = float(y[task_id]) if task_id is not None else float("nan")
        group = str(meta.loc[task_id, "label"]) if task_id is not None and "label" in meta.columns else None
        gravity = gravity_from_name(sid) if mission.startswith("MHU") else None
        rows.append(dict(sample_id=sid, task_id=task_id, mission=mission, binary=binary,
                         group=group if group is not None else gravity,
                         strain_release=(meta.loc[task_id, "strain"] if task_id is not None and "strain" in meta.columns else None),
                         strain_name=strain_from_name(sid), gravity=gravity))
    return pd.DataFrame(rows).set_index("sample_id")
