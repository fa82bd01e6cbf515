"""Where candidate studies come from, per source mode.

- demo: study folders in the demo mirror; the simulator's held-back study (published with
  `genebench demo-publish`) carries its tissue and mission.
- mirror: study folders in the mirror; tissue and mission from `OSD-N/study.yaml` (keys `tissue`,
  `mission`), else the study is pending with the reason. One bad folder (a name that is not an OSD
  accession, an unreadable sample table) is pending with its reason; the other folders are still read.
- osdr: the live OSDR search (`OsdrClient.search_studies`), then each new study's file listing and
  sample table."""

from __future__ import annotations

from pathlib import Path

from genebench_assets.science.osdr.discovery import Candidate, group_counts
from genebench_assets.science.osdr.study_catalog import StudyCatalog


def candidates_from_directory(root: Path, catalog: StudyCatalog, described: dict[str, tuple[str, str]],
                              quantifier: str | None = None) -> list[Candidate]:
    from genebench_assets.science.osdr.identifiers import is_valid_accession
    from genebench_assets.science.osdr.source_files import StudyDataError

    known = {s.osd for s in catalog.studies} | catalog.excluded_osd()
    out = []
    for folder in sorted(p for p in Path(root).glob("OSD-*") if p.is_dir()):
        osd = folder.name
        if osd in known:
            out.append(Candidate(osd=osd, tissue_raw=None, mission=None))
            continue
        if not is_valid_accession(osd, kinds=("OSD",)):
            # One badly named folder waits as pending with the reason; the other folders are still read.
            out.append(Candidate(osd=osd, tissue_raw=None, mission=None, problem=(
                f"refused: mirror folder {folder}: name {osd!r} is not a study accession like 'OSD-48' "
                "(folder skipped; rename it to its OSD accession)")))
            continue
        try:
            out.append(_folder_candidate(folder, osd, described, quantifier))
        except (StudyDataError, OSError, ValueError) as exc:
            # e.g. an unreadable sample table: that study is pending, discovery of the others goes on
            out.append(Candidate(osd=osd, tissue_raw=None, mission=None,
                                 problem=f"mirror folder {folder}: {' '.join(str(exc).split())}"))
    return out


def _folder_candidate(folder: Path, osd: str, described: dict[str, tuple[str, str]], quantifier: str | None = None) -> Candidate:
    from genebench_assets.science.osdr.genelab_files import DEFAULT_QUANTIFIER, select_study_files
    from genebench_assets.science.osdr.source_files import COUNTS, MissingStudyFilesError, RUNSHEET, SAMPLE_TABLE

    files = tuple(sorted(p.name for p in folder.iterdir() if p.is_file()))
    tissue, mission = described.get(osd, (None, None))
    info = folder / "study.yaml"
    problem = None
    if info.exists() or info.is_symlink():
        # One unreadable study.yaml keeps that study pending; it must not stop discovery of the others.
        from genebench_assets.science.inputs.guarded_files import LIMITS, InputFileError, load_yaml

        try:  # the guarded reader: regular file, size, UTF-8, no alias bomb
            meta = load_yaml(info, max_bytes=LIMITS["study_yaml"])
        except InputFileError as exc:
            meta, problem = None, str(exc)
        if meta is not None and not isinstance(meta, dict):
            problem = (f"{info}: expected a mapping with keys 'tissue' and 'mission', "
                       f"found {type(meta).__name__} {repr(meta)[:80]}")
        elif isinstance(meta, dict):
            tissue, mission = meta.get("tissue", tissue), meta.get("mission", mission)
    prefix = f"GLDS-{osd.split('-')[1]}"
    n_flight = n_ground = None
    try:
        chosen = select_study_files(osd, prefix, list(files), quantifier=quantifier or DEFAULT_QUANTIFIER)
        table = chosen.get(SAMPLE_TABLE) or chosen.get(RUNSHEET)
        if table and COUNTS in chosen:
            n_flight, n_ground = group_counts(folder / table, osd)
    except MissingStudyFilesError:
        pass  # place_candidates reports it as pending with the reason
    return Candidate(osd=osd, tissue_raw=tissue, mission=mission, organism="Mus musculus",
                     file_names=files, n_flight=n_flight, n_ground=n_ground, glds_prefix=prefix,
                     problem=problem)


def candidates_for_source(source, data_dir: str, catalog: StudyCatalog) -> list[Candidate]:
    if source.mode == "demo":
        from genebench_assets.science.osdr.demo_simulator import held_back_demo_studies

        root = source.demo_root(data_dir)
        if not root.exists():
            return []
        described = {s.osd: (s.tissue, s.mission) for s in held_back_demo_studies()}
        return candidates_from_directory(root, catalog, described)
    if source.mode == "mirror":
        return candidates_from_directory(Path(source.mirror_root), catalog, {}, source.quantifier)
    from genebench_assets.defs.refresh.live_candidates import live_candidates

    return live_candidates(source, data_dir, catalog)
