"""Candidates from the live OSDR search: each unknown study's listing and sample table are fetched
(small files) so that placement can say whether it has counts and enough samples per group."""

from genebench_assets.science.osdr.discovery import Candidate, group_counts, mission_from_hit
from genebench_assets.science.osdr.study_catalog import StudyCatalog


def live_candidates(source, data_dir: str, catalog: StudyCatalog, client=None) -> list[Candidate]:
    from genebench_assets.science.osdr.genelab_files import select_study_files
    from genebench_assets.science.osdr.identifiers import is_valid_accession
    from genebench_assets.science.osdr.source_files import MissingStudyFilesError, RUNSHEET, SAMPLE_TABLE

    known = {s.osd for s in catalog.studies} | catalog.excluded_osd()
    owned = client is None
    client = client or source.make_client(data_dir)
    try:
        out = []
        for hit in client.search_studies():
            osd = str(hit.get("Accession", ""))
            if not is_valid_accession(osd, kinds=("OSD",)) or osd in known:  # never a path part
                continue
            number = int(osd.split("-")[1])
            listing = client.list_files([number]).get(osd, [])
            names = tuple(e["file_name"] for e in listing)
            prefix = f"GLDS-{number}"
            n_flight = n_ground = None
            try:
                chosen = select_study_files(osd, prefix, list(names), quantifier=source.quantifier)
                table_name = chosen.get(SAMPLE_TABLE) or chosen.get(RUNSHEET)
                entry = next(e for e in listing if e["file_name"] == table_name)
                table = client.download(osd, entry)
                n_flight, n_ground = group_counts(table.path, osd)
            except MissingStudyFilesError:
                pass  # pending, with the reason, in place_candidates
            out.append(Candidate(osd=osd, tissue_raw=hit.get("Material Type"), mission=mission_from_hit(hit),
                                 organism=hit.get("organism"), assay=hit.get("Study Assay Technology Type"),
                                 file_names=names, n_flight=n_flight, n_ground=n_ground, glds_prefix=prefix))
        return out
    finally:
        if owned:
            client.close()
