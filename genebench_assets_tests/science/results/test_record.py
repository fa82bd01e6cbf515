"""Results records (issue 20): schema, atomic write, validation on read (one line per problem)."""

import json

import pytest

from genebench_assets.science.results.record import (LIBRARIES, RecordError, read_record, read_records, record_path,
                                                     write_record)
from genebench_assets_tests.science.results.record_factory import make_record


def test_round_trip_and_fields(tmp_path):
    rec = make_record()
    path = write_record(tmp_path, rec)
    assert path == tmp_path / "results" / "genelab" / "A2" / f"{rec['record_id']}.json"
    assert read_record(path) == rec
    assert set(rec["library_versions"]) == set(LIBRARIES)
    assert rec["library_versions"]["numpy"]  # installed: a version string
    assert not list(path.parent.glob(".*.tmp"))  # atomic: no temp file left


def test_same_result_same_id_different_protocol_new_id(tmp_path):
    a, b, c = make_record(), make_record(), make_record(protocol="seed")
    assert a["record_id"] == b["record_id"] != c["record_id"]
    write_record(tmp_path, a), write_record(tmp_path, b), write_record(tmp_path, c)
    assert len(read_records(tmp_path, benchmark="genelab", task="A2")) == 2


@pytest.mark.parametrize("mutate, field", [
    (lambda r: r["summary"].update(mean="high"), "summary.mean"),
    (lambda r: r.pop("predictions_sha256"), "predictions_sha256"),
    (lambda r: r.update(kind="guess"), "kind"),
    (lambda r: r.update(extra_field=1), "<record>"),
    (lambda r: r["library_versions"].pop("gseapy"), "library_versions.gseapy"),
])
def test_malformed_record_refused_in_one_line(tmp_path, mutate, field):
    rec = make_record()
    path = write_record(tmp_path, rec)
    raw = json.loads(path.read_text())
    mutate(raw)
    path.write_text(json.dumps(raw))
    with pytest.raises(RecordError) as err:
        read_records(tmp_path)
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg and f"field '{field}'" in msg


def test_not_json_and_unsafe_names(tmp_path):
    bad = tmp_path / "results" / "genelab" / "A2" / "x.json"
    bad.parent.mkdir(parents=True)
    bad.write_text("{nope")
    with pytest.raises(RecordError, match=r"x.json: not JSON \(line 1"):
        read_records(tmp_path)
    rec = make_record()
    rec["task"] = "../../etc"
    with pytest.raises(RecordError, match="field 'task' is not a safe name"):
        record_path(tmp_path, rec)
    rec = make_record()
    rec["summary"]["mean"] = float("nan")   # NaN is not JSON: refused before writing
    with pytest.raises(RecordError):
        write_record(tmp_path, {**rec, "summary": {"mean": None}})
