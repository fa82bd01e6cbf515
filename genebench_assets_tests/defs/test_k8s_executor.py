"""`k8s` of genebench_executor (dagster-k8s `k8s_job_executor`, issue 14), as far as it can be tested
without a Kubernetes cluster: deploy/k8s/run_config.yaml validates against every job of the code
location; the executor it selects is built by dagster-k8s from that config (image, namespace, env,
volume, resources) and renders the Kubernetes Job of a step, from a throwaway kubeconfig that points
at a closed port (so no API call can succeed unnoticed); misconfigurations fail run-config validation.
Submitting the Job to a cluster is configuration only (deploy/README.md)."""

from __future__ import annotations

import copy
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pytest
import yaml

from genebench_assets.definitions import defs
from genebench_assets.defs.runtime.execution import MATERIALIZE_JOBS, RunConfigError, genebench_executor, load_cli_run_config

REPO = Path(__file__).resolve().parents[2]
RUN_CONFIG = REPO / "deploy" / "k8s" / "run_config.yaml"
KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: nobody, user: {token: not-a-token}}]
contexts: [{name: nowhere, context: {cluster: nowhere, user: nobody, namespace: genebench}}]
current-context: nowhere
"""


def k8s_config() -> dict:
    return yaml.safe_load(RUN_CONFIG.read_text())


def out_of_cluster(config: dict, kubeconfig: Path) -> dict:
    """The file as a laptop would use it: no in-cluster service account, an explicit kubeconfig."""
    config = copy.deepcopy(config)
    config["execution"]["config"]["k8s"].update(load_incluster_config=False, kubeconfig_file=str(kubeconfig))
    return config


@pytest.mark.parametrize("job_name", [*MATERIALIZE_JOBS, "llm_replay_job"])
def test_k8s_run_config_validates_against_every_job(job_name):
    assert dg.validate_run_config(defs.resolve_job_def(job_name), k8s_config())


def test_k8s_run_config_is_accepted_by_materialize(tmp_path):
    config = load_cli_run_config(RUN_CONFIG, defs, {("settings", "data_dir"): "/data/genebench"})
    assert "k8s" in config["execution"]["config"]
    assert config["resources"]["settings"]["config"]["data_dir"] == "/data/genebench"


def test_executor_is_built_by_dagster_k8s_with_the_configured_image_and_namespace(tmp_path):
    from dagster._core.definitions.reconstruct import ReconstructableRepository
    from dagster._core.executor.init import InitExecutorContext
    from dagster._core.executor.step_delegating import StepDelegatingExecutor
    from dagster._core.system_config.objects import ResolvedRunConfig
    from dagster_k8s.executor import K8sStepHandler
    from dagster_k8s.job import construct_dagster_k8s_job

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    job = defs.resolve_job_def("tissue_job")
    resolved = ResolvedRunConfig.build(job, out_of_cluster(k8s_config(), kubeconfig))
    executor_config = resolved.execution.execution_engine_config  # defaults of dagster-k8s filled in
    assert set(executor_config) == {"k8s"}
    recon = ReconstructableRepository.for_module("genebench_assets.definitions", "defs").get_reconstructable_job("tissue_job")
    with dg.DagsterInstance.ephemeral() as instance:
        executor = genebench_executor.executor_creation_fn(InitExecutorContext(
            job=recon, executor_def=genebench_executor, executor_config=executor_config, instance=instance))
    assert isinstance(executor, StepDelegatingExecutor)
    assert executor._max_concurrent == 8  # noqa: SLF001
    handler = executor._step_handler  # noqa: SLF001 - what dagster-k8s built from the config
    assert isinstance(handler, K8sStepHandler)
    assert handler._executor_image == "registry.example.org/genebench:0.1.0"  # noqa: SLF001
    context = handler._executor_container_context  # noqa: SLF001
    assert context.namespace == "genebench"

    # The Job a step would be submitted as (what launch_step builds, minus the API call), with the
    # Helm chart's run-launcher settings standing in for the K8sRunLauncher.
    launcher = SimpleNamespace(job_image=None, dagster_home="/opt/dagster/dagster_home",
                               instance_config_map="genebench-instance", postgres_password_secret="genebench-postgresql")
    manifest = construct_dagster_k8s_job(
        job_config=context.get_k8s_job_config(handler._executor_image, launcher),  # noqa: SLF001
        args=["dagster", "api", "execute_step"], job_name="dagster-step-lomo-folds", pod_name="dagster-step-lomo-folds",
        component="step_worker", user_defined_k8s_config=context.run_k8s_config).to_dict()
    pod = manifest["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["image"] == "registry.example.org/genebench:0.1.0"
    assert container["image_pull_policy"] == "IfNotPresent"
    assert {"name": "GENEBENCH_DATA_DIR", "value": "/data/genebench"} in [
        {"name": e["name"], "value": e["value"]} for e in container["env"]]
    assert {"name": "genebench-data", "mount_path": "/data/genebench"} in [
        {"name": m["name"], "mount_path": m["mount_path"]} for m in container["volume_mounts"]]
    assert [v["persistent_volume_claim"]["claim_name"] for v in pod["volumes"] if v["name"] == "genebench-data"] == [
        "genebench-data"]
    assert container["resources"] == {"claims": None, "limits": {"memory": "8Gi"},
                                      "requests": {"cpu": "1", "memory": "4Gi"}}


MISCONFIGURATIONS = {
    "misspelt namespace key": (lambda k: k.update(job_namspace=k.pop("job_namespace")), "job_namspace"),
    "image not a string": (lambda k: k.update(job_image=["registry.example.org/genebench"]), "job_image"),
    "concurrency not a number": (lambda k: k.update(max_concurrent="eight"), "max_concurrent"),
    "unknown pull policy field": (lambda k: k["step_k8s_config"].update(container=[]), "container"),
}


@pytest.mark.parametrize("what", list(MISCONFIGURATIONS))
def test_misconfigured_k8s_executor_fails_validation(what, tmp_path):
    breaks, field = MISCONFIGURATIONS[what]
    config = k8s_config()
    breaks(config["execution"]["config"]["k8s"])
    with pytest.raises(dg.DagsterInvalidConfigError):
        dg.validate_run_config(defs.resolve_job_def("tissue_job"), config)
    # ... and `genebench materialize --run-config` names the file and the field in one line.
    bad = tmp_path / "bad_k8s.yaml"
    bad.write_text(yaml.safe_dump(config))
    with pytest.raises(RunConfigError) as err:
        load_cli_run_config(bad, defs, {})
    assert str(bad) in str(err.value) and field in str(err.value) and "\n" not in str(err.value), str(err.value)


def test_k8s_outside_a_cluster_fails_instead_of_running_locally(monkeypatch):
    """Without a kubeconfig and outside a pod, building the executor fails (dagster-k8s loads the
    in-cluster config by default); nothing runs in local processes instead."""
    import kubernetes

    from dagster._core.definitions.reconstruct import ReconstructableRepository
    from dagster._core.executor.init import InitExecutorContext
    from dagster._core.system_config.objects import ResolvedRunConfig

    for var in ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):  # as outside any pod
        monkeypatch.delenv(var, raising=False)
    job = defs.resolve_job_def("tissue_job")
    executor_config = ResolvedRunConfig.build(job, k8s_config()).execution.execution_engine_config
    recon = ReconstructableRepository.for_module("genebench_assets.definitions", "defs").get_reconstructable_job("tissue_job")
    with dg.DagsterInstance.ephemeral() as instance, pytest.raises(kubernetes.config.ConfigException):
        genebench_executor.executor_creation_fn(InitExecutorContext(
            job=recon, executor_def=genebench_executor, executor_config=executor_config, instance=instance))
