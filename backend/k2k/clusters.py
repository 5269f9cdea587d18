"""Whether an app's source and target are one Kafka cluster (it would copy each topic onto itself).

Two checks, at two moments. Creating or editing an app compares broker addresses only, so it
never waits on Kafka: apps are created before their clusters answer (GitOps, a DR site being
built). Two listeners of one cluster differ in port, so before the controller starts an app's
workers it asks both clusters for their id wherever their broker hosts meet."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaException

from backend.replicator.offsets import Cluster

ID_TIMEOUT = 5.0


def share_an_address(source: Iterable[str], target: Iterable[str]) -> bool:
    return bool(set(source) & set(target))


def _hosts(addresses: Iterable[str]) -> set[str]:
    return {address.rpartition(":")[0] for address in addresses}


def _addresses(config: dict[str, Any]) -> list[str]:
    return [a.strip() for a in config.get("bootstrap.servers", "").split(",") if a.strip()]


@dataclass(frozen=True)
class Verdict:
    """`same` is None while a cluster does not answer (`reason` says which and why)."""

    same: bool | None
    reason: str = ""


def compare(source: dict[str, Any], target: dict[str, Any], timeout: float = ID_TIMEOUT) -> Verdict:
    """Compares two clusters given as librdkafka configs; blocks up to `timeout` per cluster, and
    never raises: a failure is an unknown answer."""
    if share_an_address(_addresses(source), _addresses(target)):
        return Verdict(True, "they share a broker address")
    if not _hosts(_addresses(source)) & _hosts(_addresses(target)):
        return Verdict(False)
    ids = []
    for side, config in (("source", source), ("target", target)):
        try:
            ids.append(Cluster(config, timeout=timeout).cluster_id())
        except KafkaException as exc:
            return Verdict(None, f"the {side} cluster did not answer: {exc.args[0].str()}")
        except FutureTimeout:
            return Verdict(None, f"the {side} cluster did not answer within {timeout:.0f}s")
        except Exception as exc:  # an unknown answer is asked again later, never a crashed controller round
            return Verdict(None, f"the {side} cluster could not be asked: {exc or type(exc).__name__}")
    if ids[0] == ids[1]:
        return Verdict(True, f"both have cluster id {ids[0]}")
    return Verdict(False)
