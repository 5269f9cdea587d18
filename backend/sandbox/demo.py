"""What `make run` shows on a fresh machine: the sandbox's clusters registered as the
environments `source` and `target`, each with the Connect cluster working on its Kafka (so
the Connectors screen across environments lists two clusters), a small order stream on
`source` (produced, and consumed by a billing group) so that every figure on screen moves
from the first second, and a K2K app replicating it to `target`."""

from __future__ import annotations

import contextlib
import json
import math
import random
import threading
import time
from typing import Any

from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from backend.environments.models import (
    ConnectClusterSpec,
    EnvironmentCreate,
    KafkaConnectionSpec,
    RedpandaConnectSpec,
    Tier,
)
from backend.environments.resources import CONNECT_CLUSTER, KAFKA_CONNECTION, REDPANDA_CONNECT
from backend.environments.service import EnvironmentService
from backend.errors import Conflict
from backend.k2k.service import K2KService

DEMO_TOPIC = "demo.orders"
DEMO_APP = "orders-to-target"
TIERS = {"source": Tier.staging, "target": Tier.production}


def register(service: EnvironmentService, status: dict[str, Any]) -> None:
    """Creates (or refreshes) one environment per sandbox cluster; safe to repeat."""
    for name, cluster in status["clusters"].items():
        if cluster is None:
            continue
        # Made by an earlier run? Then only its connection is refreshed below (ports may have changed).
        with contextlib.suppress(Conflict):
            service.create(EnvironmentCreate(name=name, display_name=f"Sandbox {name}", tier=TIERS[name],
                                             metadata={"sandbox": "true"}))
        connection = KafkaConnectionSpec.model_validate({
            "override_broker_addresses": [cluster["sasl_bootstrap"]],
            "auth": {"sasl_scram": {"mechanism": cluster["sasl_mechanism"], "username": cluster["username"],
                                    "password": cluster["password"]}},
        })
        service.put_resource(name, KAFKA_CONNECTION, "sandbox", connection)
    for name, connect in status["connects"].items():
        if connect and status["clusters"][name]:
            service.put_resource(name, CONNECT_CLUSTER, "sandbox", ConnectClusterSpec(urls=[connect["url"]]))
    if status["redpanda_connect"] and status["clusters"]["source"]:
        service.put_resource("source", REDPANDA_CONNECT, "sandbox",
                             RedpandaConnectSpec(url=status["redpanda_connect"]["url"]))


def register_replication(k2k: K2KService) -> None:
    """The demo K2K app, made once: a user's later edits (or its deletion) are left alone."""
    if k2k.store.get_app(DEMO_APP) is not None:
        return
    with contextlib.suppress(Conflict):
        k2k.create({
            "metadata": {"name": DEMO_APP, "displayName": "Orders to target",
                         "description": "The sandbox's demo order stream, replicated exactly once"},
            "spec": {"sourceKafkaLRN": KAFKA_CONNECTION.lrn("source", "sandbox"),
                     "targetKafkaLRN": KAFKA_CONNECTION.lrn("target", "sandbox"), "topics": [DEMO_TOPIC],
                     "replicator": {"exactlyOnce": True, "autoCreateTopics": True, "autoCreateControlTopics": True,
                                    "keepRecordCreationTimestamp": True}},
        })


# The reports job reads for this long, then leaves its group for REPORT_PAUSE: a group that is
# Empty most of the time, lagging more and more, whose offsets the console can set (a group with
# members cannot be rewound).
REPORT_SECONDS = 20.0
REPORT_PAUSE = 100.0


class OrderStream:
    """Produces order events to `demo.orders` at a rate that rises and falls over a minute,
    consumes them as the `demo-billing` group, and as `demo-reports`, a batch job that runs for a
    while every two minutes, on background threads."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._produce, name="demo-producer", daemon=True),
                         threading.Thread(target=self._consume, name="demo-consumer", daemon=True),
                         threading.Thread(target=self._report, name="demo-reports", daemon=True)]

    def start(self) -> OrderStream:
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        if DEMO_TOPIC not in admin.list_topics(timeout=10).topics:
            with contextlib.suppress(KafkaException):  # created meanwhile by another run
                admin.create_topics([NewTopic(DEMO_TOPIC, 6, 1)])[DEMO_TOPIC].result(30)
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(10)

    def _produce(self) -> None:
        producer = Producer({"bootstrap.servers": self.bootstrap, "linger.ms": 20})
        order = 0
        while not self._stop.is_set():
            per_second = 40 + 30 * math.sin(time.time() / 10)
            for _ in range(max(1, int(per_second / 10))):
                order += 1
                event = {"order": order, "customer": f"c-{random.randint(1, 500)}",
                         "amount": round(random.uniform(5, 500), 2), "at": time.time()}
                producer.produce(DEMO_TOPIC, key=event["customer"].encode(), value=json.dumps(event).encode())
            producer.poll(0)
            self._stop.wait(0.1)
        producer.flush(5)

    def _consume(self) -> None:
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "demo-billing",
                             "auto.offset.reset": "earliest"})
        consumer.subscribe([DEMO_TOPIC])
        try:
            while not self._stop.is_set():
                consumer.poll(0.5)
        finally:
            consumer.close()

    def _report(self) -> None:
        while not self._stop.is_set():
            consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "demo-reports",
                                 "auto.offset.reset": "earliest"})
            consumer.subscribe([DEMO_TOPIC])
            try:
                until = time.monotonic() + REPORT_SECONDS
                while not self._stop.is_set() and time.monotonic() < until:
                    consumer.poll(0.5)
            finally:
                consumer.close()  # commits what it read, and leaves the group
            self._stop.wait(REPORT_PAUSE)

