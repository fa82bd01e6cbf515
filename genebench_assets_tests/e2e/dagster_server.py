"""Start the real `dagster-webserver` and `dagster-daemon` for end-to-end tests, and clean up after them.

    with dagster_server(tmp_dir) as server:
        server.client.launch_run(job_name="catalog_job")

Both processes run on 127.0.0.1 with a free port, a temporary DAGSTER_HOME (its dagster.yaml: the default
run launcher, a queued run coordinator that the daemon dequeues every second, automation and
telemetry off), `-w workspace.yaml` from the repo root, and GENEBENCH_DATA_DIR inside the tmp dir.
Each is started in its own session (`start_new_session=True`), so the code servers and run workers
they spawn share its process group; on exit every group is sent SIGTERM, then SIGKILL after a
bounded grace period, and any straggler found under them is killed too. Their stdout/stderr go to
`<tmp>/logs/{webserver,daemon}.log`, kept for debugging.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping

import httpx

from genebench_assets_tests.e2e.graphql_client import DagsterGraphQL
from genebench_assets_tests.e2e.progress import CounterProgress, Observation, StalledWait, wait_with_progress

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCATION_NAME = "genebench_assets"

DAGSTER_YAML = """\
# Written by genebench_assets_tests/e2e/dagster_server.py for one end-to-end test session.
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: {max_concurrent_runs}
    dequeue_interval_seconds: 1
run_launcher:
  module: dagster._core.launcher
  class: DefaultRunLauncher
# The test drives every run itself: no declarative automation racing the backfill (the
# genebench_automation sensor would otherwise launch tissue-level runs on its own; it is also
# stopped once the server is up, see dagster_server()).
auto_materialize:
  enabled: false
  use_sensors: false
freshness:
  enabled: false
telemetry:
  enabled: false
nux:
  enabled: false
"""


class DagsterServerError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bin(name: str) -> str:
    """The console script next to the running interpreter (the venv's), else on PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    import shutil

    found = shutil.which(name)
    if not found:
        raise DagsterServerError(f"{name} not found next to {sys.executable} nor on PATH")
    return found


def _tail(path: Path, n: int = 60) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-n:])


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may contain spaces and parentheses
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def descendants(pid: int) -> list[int]:
    """Every live descendant of `pid` (Linux /proc walk)."""
    if not Path("/proc").is_dir():
        return []
    children = _children_map()
    out, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            out.append(child)
            stack.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@dataclass
class ManagedProcess:
    name: str
    proc: subprocess.Popen
    log_path: Path
    seen_pids: set[int] = field(default_factory=set)

    def remember_descendants(self) -> None:
        if self.proc.poll() is None:
            self.seen_pids.update(descendants(self.proc.pid))


@dataclass
class DagsterServer:
    url: str
    port: int
    dagster_home: Path
    data_dir: Path
    log_dir: Path
    client: DagsterGraphQL = field(repr=False)
    processes: list[ManagedProcess] = field(repr=False)
    env: dict[str, str] = field(repr=False)  # never printed: it is the caller's environment

    def logs_tail(self, n: int = 80) -> str:
        return "\n".join(f"----- {p.name} ({p.log_path}) -----\n{_tail(p.log_path, n)}" for p in self.processes)

    def remember_descendants(self) -> None:
        for p in self.processes:
            p.remember_descendants()

    def check_alive(self) -> None:
        """Raise DagsterServerError (with the logs) if the webserver or the daemon has exited: a wait
        for runs then stops at once instead of waiting for its idle limit."""
        for p in self.processes:
            if p.proc.poll() is not None:
                raise DagsterServerError(f"{p.name} exited with {p.proc.returncode}\n" + self.logs_tail())


def init_instance(home: Path) -> None:
    """Create the instance's sqlite storages once, before two processes race to create them (the
    webserver and the daemon starting together on an empty DAGSTER_HOME can leave the schedule
    storage with two alembic heads: "Version table 'alembic_version' has more than one head")."""
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(home)) as instance:
        instance.get_runs(limit=1)
        instance.all_instigator_state()


def _start(name: str, cmd: list[str], env: Mapping[str, str], cwd: Path, log_dir: Path) -> ManagedProcess:
    log_path = log_dir / f"{name}.log"
    log = open(log_path, "ab", buffering=0)  # noqa: SIM115 - closed by the child's exit / GC; the file stays
    log.write(f"$ {' '.join(cmd)}\n".encode())
    proc = subprocess.Popen(cmd, cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()
    return ManagedProcess(name, proc, log_path)


def stop_processes(processes: list[ManagedProcess], grace: float = 15.0) -> list[int]:
    """SIGTERM every process group, SIGKILL whatever is left after `grace` seconds (and any remembered
    descendant that escaped its group). Returns the pids still alive afterwards (should be empty)."""
    for p in processes:
        p.remember_descendants()
    for p in processes:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for p in processes:
        try:
            p.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    # Give group members a moment after the leader to exit, then kill everything left.
    all_pids = {pid for p in processes for pid in p.seen_pids}
    while time.monotonic() < deadline and any(_alive(pid) for pid in all_pids):
        time.sleep(0.2)
    for p in processes:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.proc.wait(timeout=5)
    for pid in all_pids:
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
    # A SIGKILLed process is gone only once reaped; on a loaded machine that takes seconds, not 0.2 s.
    everything = all_pids | {p.proc.pid for p in processes}
    reap_deadline = time.monotonic() + 10.0
    while time.monotonic() < reap_deadline and any(_alive(pid) for pid in everything):
        time.sleep(0.2)
    return sorted(pid for pid in everything if _alive(pid))


def _log_sizes(server: DagsterServer) -> dict[str, int]:
    out = {}
    for p in server.processes:
        try:
            out[p.name] = p.log_path.stat().st_size
        except OSError:
            out[p.name] = -1
    return out


def _wait_ready(server: DagsterServer, idle_timeout: float | None = None, ceiling: float | None = None) -> None:
    """Wait for /server_info, then for the code location to load, then for the daemon's heartbeats.

    Progress-following (progress.py): each stage reached and every line the webserver or the daemon
    logs resets the idle timer; fail after `idle_timeout` s without any, or when a process exits."""
    needed = {"QUEUED_RUN_COORDINATOR", "BACKFILL"}
    state: dict[str, object] = {"stage": "webserver answers /server_info", "last": None}

    def observe() -> Observation:
        stage = state["stage"]
        if stage == "webserver answers /server_info":
            try:
                if httpx.get(f"{server.url}/server_info", timeout=5).status_code == 200:
                    state["stage"] = "code location loaded"
            except httpx.HTTPError:
                pass
        elif stage == "code location loaded":
            status, error, repos = server.client.location_status()
            state["last"] = (status, error, repos)
            if error:
                raise DagsterServerError(f"code location {server.client.location_name!r} failed to load:\n{error}")
            if status == "LOADED" and repos:
                server.client.repository_name = repos[0]
                state["stage"] = "daemons healthy"
        else:
            statuses = server.client.daemon_statuses()
            state["last"] = statuses
            if all(statuses.get(d) for d in needed):
                return Observation(done=True)
        progress = CounterProgress(str(state["stage"]), _log_sizes(server))
        return Observation(done=False, progress=progress.fingerprint(),
                           summary=f"waiting for: {state['stage']} (last: {state['last']})")

    try:
        wait_with_progress(observe, what="dagster webserver + daemon start-up", idle_timeout=idle_timeout,
                           ceiling=ceiling, poll=1.0, check=server.check_alive)
    except StalledWait as exc:
        raise DagsterServerError(f"{exc}\n{server.logs_tail()}") from None


@contextlib.contextmanager
def dagster_server(
    tmp_dir: Path,
    *,
    workspace: Path | None = None,
    cwd: Path | None = None,
    location_name: str = LOCATION_NAME,
    extra_env: Mapping[str, str] | None = None,
    max_concurrent_runs: int = 2,
    startup_idle_timeout: float | None = None,
    backfill_interval_seconds: float | None = None,
) -> Iterator[DagsterServer]:
    """Run `dagster-webserver` + `dagster-daemon` on `workspace` (default: the repo's workspace.yaml).
    `backfill_interval_seconds`: run the daemon through fast_daemon.py, whose backfill loop runs that
    often instead of every 30 s. `startup_idle_timeout`: how long start-up may go without progress
    (a stage reached, a log line written) before failing; default progress.IDLE_TIMEOUT."""
    tmp_dir = Path(tmp_dir).resolve()
    cwd = Path(cwd or REPO_ROOT).resolve()
    workspace = Path(workspace or cwd / "workspace.yaml").resolve()
    home, data_dir, log_dir = tmp_dir / "dagster_home", tmp_dir / "data", tmp_dir / "logs"
    for d in (home, data_dir, log_dir):
        d.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(DAGSTER_YAML.format(max_concurrent_runs=max_concurrent_runs))

    env = {k: v for k, v in os.environ.items() if not k.startswith(("GENEBENCH_", "DAGSTER_"))}
    env.update({
        "DAGSTER_HOME": str(home),
        "GENEBENCH_DATA_DIR": str(data_dir),
        "GENEBENCH_SOURCE": "demo",
        # GENEBENCH_DEMO_GENES stays at the simulator's default: with fewer than ~5,500 genes every
        # demo sample fails the QC of SPEC 4.2 (>= 5,000 detected genes, science/sample_qc.py) and the
        # blocking check sample_metadata_flight_ground_minimums stops the graph.
        "PYTHONUNBUFFERED": "1",
        "DAGSTER_DISABLE_TELEMETRY": "1",
    })
    # Keep the reference-data location if the caller set it (it is read-only input, not state).
    if "GENEBENCH_SHARED_DATA" in os.environ:
        env["GENEBENCH_SHARED_DATA"] = os.environ["GENEBENCH_SHARED_DATA"]
    env.update(extra_env or {})
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(cwd), env.get("PYTHONPATH", "")] if p)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    processes: list[ManagedProcess] = []
    client = DagsterGraphQL(url, location_name)
    server = DagsterServer(url, port, home, data_dir, log_dir, client, processes, env)
    t0 = time.monotonic()
    failed = False
    try:
        init_instance(home)
        processes.append(_start("webserver", [_bin("dagster-webserver"), "-h", "127.0.0.1", "-p", str(port),
                                              "-w", str(workspace)], env, cwd, log_dir))
        daemon = ([_bin("dagster-daemon")] if backfill_interval_seconds is None else
                  [sys.executable, "-m", "genebench_assets_tests.e2e.fast_daemon", str(backfill_interval_seconds)])
        processes.append(_start("daemon", [*daemon, "run", "-w", str(workspace)], env, cwd, log_dir))
        _wait_ready(server, startup_idle_timeout)
        # The automation sensor (running by default, evaluated in the code server) would otherwise tick
        # into the `use_sensors: false` refusal every 30 s: the tests drive every run themselves.
        try:
            print(f"[e2e] genebench_automation: {client.stop_sensor('genebench_automation')}", flush=True)
        except Exception as exc:  # not fatal: with use_sensors false it cannot launch anything anyway
            print(f"[e2e] could not stop genebench_automation: {exc}", flush=True)
        print(f"\n[e2e] dagster webserver {url} + daemon ready in {time.monotonic() - t0:.1f}s; "
              f"DAGSTER_HOME={home}; logs in {log_dir}", flush=True)
        yield server
    except BaseException:
        failed = True
        raise
    finally:
        client.close()
        left = stop_processes(processes)
        print(f"[e2e] dagster processes stopped (logs kept in {log_dir})", flush=True)
        if left and not failed:
            raise DagsterServerError(f"processes still alive after cleanup: {left}")
