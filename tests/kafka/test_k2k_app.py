"""A K2K app driven end to end through HQ's API on the sandbox: created from the seed's own
YAML example, run by the controller's worker processes, paused, offsets edited, resumed."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from backend.deps import services_of
from backend.k2k.manifest import CONFIG_DIR, SECRETS_DIR, manifests
from backend.settings import Settings
from tests.api.hq import ADMIN_TOKEN, RunningHQ, running_hq
from tests.kafka.replication import PARTITIONS, STREAMHQ, TargetReader, new_topic, produce_sequences, unique
from tests.waiting import until

pytestmark = pytest.mark.kafka

SEED_EXAMPLE = Path(__file__).parent / "fixtures" / "seed_000_put_example.yaml"


def seed_yaml_example() -> dict:
    return yaml.safe_load(SEED_EXAMPLE.read_text())


@pytest.fixture
def hq(tmp_path: Path) -> Iterator[RunningHQ]:
    settings = Settings(home=tmp_path / "hq", admin_token=ADMIN_TOKEN, builtin_agent=False)
    with running_hq(settings) as running:
        yield running


def register(api: httpx.Client, source: dict, target: dict) -> tuple[str, str]:
    for env in ("src", "dst"):
        api.post("/v1/environments", json={"name": env, "tier": "development"}).raise_for_status()
    api.put("/v1/environments/src/kafka-connections/plaintext",
            json={"override_broker_addresses": [source["bootstrap"]]}).raise_for_status()
    api.put("/v1/environments/dst/kafka-connections/scram", json={
        "override_broker_addresses": [target["sasl_bootstrap"]],
        "auth": {"sasl_scram": {"mechanism": "SCRAM-SHA-512", "username": target["username"],
                                "password": target["password"]}}}).raise_for_status()
    return "environments:kafka-connection/src/plaintext", "environments:kafka-connection/dst/scram"


def state(api: httpx.Client, name: str) -> str:
    return api.get(f"/api/v0/apps/k2k/{name}").json()["status"]["state"]


def test_seed_example_app_copies_pauses_rewinds_and_resumes(hq, source, target):
    api = hq.client()
    source_lrn, target_lrn = register(api, source, target)
    topic = new_topic(source, partitions=3)
    produce_sequences(source, topic, 100, partitions=3)

    app = seed_yaml_example()
    name = unique("seed-app")
    app |= {"apiVersion": "v1", "kind": "K2KApp"}  # the seed's placeholders ("text")
    app["metadata"]["name"] = name
    app["spec"] |= {"sourceKafkaLRN": source_lrn, "targetKafkaLRN": target_lrn, "topics": [topic]}
    app["spec"]["replicator"]["schemaMapping"] = False  # not implemented: refused with a 400, tested in tests/api
    del app["spec"]["deploymentNamespaceLRN"]  # no Kubernetes here: workers run locally
    app["spec"]["configOverrides"] = {"consumer.fetch.wait.max.ms": 100}
    created = api.post("/api/v0/apps/k2k", content=yaml.safe_dump(app),
                       headers={"Content-Type": "application/yaml"})
    assert created.status_code == 201, created.text
    assert app["spec"]["paused"] is True  # the seed's example starts paused
    until(lambda: state(api, name) == "paused", 120, "the paused state")

    api.patch(f"/api/v0/apps/k2k/{name}", json={"spec": {"paused": False}}).raise_for_status()
    until(lambda: state(api, name) == "running", 120, "the running state")
    reader = TargetReader(target, topic, partitions=3)
    reader.wait_for(300, timeout=120)

    def caught_up() -> dict | None:
        metrics = api.get(f"/api/v0/apps/k2k/{name}").json().get("metrics")
        if not metrics or not metrics["destination_topics"]:
            return None
        lags = [p["lag"] for t in metrics["destination_topics"] for p in t["offsets"]["partitions"]]
        return metrics if lags and not any(lags) else None

    metrics = until(caught_up, 120, "metrics showing no lag")
    assert [p["log_end_offset"] for p in metrics["source_topics"][0]["offsets"]["partitions"]] == [100, 100, 100]
    listed = api.get("/api/v0/apps/k2k").json()["items"]
    summary = next(a for a in listed if a["metadata"]["name"] == name)["metrics_summary"]
    assert (summary["topics_count"], summary["partitions_count"], summary["total_lag"]) == (1, 3, 0)
    pods = api.get(f"/api/v0/apps/k2k/{name}").json()["status"]["deployment"]["pods"]
    assert [p["state"] for p in pods] == ["running"]

    busy = api.patch(f"/api/v0/apps/k2k/{name}/offsets/{topic}", json={"offsets": [{"partition": 0, "offset": 0}]})
    assert busy.status_code == 409

    api.patch(f"/api/v0/apps/k2k/{name}", json={"spec": {"paused": True}}).raise_for_status()
    until(lambda: state(api, name) == "paused", 120, "the paused state")
    positions = api.get(f"/api/v0/apps/k2k/{name}/offsets/{topic}").json()["partitions"]
    assert [(p["committed"], p["earliest"], p["latest"]) for p in positions] == [(100, 0, 100)] * 3
    edited = api.patch(f"/api/v0/apps/k2k/{name}/offsets/{topic}",
                       json={"offsets": [{"partition": 0, "offset": 40}]})
    assert edited.json() == {"application_name": name, "status": "updated",
                             "updated_partitions": [{"topic_name": topic, "partition": 0, "offset": 40}]}
    api.patch(f"/api/v0/apps/k2k/{name}", json={"spec": {"paused": False}}).raise_for_status()

    reader.wait_for(360, timeout=120)
    assert reader.values[0] == list(range(100)) + list(range(40, 100))  # exactly from the edited position
    assert reader.values[1] == reader.values[2] == list(range(100))
    reader.close()

    deleted = api.delete(f"/api/v0/apps/k2k/{name}")
    assert deleted.json()["status"]["state"] == "deleting"
    until(lambda: not services_of(hq.app).k2k.controller.workers_alive(name), 120, "the workers to stop")


def test_an_app_missing_its_target_topic_fails_with_the_reason(hq, source, target):
    api = hq.client()
    source_lrn, target_lrn = register(api, source, target)
    topic = new_topic(source, partitions=1)
    name = unique("no-topic")
    api.post("/api/v0/apps/k2k", json={"metadata": {"name": name}, "spec": {
        "sourceKafkaLRN": source_lrn, "targetKafkaLRN": target_lrn, "topics": [topic],
        "replicator": {"autoCreateControlTopics": True}}}).raise_for_status()
    until(lambda: state(api, name) == "failed", 120, "the failed state")
    status = api.get(f"/api/v0/apps/k2k/{name}").json()["status"]
    assert "autoCreateTopics" in status["statusMessage"]
    assert status["deployment"]["pods"][0]["lastTermination"]["message"].startswith("exit code 2")
    api.delete(f"/api/v0/apps/k2k/{name}")


def test_an_app_between_two_listeners_of_one_cluster_fails_and_starts_no_worker(hq, source):
    """Plaintext and SASL listeners of one cluster: different addresses, so the app is stored;
    the controller learns they share a cluster id before any worker starts, and fails the app."""
    api = hq.client()
    for env in ("src", "dst"):
        api.post("/v1/environments", json={"name": env, "tier": "development"}).raise_for_status()
    api.put("/v1/environments/src/kafka-connections/plaintext",
            json={"override_broker_addresses": [source["bootstrap"]]}).raise_for_status()
    api.put("/v1/environments/dst/kafka-connections/scram", json={
        "override_broker_addresses": [source["sasl_bootstrap"]],
        "auth": {"sasl_scram": {"mechanism": "SCRAM-SHA-512", "username": source["username"],
                                "password": source["password"]}}}).raise_for_status()
    name = unique("one-cluster")

    created = api.post("/api/v0/apps/k2k", json={"metadata": {"name": name}, "spec": {
        "sourceKafkaLRN": "environments:kafka-connection/src/plaintext",
        "targetKafkaLRN": "environments:kafka-connection/dst/scram", "topics": ["orders"]}})

    assert created.status_code == 201, created.text
    until(lambda: state(api, name) == "failed", 120, "the failed state")
    status = api.get(f"/api/v0/apps/k2k/{name}").json()["status"]
    assert "same Kafka cluster" in status["statusMessage"]
    assert status["deployment"]["pods"] == []
    assert services_of(hq.app).k2k.controller.workers_alive(name) == 0
    api.delete(f"/api/v0/apps/k2k/{name}")


def test_kubernetes_manifests_run_the_worker_command_with_credentials_in_a_secret(hq, source, target, tmp_path):
    """The manifest's pods, run here as Kubernetes would run them (the ConfigMap and Secret
    mounted as files, the container's command), copy with the Secret's credentials, and HQ
    reports the app, its pods and its Deployments from their heartbeats."""
    api = hq.client()
    source_lrn, target_lrn = register(api, source, target)
    name = unique("k8s")
    topic = new_topic(source)
    api.post("/api/v0/apps/k2k", json={"metadata": {"name": name}, "spec": {
        "sourceKafkaLRN": source_lrn, "targetKafkaLRN": target_lrn, "topics": [topic],
        "replicator": {"autoCreateTopics": True, "autoCreateControlTopics": True},
        "deploymentNamespaceLRN": "kubernetes:namespace/dst/incluster/replication",
        "kubernetes": {"image": "registry.example/streamhq:1", "serviceAccount": "k2k"},
        "configOverrides": {"workers": 2}}}).raise_for_status()
    docs = {(d["kind"], d["metadata"]["name"]): d for d in manifests(hq.store, name)}
    assert set(docs) == {("ConfigMap", f"k2k-{name}"), ("Secret", f"k2k-{name}"),
                         ("Deployment", f"k2k-{name}-0"), ("Deployment", f"k2k-{name}-1")}
    assert target["password"] not in docs[("ConfigMap", f"k2k-{name}")]["data"]["config.json"]
    assert target["password"] in docs[("Secret", f"k2k-{name}")]["stringData"]["secrets.json"]
    pod = docs[("Deployment", f"k2k-{name}-1")]["spec"]["template"]["spec"]
    assert pod["containers"][0]["command"][:4] == ["streamhq", "worker", "--app", name]
    assert pod["serviceAccountName"] == "k2k"
    assert all(d["metadata"]["namespace"] == "replication" for d in docs.values())
    assert not services_of(hq.app).k2k.controller.workers_alive(name)  # Kubernetes runs them, not HQ
    until(lambda: state(api, name) == "deploying", 120, "deploying: no pod has reported yet")

    pods = run_as_kubernetes_would(docs, name, tmp_path / "pod")
    try:
        produce_sequences(source, topic, 100)
        try:
            TargetReader(target, topic).wait_for(100 * PARTITIONS, timeout=120)
        except AssertionError as exc:
            logs = "\n".join(f.read_text()[-2000:] for f in sorted((tmp_path / "pod").glob("*.log")))
            raise AssertionError(f"{exc}\n{logs}") from None
        until(lambda: state(api, name) == "running", 120, "running, from the pods' heartbeats")
        status = api.get(f"/api/v0/apps/k2k/{name}").json()["status"]
    finally:
        for pod in pods:
            pod.terminate()
            pod.wait(60)
    assert [(p["namespace"], p["state"]) for p in status["deployment"]["pods"]] == [("replication", "running")] * 2
    assert status["statusMessage"] == "2 workers copying in Kubernetes (replication)"
    resources = {(r["kind"], r["name"]): r["status"] for r in status["deployment"]["managedResources"]}
    assert resources == {("ConfigMap", f"k2k-{name}"): "rendered", ("Secret", f"k2k-{name}"): "rendered",
                         ("Deployment", f"k2k-{name}-0"): "available", ("Deployment", f"k2k-{name}-1"): "available"}
    assert status["deployment"]["inSync"] is True


def run_as_kubernetes_would(docs: dict, name: str, mounts: Path) -> list[subprocess.Popen]:
    """Each Deployment's container command, with its ConfigMap and Secret as mounted files."""
    mounts.mkdir(parents=True)
    (mounts / "config.json").write_text(docs[("ConfigMap", f"k2k-{name}")]["data"]["config.json"])
    (mounts / "secrets.json").write_text(docs[("Secret", f"k2k-{name}")]["stringData"]["secrets.json"])
    pods = []
    for (kind, _), doc in sorted(docs.items()):
        if kind != "Deployment":
            continue
        command = doc["spec"]["template"]["spec"]["containers"][0]["command"]
        # Secrets first: the config directory is a prefix of the secrets directory.
        command = [STREAMHQ, *(arg.replace(SECRETS_DIR, str(mounts)).replace(CONFIG_DIR, str(mounts))
                               for arg in command[1:])]
        with (mounts / f"{doc['metadata']['name']}.log").open("wb") as log:
            pods.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
    return pods
