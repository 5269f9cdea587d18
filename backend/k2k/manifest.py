"""Kubernetes manifests of a K2K app (`streamhq k2k manifest NAME`): a Deployment whose
containers run the same `streamhq worker` command as local workers, a ConfigMap with the
worker config and a Secret with its credentials, all from `spec.kubernetes` into the
namespace of `spec.deploymentNamespaceLRN`.

One Deployment per worker slot (replicas 1): the slot is the worker's static group member id
and so must be stable across restarts, which a Deployment's random pod names are not."""

from __future__ import annotations

import json
from typing import Any

import yaml

from backend.k2k.models import K2KSpec
from backend.k2k.references import SpecProblem, worker_config
from backend.lrn import parse_namespace_lrn
from backend.replicator.config import WorkerConfig
from backend.store import Store

DEFAULT_IMAGE = "streamhq:latest"
CONFIG_DIR = "/etc/streamhq"
SECRETS_DIR = "/etc/streamhq-secrets"


def _container(spec: K2KSpec, app: str, slot: int, has_secrets: bool) -> dict[str, Any]:
    kubernetes = spec.kubernetes
    command = ["streamhq", "worker", "--app", app, "--config", f"{CONFIG_DIR}/config.json",
               "--worker-id", str(slot)]
    mounts = [{"name": "config", "mountPath": CONFIG_DIR, "readOnly": True}]
    if has_secrets:
        command += ["--secrets", f"{SECRETS_DIR}/secrets.json"]
        mounts.append({"name": "secrets", "mountPath": SECRETS_DIR, "readOnly": True})
    container: dict[str, Any] = {
        "name": "worker",
        "image": (kubernetes.image if kubernetes and kubernetes.image else DEFAULT_IMAGE),
        "command": command,
        "volumeMounts": mounts,
    }
    if kubernetes and kubernetes.resources:
        container["resources"] = kubernetes.resources.model_dump(exclude_none=True)
    return container


def manifests(store: Store, name: str) -> list[dict[str, Any]]:
    record = store.get_app(name)
    if record is None:
        raise LookupError(f"K2K app {name!r} not found")
    try:
        config = worker_config(store, record)
    except SpecProblem as exc:
        raise LookupError(exc.title) from None
    return documents(name, K2KSpec.model_validate(record.spec), config)


def documents(name: str, spec: K2KSpec, config: WorkerConfig) -> list[dict[str, Any]]:
    """The manifests of an app whose references are already resolved into its worker config."""
    deployment = parse_namespace_lrn(spec.deploymentNamespaceLRN or "")
    namespace = deployment.namespace if deployment else "default"
    kubernetes = spec.kubernetes
    common = kubernetes.commonMetadata if kubernetes and kubernetes.commonMetadata else None
    labels = {**(common.labels if common else {}), "app.kubernetes.io/name": "streamhq-k2k",
              "app.kubernetes.io/instance": name}
    metadata = {"namespace": namespace, "labels": labels}
    if common and common.annotations:
        metadata["annotations"] = common.annotations
    public, secrets = config.without_secrets()
    rendered: list[dict[str, Any]] = [{
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": f"k2k-{name}", **metadata},
        "data": {"config.json": json.dumps(public, indent=2)},
    }]
    if secrets:
        rendered.append({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": f"k2k-{name}", **metadata},
            "stringData": {"secrets.json": json.dumps(secrets, indent=2)},
        })
    volumes = [{"name": "config", "configMap": {"name": f"k2k-{name}"}}]
    if secrets:
        volumes.append({"name": "secrets", "secret": {"secretName": f"k2k-{name}", "defaultMode": 0o400}})
    for slot in range(config.workers):
        pod_labels = {**labels, "streamhq.io/worker-slot": str(slot)}
        pod: dict[str, Any] = {"containers": [_container(spec, name, slot, bool(secrets))], "volumes": volumes}
        if kubernetes:
            if kubernetes.serviceAccount:
                pod["serviceAccountName"] = kubernetes.serviceAccount
            if kubernetes.securityContext:
                pod["securityContext"] = kubernetes.securityContext.model_dump(exclude_none=True)
            if kubernetes.imagePullSecrets:
                pod["imagePullSecrets"] = [s.model_dump() for s in kubernetes.imagePullSecrets]
        rendered.append({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": f"k2k-{name}-{slot}", **metadata, "labels": pod_labels},
            "spec": {
                "replicas": 0 if spec.paused else 1,
                # Never two pods of one slot at once: the old one stops before the new one starts.
                "strategy": {"type": "Recreate"},
                "selector": {"matchLabels": pod_labels},
                "template": {"metadata": {"labels": pod_labels, **({"annotations": common.annotations}
                                                                    if common and common.annotations else {})},
                             "spec": pod},
            },
        })
    return rendered


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the embedded JSON files) as literal blocks, readable in a review."""


_Dumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None))


def render_manifests(store: Store, name: str) -> str:
    return yaml.dump_all(manifests(store, name), Dumper=_Dumper, sort_keys=False)
