"""The state, pods and Deployments of a Kubernetes-run K2K app, as HQ reads them from the
workers' heartbeats (backend/k2k/kubernetes.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.k2k import kubernetes
from backend.k2k.models import AppState
from backend.replicator.config import WorkerConfig

AT = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CONFIG = WorkerConfig(app="orders", generation=3, group="streamhq-k2k-orders", source={}, target={},
                      topics=["orders"], workers=2)


def beat(slot: str, *, state: str = "running", age: float = 1.0, generation: int = 3, error: str | None = None):
    stamp = (AT - timedelta(seconds=age)).isoformat().replace("+00:00", "Z")
    return {"worker": slot, "host": f"k2k-orders-{slot}-7d9f-x{slot}", "generation": generation, "state": state,
            "time": stamp, "error": error}


def deployment(slot: str) -> dict:
    return {"kind": "Deployment", "metadata": {"name": f"k2k-orders-{slot}", "namespace": "replication",
                                               "labels": {"streamhq.io/worker-slot": slot}}}


def test_every_slot_beating_is_running_and_each_deployment_available():
    pods = kubernetes.reported_pods({"0": beat("0"), "1": beat("1")}, CONFIG, "replication", AT)

    assert kubernetes.state(pods, CONFIG, "replication", False, "orders") == (
        AppState.running, "2 workers copying in Kubernetes (replication)")
    assert [p["name"] for p in pods.values()] == ["k2k-orders-0-7d9f-x0", "k2k-orders-1-7d9f-x1"]
    resources = kubernetes.managed_resources([deployment("0"), deployment("1")], pods, paused=False)
    assert [r["status"] for r in resources] == ["available", "available"]


def test_a_silent_pod_is_unknown_and_the_app_deploying():
    pods = kubernetes.reported_pods({"0": beat("0"), "1": beat("1", age=60)}, CONFIG, "replication", AT)

    assert pods["1"]["state"] == "unknown"
    assert pods["1"]["reason"].startswith("no heartbeat since 2026-11-23T11:59:00")
    state, message = kubernetes.state(pods, CONFIG, "replication", False, "orders")
    assert state == AppState.deploying
    assert message == ("1 of 2 workers report from Kubernetes (replication); "
                       "apply `streamhq k2k manifest orders` there")
    statuses = [r["status"] for r in kubernetes.managed_resources([deployment("0"), deployment("1")], pods, False)]
    assert statuses == ["available", "not reporting"]


def test_workers_of_an_older_generation_do_not_count():
    pods = kubernetes.reported_pods({"0": beat("0", generation=2), "1": beat("1")}, CONFIG, "replication", AT)

    assert list(pods) == ["1"]
    assert kubernetes.state(pods, CONFIG, "replication", False, "orders")[0] == AppState.deploying


def test_a_failed_worker_fails_the_app_with_its_error():
    pods = kubernetes.reported_pods({"0": beat("0", state="failed", error="target topic orders missing"),
                                     "1": beat("1")}, CONFIG, "replication", AT)

    assert kubernetes.state(pods, CONFIG, "replication", False, "orders") == (
        AppState.failed, "k2k-orders-0-7d9f-x0: target topic orders missing")


def test_a_paused_app_scales_its_deployments_to_zero():
    assert kubernetes.state({}, CONFIG, "replication", True, "orders")[0] == AppState.paused
    assert kubernetes.managed_resources([deployment("0")], {}, paused=True)[0]["status"] == "scaled to 0"
