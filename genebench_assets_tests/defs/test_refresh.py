"""The refresh sensor, the weekly schedule and declarative automation (issue 5), on the real
definitions: the demo's held-back study, recorded-shape live OSDR responses, and failures."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import httpx
import pytest

from genebench_assets.definitions import defs
from genebench_assets.defs.runtime.partitions import ABSENT_PAIR_RUN_TAG
from genebench_assets.defs.refresh.sensors import osdr_new_studies_sensor
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.defs.sources.resources import OsdrSource
from genebench_assets.science.osdr.catalog_additions import load_additions, load_pending
from genebench_assets.science.osdr.demo_simulator import write_demo_mirror
from genebench_assets.science.osdr.live_client import OsdrClient
from genebench_assets.science.osdr.study_catalog import load_catalog

RUNSHEET_HEADER = "Sample Name,Factor Value[Spaceflight],Original Sample Name\n"


def _evaluate(data_dir: Path, source: OsdrSource, instance=None):
    instance = instance or dg.DagsterInstance.ephemeral()
    ctx = dg.build_sensor_context(
        instance=instance, resources={"settings": GenebenchSettings(data_dir=str(data_dir)), "osdr_source": source})
    return osdr_new_studies_sensor(ctx), instance


# ------------------------------------------------------------------------------------- demo
def test_demo_without_a_new_study_skips(tmp_path):
    write_demo_mirror(tmp_path / "demo_osdr", load_catalog(), n_genes=600)
    result, _ = _evaluate(tmp_path, OsdrSource(mode="demo"))
    assert isinstance(result, dg.SkipReason) and "no new study" in result.skip_message


def test_demo_published_mission_becomes_partitions_and_runs(tmp_path):
    write_demo_mirror(tmp_path / "demo_osdr", load_catalog(), n_genes=600, publish_held_back=True)
    result, instance = _evaluate(tmp_path, OsdrSource(mode="demo"))
    assert isinstance(result, dg.SensorResult)
    study_runs = [r for r in result.run_requests if r.job_name == "study_job" and ABSENT_PAIR_RUN_TAG not in r.tags]
    assert [r.partition_key for r in study_runs] == [dg.MultiPartitionKey({"tissue": "thymus", "mission": "RR-10"})]
    # The new mission's absent pairs get their "absent" record (every per-study asset), tagged so that
    # automation ignores them (test_absent_records_of_a_new_mission_rerun_no_tissue).
    absent = [r for r in result.run_requests if ABSENT_PAIR_RUN_TAG in r.tags]
    others = [t for t in load_catalog().tissues if t != "thymus"]
    assert sorted((r.job_name, r.partition_key.keys_by_dimension["tissue"]) for r in absent) == sorted(
        (j, t) for t in others for j in ("study_job", "nes_study_job"))
    assert {r.partition_key.keys_by_dimension["mission"] for r in absent} == {"RR-10"}
    assert any(r.job_name == "catalog_job" for r in result.run_requests)
    assert result.dynamic_partitions_requests[0].partition_keys == ["RR-10"]
    added = load_additions(tmp_path)
    assert [(s.osd, s.tissue, s.mission, s.expected_flight, s.expected_ground) for s in added] == [
        ("OSD-999", "thymus", "RR-10", 8, 8)]
    # The run-time catalog now has the pair; the next tick has nothing new.
    assert GenebenchSettings(data_dir=str(tmp_path)).catalog().has_pair("thymus", "RR-10")
    again, _ = _evaluate(tmp_path, OsdrSource(mode="demo"), instance)
    assert isinstance(again, dg.SkipReason)


# --------------------------------------------------------------------------------- live OSDR
def _hit(osd, tissue, title):
    return {"_id": osd, "_source": {"Accession": osd, "Study Title": title, "organism": "Mus musculus",
                                    "Study Assay Technology Type": "RNA Sequencing (RNA-Seq)", "Material Type": tissue}}


def _listing(osd, names):
    n = osd.split("-")[1]
    files = [{"file_name": name, "file_size": len(body), "remote_url":
              f"/geode-py/ws/studies/{osd}/download?source=datamanager&file={name}", "category": "GeneLab Processed RNA-Seq Files",
              "subdirectory": "", "date_created": 1.0, "restricted": False, "visible": True}
             for name, body in names.items()]
    return {"studies": {osd: {"file_count": len(files), "study_files": files}}, "success": True,
            "hits": 1, "input": n, "page_number": 1, "page_size": 25, "page_total": 1, "total_hits": 1, "valid_input": [n]}


def _runsheet(n_flight, n_ground):
    rows = [f"Mmus_C57-6J_LVR_FLT_Rep{i}_F{i},Space Flight,x" for i in range(n_flight)]
    rows += [f"Mmus_C57-6J_LVR_GC_Rep{i}_G{i},Ground Control,x" for i in range(n_ground)]
    return RUNSHEET_HEADER + "\n".join(rows) + "\n"


class RecordedOsdr:
    """Serves search, listing and downloads in the real response shapes."""

    def __init__(self, studies: dict, *, search_status=200, search_body=None):
        self.studies, self.search_status, self.search_body = studies, search_status, search_body

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.startswith("/osdr/data/search"):
            if self.search_status != 200:
                return httpx.Response(self.search_status, text="upstream error")
            if self.search_body is not None:
                return httpx.Response(200, text=self.search_body)
            hits = [_hit(osd, s["tissue"], s["title"]) for osd, s in self.studies.items()]
            return httpx.Response(200, json={"hits": {"total": len(hits), "hits": hits}})
        if path.startswith("/osdr/data/osd/files/"):
            osd = f"OSD-{path.rsplit('/', 1)[1]}"
            return httpx.Response(200, json=_listing(osd, self.studies[osd]["files"]))
        if "/download" in path:
            osd = path.split("/")[-2]
            name = request.url.params["file"]
            return httpx.Response(200, content=self.studies[osd]["files"][name].encode())
        return httpx.Response(404)


class RecordedSource(OsdrSource):
    """The live mode with the client pointed at recorded responses instead of the network."""

    def make_client(self, data_dir):
        return OsdrClient(Path(data_dir) / "osdr_cache", transport=httpx.MockTransport(_SERVER[0]),
                          sleep=lambda s: None, max_attempts=2)


_SERVER: list = [None]


def _live(tmp_path, server):
    _SERVER[0] = server
    return _evaluate(tmp_path, RecordedSource(mode="osdr"))


def _study(tissue, title, n_flight=4, n_ground=4, counts=True):
    n = "1001"
    files = {f"GLDS-{n}_rna_seq_bulkRNASeq_v2_runsheet.csv": _runsheet(n_flight, n_ground)}
    if counts:
        files[f"GLDS-{n}_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv"] = ",a\ng,1\n"
    return {"tissue": tissue, "title": title, "files": files}


def test_live_new_study_is_placed(tmp_path):
    result, _ = _live(tmp_path, RecordedOsdr({"OSD-1001": _study("Liver", "Rodent Research-12 (RR12): liver")}))
    assert isinstance(result, dg.SensorResult)
    assert [r.partition_key for r in result.run_requests
            if r.job_name == "study_job" and ABSENT_PAIR_RUN_TAG not in r.tags] == [
        dg.MultiPartitionKey({"tissue": "liver", "mission": "RR-12"})]
    assert {r.partition_key.keys_by_dimension["tissue"] for r in result.run_requests
            if ABSENT_PAIR_RUN_TAG in r.tags} == set(load_catalog().tissues) - {"liver"}
    assert [(s.osd, s.tissue, s.mission) for s in load_additions(tmp_path)] == [("OSD-1001", "liver", "RR-12")]


@pytest.mark.parametrize("study, reason", [
    (_study("Heart", "Rodent Research-12: heart"), "unknown tissue 'Heart'"),
    (_study("Liver", "Rodent Research-12: liver", counts=False), "no counts file"),
    (_study("Liver", "Rodent Research-12: liver", n_flight=2, n_ground=5), "too few samples per group: 2 Flight / 5 Ground"),
])
def test_live_unplaceable_study_is_pending_with_its_reason(tmp_path, study, reason):
    result, _ = _live(tmp_path, RecordedOsdr({"OSD-1001": study}))
    # Reported in the tick (catalog re-materialized to list it) and kept as pending, never dropped.
    assert isinstance(result, dg.SensorResult)
    assert not [r for r in result.run_requests if r.job_name == "study_job"]
    pending = load_pending(tmp_path)
    assert [p["osd"] for p in pending] == ["OSD-1001"] and reason in pending[0]["reason"]
    assert load_additions(tmp_path) == []


def test_live_known_studies_only_skips(tmp_path):
    result, _ = _live(tmp_path, RecordedOsdr({"OSD-48": _study("Liver", "Rodent Research-1")}))
    assert isinstance(result, dg.SkipReason) and "no new study" in result.skip_message


def test_live_malformed_response_is_reported_not_raised(tmp_path):
    result, _ = _live(tmp_path, RecordedOsdr({}, search_body="<html>not json</html>"))
    assert isinstance(result, dg.SkipReason) and "could not poll source 'osdr'" in result.skip_message


def test_live_osdr_down_is_reported_not_raised(tmp_path):
    result, _ = _live(tmp_path, RecordedOsdr({}, search_status=503))
    assert isinstance(result, dg.SkipReason) and "503" in result.skip_message


# ------------------------------------------------------------------------------- automation
def _report(instance, asset, partition):
    """A materialization and, as a real run records them, its blocking checks passing."""
    from dagster._core.definitions.asset_checks.asset_check_evaluation import (
        AssetCheckEvaluationTargetMaterializationData)

    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=asset, partition=partition))
    record = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]), limit=1).records[0]
    target = AssetCheckEvaluationTargetMaterializationData(
        storage_id=record.storage_id, run_id=record.run_id, timestamp=record.timestamp)
    for check in defs.asset_checks or []:
        for spec in check.check_specs:
            if spec.asset_key == dg.AssetKey(asset) and spec.blocking:
                instance.report_runless_asset_event(dg.AssetCheckEvaluation(
                    asset_key=dg.AssetKey(asset), check_name=spec.name, passed=True, partition=partition,
                    target_materialization_data=target))


def test_new_study_refreshes_only_its_tissue():
    """After everything is up to date, a new (thymus, RR-10) study requests thymus's folds only (the
    absent pairs, never materialized, do not hold anything up; its blocking checks must pass)."""
    instance = dg.DagsterInstance.ephemeral()
    catalog = load_catalog()
    instance.add_dynamic_partitions("mission", catalog.mission_names() + ["RR-10"])
    for t, m in catalog.pairs():
        key = str(dg.MultiPartitionKey({"tissue": t, "mission": m}))
        for a in ("raw_counts", "sample_metadata", "normalized_expression", "pathway_nes"):
            _report(instance, a, key)
    for t in catalog.tissues:
        for a in ("lomo_folds", "model_predictions", "evaluation_summary", "nes_conservation"):
            _report(instance, a, t)
    selection = dg.AssetSelection.assets("lomo_folds", "model_predictions", "evaluation_summary")
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection)
    assert first.total_requested == 0
    new = str(dg.MultiPartitionKey({"tissue": "thymus", "mission": "RR-10"}))
    for a in ("raw_counts", "sample_metadata", "normalized_expression"):
        _report(instance, a, new)
    second = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection,
                                               cursor=first.cursor)
    # The whole chain of the tissue concerned is requested in one tick; no other tissue.
    for asset in ("lomo_folds", "model_predictions", "evaluation_summary"):
        assert second.get_requested_partitions(dg.AssetKey(asset)) == {"thymus"}, asset
    assert second.total_requested == 3


def _run_requests_in_process(instance, data_dir, requests):
    """Execute sensor run requests as the daemon would: the job's assets (and their checks), the
    request's partition and tags, on the real definitions."""
    resources = {**(defs.resources or {}), "settings": GenebenchSettings(data_dir=str(data_dir)),
                 "osdr_source": OsdrSource(mode="demo")}
    for r in requests:
        job = defs.resolve_job_def(r.job_name)
        keys = [k for k in job.asset_layer.executable_asset_keys]
        checks = [c for c in (defs.asset_checks or []) if any(k.asset_key in keys for k in c.check_keys)]
        result = dg.materialize([*defs.assets, *checks], selection=keys, partition_key=r.partition_key,
                                instance=instance, resources=resources, tags=dict(r.tags), raise_on_error=False)
        assert result.success, (r.job_name, r.partition_key)


def test_absent_records_of_a_new_mission_rerun_no_tissue(tmp_path):
    """A refresh adding RR-10 (thymus only) records the five absent (tissue, RR-10) pairs by the
    sensor's runs: afterwards every RR-10 partition of every per-study asset but the real one has its
    "absent" record (so "Materialize all" shows nothing missing), and automation requests no tissue
    for them. Control: a non-absent materialization of such a pair does request its tissue."""
    from genebench_assets.defs.refresh.sensors import absent_pair_requests

    instance = dg.DagsterInstance.ephemeral()
    catalog = load_catalog()
    instance.add_dynamic_partitions("mission", catalog.mission_names() + ["RR-10"])
    for t, m in catalog.pairs():
        key = str(dg.MultiPartitionKey({"tissue": t, "mission": m}))
        for a in ("raw_counts", "sample_metadata", "normalized_expression", "pathway_nes"):
            _report(instance, a, key)
    for t in catalog.tissues:
        for a in ("lomo_folds", "model_predictions", "evaluation_summary", "nes_conservation"):
            _report(instance, a, t)
    selection = dg.AssetSelection.assets("lomo_folds", "model_predictions", "evaluation_summary",
                                         "nes_conservation")
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection)
    assert first.total_requested == 0

    requests = absent_pair_requests(catalog.tissues, ["RR-10"], {("thymus", "RR-10")})
    _run_requests_in_process(instance, tmp_path, requests)
    study_assets = ["raw_counts", "sample_metadata", "normalized_expression", "pathway_scores",
                    "differential_expression", "pathway_nes"]
    for a in study_assets:
        recorded = {k for k in instance.get_materialized_partitions(dg.AssetKey(a)) if "RR-10" in k}
        assert recorded == {str(dg.MultiPartitionKey({"tissue": t, "mission": "RR-10"}))
                            for t in catalog.tissues if t != "thymus"}, a
    second = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection,
                                               cursor=first.cursor)
    assert second.total_requested == 0, {k.to_user_string(): second.get_requested_partitions(k)
                                         for k in (dg.AssetKey("lomo_folds"), dg.AssetKey("nes_conservation"))}
    assert not list(tmp_path.rglob("*RR-10*")), "an absent record wrote a file"

    # Re-recording them (a later "Materialize all", untagged) changes nothing either.
    _run_requests_in_process(instance, tmp_path, [r._replace(tags={}) for r in requests])
    third = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection,
                                              cursor=second.cursor)
    assert third.total_requested == 0

    # Control: a materialization of (liver, RR-10) that is not an absent record is an update of liver's
    # inputs, and liver is requested: it is the "absent" data version that keeps the others quiet.
    liver = str(dg.MultiPartitionKey({"tissue": "liver", "mission": "RR-10"}))
    _report(instance, "raw_counts", liver)
    fourth = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection,
                                               cursor=third.cursor)
    assert fourth.get_requested_partitions(dg.AssetKey("lomo_folds")) == {"liver"}


def test_weekly_schedule_and_sensors_are_defined():
    assert defs.resolve_schedule_def("weekly_full_recheck").cron_schedule == "0 6 * * 1"
    assert defs.resolve_sensor_def("osdr_new_studies_sensor")
    assert defs.resolve_sensor_def("genebench_automation")
