"""A small GraphQL client for the Dagster webserver (dagster-graphql 1.13 schema), over httpx.

Every wait follows progress (progress.py): it goes on while the runs make progress and fails after a
period without any, saying what was last seen (the stuck run, its status and last event), so a failing
end-to-end test points at what hung, and a loaded machine does not fail a healthy run."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import httpx

from genebench_assets_tests.e2e.progress import (
    TERMINAL_RUN_STATUSES,
    Observation,
    RunEventTracker,
    StalledWait,
    run_ids_of,
    wait_with_progress,
)

IN_PROCESS_RUN_CONFIG: dict[str, Any] = {"execution": {"config": {"in_process": {}}}}
"""Run config selecting the in-process executor: one process per run instead of one per step (the
multiprocess default re-imports the code location for every step, too slow on 2 cores)."""

TERMINAL_BACKFILL_STATUSES = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


class GraphQLError(RuntimeError):
    pass


DagsterTimeout = StalledWait  # the name the fixtures catch

def asset_key(name: str | Sequence[str]) -> dict[str, list[str]]:
    return {"path": [name] if isinstance(name, str) else list(name)}


def metadata_dict(entries: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Flatten GraphQL metadata entries to {label: python value} (markdown/text -> str, json -> parsed)."""
    out: dict[str, Any] = {}
    for e in entries:
        label = e["label"]
        if "mdStr" in e:
            out[label] = e["mdStr"]
        elif "jsonString" in e:
            out[label] = json.loads(e["jsonString"])
        elif "floatValue" in e or "floatRepr" in e:
            out[label] = e.get("floatValue") if e.get("floatValue") is not None else float(e["floatRepr"])
        elif "intValue" in e or "intRepr" in e:
            out[label] = e.get("intValue") if e.get("intValue") is not None else int(e["intRepr"])
        elif "text" in e:
            out[label] = e["text"]
        elif "boolValue" in e:
            out[label] = e["boolValue"]
        elif "path" in e:
            out[label] = e["path"]
        elif "url" in e:
            out[label] = e["url"]
        else:
            out[label] = {k: v for k, v in e.items() if k not in ("label", "description")}
    return out


METADATA_FRAGMENT = """
fragment MetadataEntryFields on MetadataEntry {
  __typename
  label
  description
  ... on MarkdownMetadataEntry { mdStr }
  ... on JsonMetadataEntry { jsonString }
  ... on FloatMetadataEntry { floatValue floatRepr }
  ... on IntMetadataEntry { intValue intRepr }
  ... on TextMetadataEntry { text }
  ... on BoolMetadataEntry { boolValue }
  ... on PathMetadataEntry { path }
  ... on UrlMetadataEntry { url }
}
"""

PYTHON_ERROR_FIELDS = "message className stack causes { message stack }"


@dataclass
class RunInfo:
    run_id: str
    status: str
    job_name: str = ""
    tags: dict[str, str] = field(default_factory=dict)


class DagsterGraphQL:
    """`query()` plus the handful of operations the end-to-end tests need."""

    def __init__(self, base_url: str, location_name: str, repository_name: str = "__repository__",
                 timeout: float = 60.0):
        self.base_url = base_url.rstrip("/")
        self.location_name = location_name
        self.repository_name = repository_name
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ core
    def query(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        resp = self._http.post("/graphql", json={"query": query, "variables": dict(variables or {})})
        if resp.status_code != 200:
            raise GraphQLError(f"HTTP {resp.status_code} from /graphql: {resp.text[:2000]}")
        body = resp.json()
        if body.get("errors"):
            raise GraphQLError(json.dumps(body["errors"], indent=1)[:4000])
        return body["data"]

    def repository_selector(self) -> dict[str, str]:
        return {"repositoryName": self.repository_name, "repositoryLocationName": self.location_name}

    # ------------------------------------------------------------ workspace
    def location_status(self) -> tuple[str, str | None, list[str]]:
        """(loadStatus or 'ABSENT', load error or None, repository names) of our code location."""
        data = self.query(
            """
            query { workspaceOrError { __typename
              ... on Workspace { locationEntries { name loadStatus
                  locationOrLoadError { __typename
                    ... on RepositoryLocation { repositories { name } }
                    ... on PythonError { %s } } } }
              ... on PythonError { message } } }
            """ % PYTHON_ERROR_FIELDS
        )["workspaceOrError"]
        if data["__typename"] != "Workspace":
            return "ERROR", data.get("message"), []
        for entry in data["locationEntries"]:
            if entry["name"] != self.location_name:
                continue
            loe = entry["locationOrLoadError"]
            if loe is None:
                return entry["loadStatus"], None, []
            if loe["__typename"] == "PythonError":
                return entry["loadStatus"], _format_python_error(loe), []
            return entry["loadStatus"], None, [r["name"] for r in loe["repositories"]]
        return "ABSENT", None, []

    def daemon_statuses(self) -> dict[str, bool | None]:
        data = self.query("query { instance { daemonHealth { allDaemonStatuses { daemonType required healthy } } } }")
        return {d["daemonType"]: d["healthy"] for d in data["instance"]["daemonHealth"]["allDaemonStatuses"]
                if d["required"]}

    def asset_nodes(self) -> list[dict[str, Any]]:
        data = self.query(
            """
            query { assetNodes { assetKey { path } groupName isPartitioned jobNames
              assetChecksOrError { __typename ... on AssetChecks { checks { name blocking } } } } }
            """
        )
        return data["assetNodes"]

    def partition_keys(self, asset: str) -> list[str]:
        data = self.query(
            "query($k: AssetKeyInput!) { assetNodes(assetKeys: [$k]) { partitionKeys } }", {"k": asset_key(asset)}
        )
        nodes = data["assetNodes"]
        return nodes[0]["partitionKeys"] if nodes else []

    def dynamic_partitions(self, asset: str, dimension: str) -> list[str]:
        data = self.query(
            """query($k: AssetKeyInput!) { assetNodes(assetKeys: [$k]) {
                 partitionKeysByDimension { name partitionKeys } } }""",
            {"k": asset_key(asset)},
        )
        for dim in data["assetNodes"][0]["partitionKeysByDimension"]:
            if dim["name"] == dimension:
                return dim["partitionKeys"]
        return []

    def stop_sensor(self, name: str) -> str:
        """Stop a sensor (as its toggle in the UI does); returns its status afterwards."""
        data = self.query(
            """query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { __typename
                 ... on Sensor { sensorState { id status } } ... on Error { message } } }""",
            {"s": {**self.repository_selector(), "sensorName": name}})["sensorOrError"]
        if data["__typename"] != "Sensor":
            raise GraphQLError(f"sensor {name}: {data}")
        if data["sensorState"]["status"] != "RUNNING":
            return data["sensorState"]["status"]
        out = self.query(
            """mutation($id: String) { stopSensor(id: $id) { __typename
                 ... on StopSensorMutationResult { instigationState { status } } ... on PythonError { message } } }""",
            {"id": data["sensorState"]["id"]})["stopSensor"]
        if out["__typename"] != "StopSensorMutationResult":
            raise GraphQLError(f"stopSensor {name}: {out}")
        return out["instigationState"]["status"]

    # --------------------------------------------------------------- launch
    def launch_run(self, *, job_name: str = "__ASSET_JOB", assets: Sequence[str] | None = None,
                   partition_key: str | None = None, run_config: Mapping[str, Any] | None = None,
                   tags: Mapping[str, str] | None = None) -> str:
        """Launch (enqueue) a run of a job, or of an asset selection when `assets` is given."""
        selector: dict[str, Any] = {**self.repository_selector(), "jobName": job_name}
        if assets is not None:
            selector["assetSelection"] = [asset_key(a) for a in assets]
        all_tags = dict(tags or {})
        if partition_key is not None:
            all_tags["dagster/partition"] = partition_key
        params: dict[str, Any] = {
            "selector": selector,
            "runConfigData": dict(run_config if run_config is not None else IN_PROCESS_RUN_CONFIG),
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in all_tags.items()]},
        }
        data = self.query(
            """
            mutation($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename
              ... on LaunchRunSuccess { run { runId status } }
              ... on PythonError { %s }
              ... on Error { message }
              ... on RunConfigValidationInvalid { errors { message } } } }
            """ % PYTHON_ERROR_FIELDS,
            {"p": params},
        )["launchRun"]
        if data["__typename"] != "LaunchRunSuccess":
            raise GraphQLError(f"launchRun {job_name} {assets or ''} [{partition_key}] -> {json.dumps(data)[:4000]}")
        return data["run"]["runId"]

    def launch_backfill(self, *, assets: Sequence[str], partition_names: Sequence[str],
                        run_config: Mapping[str, Any] | None = None, title: str | None = None) -> str:
        """Launch an asset backfill of `assets` for `partition_names` of the root assets of the selection;
        downstream assets with another partitioning get the partitions their mappings give."""
        return self._launch_backfill(assets, {"partitionNames": list(partition_names), "fromFailure": False},
                                     run_config, title, describe=str(list(partition_names)))

    def launch_backfill_all_partitions(self, *, assets: Sequence[str], run_config: Mapping[str, Any] | None = None,
                                       title: str | None = None) -> str:
        """What the UI's "Materialize all" launches: an asset backfill of every partition of every
        selected asset (`allPartitions: true`; unpartitioned assets once)."""
        return self._launch_backfill(assets, {"allPartitions": True}, run_config, title, describe="allPartitions")

    def _launch_backfill(self, assets: Sequence[str], which: dict[str, Any], run_config, title, describe: str) -> str:
        params: dict[str, Any] = {
            "assetSelection": [asset_key(a) for a in assets],
            **which,
            "runConfigData": dict(run_config if run_config is not None else IN_PROCESS_RUN_CONFIG),
        }
        if title:
            params["title"] = title
        data = self.query(
            """
            mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) { __typename
              ... on LaunchBackfillSuccess { backfillId }
              ... on PythonError { %s }
              ... on Error { message } } }
            """ % PYTHON_ERROR_FIELDS,
            {"p": params},
        )["launchPartitionBackfill"]
        if data["__typename"] != "LaunchBackfillSuccess":
            raise GraphQLError(f"launchPartitionBackfill {assets} {describe} -> {json.dumps(data)[:4000]}")
        return data["backfillId"]

    def backfill_partition_statuses(self, backfill_id: str) -> dict[str, dict[str, int]]:
        """Per asset: how many of the backfill's targeted partitions are materialized / failed / in
        progress, as the backfill page shows them (assetBackfillData.assetBackfillStatuses)."""
        data = self.query(
            """query($id: String!) { partitionBackfillOrError(backfillId: $id) { __typename
                 ... on PartitionBackfill { assetBackfillData { assetBackfillStatuses { __typename
                   ... on AssetPartitionsStatusCounts { assetKey { path } numPartitionsTargeted
                       numPartitionsInProgress numPartitionsMaterialized numPartitionsFailed }
                   ... on UnpartitionedAssetStatus { assetKey { path } inProgress materialized failed } } } } } }""",
            {"id": backfill_id},
        )["partitionBackfillOrError"]
        out: dict[str, dict[str, int]] = {}
        for st in data["assetBackfillData"]["assetBackfillStatuses"]:
            key = "/".join(st["assetKey"]["path"])
            if st["__typename"] == "AssetPartitionsStatusCounts":
                out[key] = {"targeted": st["numPartitionsTargeted"], "in_progress": st["numPartitionsInProgress"],
                            "materialized": st["numPartitionsMaterialized"], "failed": st["numPartitionsFailed"]}
            else:
                out[key] = {"targeted": 1, "in_progress": int(st["inProgress"]),
                            "materialized": int(st["materialized"]), "failed": int(st["failed"])}
        return out

    # ----------------------------------------------------------------- wait
    def run(self, run_id: str) -> RunInfo:
        data = self.query(
            """query($id: ID!) { runOrError(runId: $id) { __typename
                 ... on Run { runId status jobName tags { key value } } ... on Error { message } } }""",
            {"id": run_id},
        )["runOrError"]
        if data["__typename"] != "Run":
            raise GraphQLError(f"run {run_id}: {data}")
        return RunInfo(data["runId"], data["status"], data["jobName"], {t["key"]: t["value"] for t in data["tags"]})

    def run_event_pages(self, requests: Mapping[str, str | None], limit: int = 1000) -> dict[str, dict[str, Any]]:
        """For each run id: its status and the events after its cursor (one request for all runs), in
        the shape progress.RunEventTracker reads."""
        if not requests:
            return {}
        ids = list(requests)
        params = ", ".join(f"$id{i}: ID!, $c{i}: String" for i in range(len(ids)))
        body = "\n".join(
            f"""r{i}: runOrError(runId: $id{i}) {{ __typename
                  ... on Run {{ runId status jobName tags {{ key value }}
                    eventConnection(afterCursor: $c{i}, limit: $limit) {{ cursor hasMore events {{ __typename
                      ... on MessageEvent {{ message timestamp eventType }}
                      ... on StepEvent {{ stepKey }} }} }} }}
                  ... on Error {{ message }} }}""" for i in range(len(ids)))
        variables: dict[str, Any] = {"limit": limit}
        for i, rid in enumerate(ids):
            variables[f"id{i}"], variables[f"c{i}"] = rid, requests[rid]
        data = self.query(f"query({params}, $limit: Int) {{ {body} }}", variables)
        out: dict[str, dict[str, Any]] = {}
        for i, rid in enumerate(ids):
            run = data[f"r{i}"]
            if run["__typename"] != "Run":
                raise GraphQLError(f"run {rid}: {run}")
            conn = run["eventConnection"]
            tags = {t["key"]: t["value"] for t in run["tags"]}
            out[rid] = {
                "status": run["status"], "job_name": run["jobName"], "partition": tags.get("dagster/partition"),
                "cursor": conn["cursor"], "has_more": conn["hasMore"],
                "events": [{"type": e.get("eventType") or e["__typename"], "message": e.get("message") or "",
                            "step": e.get("stepKey"),
                            "timestamp": float(e["timestamp"]) / 1000.0 if e.get("timestamp") else None}
                           for e in conn["events"]],
            }
        return out

    def wait_for_run(self, run_id: str, *, idle_timeout: float | None = None, ceiling: float | None = None,
                     poll: float = 1.0, check: Callable[[], None] | None = None) -> RunInfo:
        """Wait until the run is terminal, as long as it makes progress (new events, status changes):
        fail after `idle_timeout` s without any (progress.IDLE_TIMEOUT by default), naming its status
        and last event."""
        tracker = RunEventTracker(self.run_event_pages)

        def observe() -> Observation:
            tracker.update([run_id])
            r = tracker.runs[run_id]
            return Observation(done=r.status in TERMINAL_RUN_STATUSES, progress=tracker.fingerprint(),
                               summary=f"{r.status}, {r.n_events} events")

        wait_with_progress(observe, what=f"run {run_id}", idle_timeout=idle_timeout, ceiling=ceiling, poll=poll,
                           describe_stuck=tracker.stuck_report, check=check)
        return self.run(run_id)

    def backfill(self, backfill_id: str) -> dict[str, Any]:
        data = self.query(
            """query($id: String!) { partitionBackfillOrError(backfillId: $id) { __typename
                 ... on PartitionBackfill { id status numPartitions endTimestamp
                     error { %s }
                     runs { runId status jobName tags { key value } } }
                 ... on Error { message } } }""" % PYTHON_ERROR_FIELDS,
            {"id": backfill_id},
        )["partitionBackfillOrError"]
        if data["__typename"] != "PartitionBackfill":
            raise GraphQLError(f"backfill {backfill_id}: {data}")
        return data

    def wait_for_backfill(self, backfill_id: str, *, idle_timeout: float | None = None,
                          ceiling: float | None = None, poll: float = 2.0,
                          check: Callable[[], None] | None = None) -> dict[str, Any]:
        """Wait until the backfill is terminal and none of its runs is still going, as long as something
        progresses: its status, its runs (new ones, status changes, new events in their logs). Not the
        daemon's log lines for it: it writes them every iteration, a heartbeat, not progress. Fail after
        `idle_timeout` s without any (progress.IDLE_TIMEOUT by default), naming the stuck run, its
        status and its last event."""
        tracker = RunEventTracker(self.run_event_pages)

        def observe() -> Observation:
            bf = self.backfill(backfill_id)
            tracker.update(run_ids_of(bf["runs"]))
            runs_done = all(r["status"] in TERMINAL_RUN_STATUSES for r in bf["runs"])
            statuses: dict[str, int] = {}
            for r in bf["runs"]:
                statuses[r["status"]] = statuses.get(r["status"], 0) + 1
            return Observation(
                done=bf["status"] in TERMINAL_BACKFILL_STATUSES and runs_done,
                progress=(bf["status"], tracker.fingerprint()),
                value=bf,
                summary=f"backfill {bf['status']}, {len(bf['runs'])} runs {statuses}, "
                        f"{tracker.total_events} run events",
            )

        return wait_with_progress(observe, what=f"backfill {backfill_id}", idle_timeout=idle_timeout,
                                  ceiling=ceiling, poll=poll, describe_stuck=tracker.stuck_report, check=check)

    # ------------------------------------------------------ run diagnostics
    def run_failures(self, run_id: str, limit: int = 5000) -> list[str]:
        """Step / run failure messages with the Python error of each, for assertion messages."""
        data = self.query(
            """query($id: ID!, $limit: Int) { runOrError(runId: $id) { __typename
                 ... on Run { eventConnection(limit: $limit) { events { __typename
                   ... on ExecutionStepFailureEvent { stepKey message error { %s } }
                   ... on RunFailureEvent { message error { %s } }
                   ... on EngineEvent { message level error { %s } }
                   ... on AssetCheckEvaluationEvent { stepKey evaluation { checkName success partition description
                       metadataEntries { ...MetadataEntryFields } } }
                 } } } } }""" % (PYTHON_ERROR_FIELDS, PYTHON_ERROR_FIELDS, PYTHON_ERROR_FIELDS) + METADATA_FRAGMENT,
            {"id": run_id, "limit": limit},
        )["runOrError"]
        out = []
        for ev in data.get("eventConnection", {}).get("events", []):
            t = ev["__typename"]
            if t == "ExecutionStepFailureEvent":
                out.append(f"step {ev['stepKey']} failed: {ev['message']}\n{_format_python_error(ev.get('error'))}")
            elif t == "RunFailureEvent":
                out.append(f"run failed: {ev['message']}\n{_format_python_error(ev.get('error'))}")
            elif t == "EngineEvent" and ev.get("error"):
                out.append(f"engine: {ev['message']}\n{_format_python_error(ev['error'])}")
            elif t == "AssetCheckEvaluationEvent" and not ev["evaluation"]["success"]:
                e = ev["evaluation"]
                meta = metadata_dict(e.get("metadataEntries") or [])
                detail = meta.get("failures") or {k: v for k, v in meta.items() if not isinstance(v, (dict, list))}
                out.append(f"check {e['checkName']} [{e['partition']}] FAILED: {e['description'] or ''} {detail}")
        return out

    def describe_runs(self, run_ids: Iterable[str]) -> str:
        parts = []
        for rid in run_ids:
            info = self.run(rid)
            line = f"run {rid[:8]} {info.job_name} [{info.tags.get('dagster/partition', '-')}] {info.status}"
            if info.status != "SUCCESS":
                line += "\n    " + "\n    ".join(self.run_failures(rid)[:10])
            parts.append(line)
        return "\n".join(parts)

    # -------------------------------------------------- materializations
    def materializations(self, asset: str, partitions: Sequence[str] | None = None,
                         limit: int = 100) -> list[dict[str, Any]]:
        """Materialization events of an asset (optionally of some partitions), newest first."""
        data = self.query(
            """query($k: AssetKeyInput!, $p: [String!], $limit: Int) { assetOrError(assetKey: $k) { __typename
                 ... on Asset { assetMaterializations(partitions: $p, limit: $limit) {
                     runId partition timestamp metadataEntries { ...MetadataEntryFields } } } } }
            """ + METADATA_FRAGMENT,
            {"k": asset_key(asset), "p": list(partitions) if partitions is not None else None, "limit": limit},
        )["assetOrError"]
        if data["__typename"] != "Asset":
            return []
        return data["assetMaterializations"]

    def latest_metadata(self, asset: str, partition: str | None = None) -> dict[str, Any]:
        mats = self.materializations(asset, [partition] if partition is not None else None, limit=1)
        if not mats:
            raise AssertionError(f"no materialization of {asset} [{partition}]")
        return metadata_dict(mats[0]["metadataEntries"])

    def materialized_partitions(self, asset: str) -> set[str]:
        return {m["partition"] for m in self.materializations(asset, limit=10000) if m["partition"] is not None}

    # ------------------------------------------------------- asset checks
    def asset_checks(self, asset: str) -> list[dict[str, Any]]:
        data = self.query(
            """query($k: AssetKeyInput!) { assetNodes(assetKeys: [$k]) {
                 assetChecksOrError { __typename ... on AssetChecks { checks { name blocking } } } } }""",
            {"k": asset_key(asset)},
        )
        nodes = data["assetNodes"]
        if not nodes or nodes[0]["assetChecksOrError"]["__typename"] != "AssetChecks":
            return []
        return nodes[0]["assetChecksOrError"]["checks"]

    def check_executions(self, asset: str, check_name: str, partition: str | None = None,
                         limit: int = 20) -> list[dict[str, Any]]:
        """Executions of one asset check (of one partition when given), newest first."""
        return self.query(
            """query($k: AssetKeyInput!, $c: String!, $p: String, $limit: Int!) {
                 assetCheckExecutions(assetKey: $k, checkName: $c, partition: $p, limit: $limit) {
                   runId status partition timestamp
                   evaluation { success severity description partition metadataEntries { ...MetadataEntryFields } } } }
            """ + METADATA_FRAGMENT,
            {"k": asset_key(asset), "c": check_name, "p": partition, "limit": limit},
        )["assetCheckExecutions"]


def _format_python_error(err: Mapping[str, Any] | None) -> str:
    if not err:
        return ""
    text = f"{err.get('className') or ''}: {err.get('message', '')}".strip(": ")
    stack = err.get("stack") or []
    if stack:
        # The project's own frames first (the dagster internals around them are rarely the point).
        ours = [f for f in stack if "/genebench_assets/" in f]
        text += "\n" + "".join(ours[-8:] if ours else stack[-6:])
    for cause in err.get("causes") or []:
        text += f"\nCaused by: {cause.get('message', '')}" + ("\n" + "".join((cause.get("stack") or [])[-4:]))
    return text
