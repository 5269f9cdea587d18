"""What HQ can say about an app whose workers run in Kubernetes.

HQ does not talk to the Kubernetes API: the manifests are applied by the user
(`streamhq k2k manifest NAME | kubectl apply -f -`). What it does see is each worker's
heartbeat on the app's control topic, which carries its slot, its host name (in Kubernetes,
the pod's name), its state, its generation and its last error. From those come the app's
state, its pods, and whether each Deployment of the manifest is up."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backend.clock import utc_now
from backend.k2k.models import AppState
from backend.replicator.config import WorkerConfig

# Workers beat every 2 s; a pod silent for longer than this is not known to be up.
FRESH_SECONDS = 15.0


def _age(stamp: str | None, at: datetime) -> float:
    if not stamp:
        return float("inf")
    try:
        return (at - datetime.fromisoformat(stamp.replace("Z", "+00:00"))).total_seconds()
    except ValueError:
        return float("inf")


def reported_pods(beats: dict[str, dict[str, Any]], config: WorkerConfig, namespace: str,
                  at: datetime | None = None) -> dict[str, dict[str, Any]]:
    """Per worker slot, the pod its latest heartbeat of the current generation describes."""
    at = at or utc_now()
    pods: dict[str, dict[str, Any]] = {}
    for slot, beat in sorted(beats.items()):
        if beat.get("generation") != config.generation:
            continue  # a worker of an older spec, being replaced
        fresh = _age(beat.get("time"), at) <= FRESH_SECONDS
        pods[slot] = {
            "name": beat.get("host") or f"k2k-{config.app}-{slot}",
            "namespace": namespace,
            "state": beat.get("state", "unknown") if fresh else "unknown",
            "reason": beat.get("error") if fresh else f"no heartbeat since {beat.get('time')}",
        }
    return pods


def state(pods: dict[str, dict[str, Any]], config: WorkerConfig, namespace: str, paused: bool,
          app: str) -> tuple[AppState, str]:
    if paused:
        return AppState.paused, f"paused: re-apply the manifest to scale {namespace}'s Deployments to 0"
    failed = [p for p in pods.values() if p["state"] == "failed"]
    if failed:
        return AppState.failed, f"{failed[0]['name']}: {failed[0]['reason'] or 'worker failed'}"
    running = sum(p["state"] == "running" for p in pods.values())
    if running >= config.workers:
        return AppState.running, f"{running} worker{'s' if running > 1 else ''} copying in Kubernetes ({namespace})"
    return AppState.deploying, (f"{running} of {config.workers} workers report from Kubernetes ({namespace}); "
                                f"apply `streamhq k2k manifest {app}` there")


def managed_resources(documents: list[dict[str, Any]], pods: dict[str, dict[str, Any]],
                      paused: bool) -> list[dict[str, Any]]:
    """The manifest's resources; a Deployment is `available` while its slot's worker beats."""
    resources = []
    for document in documents:
        metadata = document["metadata"]
        resource = {"name": metadata["name"], "namespace": metadata["namespace"], "kind": document["kind"]}
        if document["kind"] == "Deployment":
            slot = metadata["labels"]["streamhq.io/worker-slot"]
            pod = pods.get(slot)
            if paused:
                resource |= {"status": "scaled to 0", "reason": None}
            elif pod and pod["state"] == "running":
                resource |= {"status": "available", "reason": f"pod {pod['name']} copying"}
            else:
                resource |= {"status": "not reporting",
                             "reason": pod["reason"] if pod else "no worker of this slot has reported yet"}
        else:
            resource |= {"status": "rendered", "reason": "HQ does not read Kubernetes; applied with the manifest"}
        resources.append(resource)
    return resources
