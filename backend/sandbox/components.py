"""The sandbox's parts: how each is configured, started and judged healthy.

Every part runs from the real distribution: Apache Kafka brokers in KRaft mode (one node
each, a PLAINTEXT and a SASL_PLAINTEXT/SCRAM-SHA-512 listener), Kafka Connect distributed
workers with the FileStream and MirrorMaker 2 plugins on their class path, and Benthos in
streams mode."""

from __future__ import annotations

import base64
import json
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka.admin import AdminClient

from backend.sandbox.downloads import KAFKA_VERSION
from backend.sandbox.processes import ProcessRef, SandboxError, free_port, port_open, spawn, tail, wait_until

SCRAM_USER = "streamhq"
SCRAM_PASSWORD = "streamhq-sandbox"
# Small heaps: two brokers, two Connect workers and a test suite share a 2-core, 24 GB machine.
HEAP = ["-Xms64m", "-Xmx512m"]
# A worker holding 100 paused connectors keeps ~30 MB live after a full GC (jcmd GC.heap_info, Kafka 4.3.1);
# its ~400 MB RSS is class metadata, code and thread stacks, which no heap setting shrinks.
CONNECT_HEAP = ["-Xms64m", "-Xmx384m"]
LOG4J2 = """status = error
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = OUT
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
logger.connect.name = org.apache.kafka.connect.runtime.Connect
logger.connect.level = INFO
"""


def _java(libs: Path, home: Path, main: str, *args: str, heap: list[str] = HEAP) -> list[str]:
    return ["java", *heap, "-Djava.awt.headless=true", f"-Dlog4j2.configurationFile={home / 'log4j2.properties'}",
            "-cp", f"{libs}/*", main, *args]


def _properties(values: dict[str, Any]) -> str:
    return "".join(f"{key}={value}\n" for key, value in values.items())


@dataclass
class Component:
    """One process of the sandbox; `state` is what state.json remembers about it."""

    name: str
    home: Path
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def log(self) -> Path:
        return self.home / f"{self.name}.log"

    @property
    def process(self) -> ProcessRef | None:
        raw = self.state.get("process")
        return ProcessRef(**raw) if raw else None

    def running(self) -> bool:
        """Alive and ready for work: what `up` reuses rather than restarts."""
        return self.listening() and self.healthy()

    def listening(self) -> bool:
        """Alive and taking connections: what `status` reports. Not its health, which a busy
        Connect worker fails for seconds at a time (its /health waits on the herder thread
        while connectors start or stop), and a part that is busy is still there."""
        process = self.process
        return process is not None and process.alive() and port_open(self.main_port())

    def main_port(self) -> int:
        raise NotImplementedError

    def healthy(self) -> bool:
        raise NotImplementedError

    def command(self, libs: Path) -> list[str]:
        raise NotImplementedError

    def prepare(self, libs: Path) -> None:
        """Writes configuration (and formats storage) before a start."""

    def start(self, libs: Path, timeout: float) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "log4j2.properties").write_text(LOG4J2)
        self.prepare(libs)
        process = spawn(self.command(libs), self.log, cwd=self.home)
        self.state["process"] = process.to_json()
        wait_until(self.healthy, timeout, f"{self.name} ({self.describe()})", process, self.log)

    def describe(self) -> str:
        return self.name

    def summary(self) -> dict[str, Any]:
        raise NotImplementedError


class KafkaCluster(Component):
    def ports(self) -> dict[str, int]:
        if "ports" not in self.state:
            self.state["ports"] = {"plaintext": free_port(), "sasl": free_port(), "controller": free_port()}
        return self.state["ports"]

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.ports()['plaintext']}"

    @property
    def sasl_bootstrap(self) -> str:
        return f"127.0.0.1:{self.ports()['sasl']}"

    def describe(self) -> str:
        return f"Kafka {KAFKA_VERSION} at {self.bootstrap}"

    def prepare(self, libs: Path) -> None:
        ports = self.ports()
        data = self.home / "data"
        config = self.home / "server.properties"
        config.write_text(_properties({
            "process.roles": "broker,controller",
            "node.id": 1,
            "controller.quorum.voters": f"1@127.0.0.1:{ports['controller']}",
            "listeners": f"PLAINTEXT://127.0.0.1:{ports['plaintext']},SASL_PLAINTEXT://127.0.0.1:{ports['sasl']},"
                         f"CONTROLLER://127.0.0.1:{ports['controller']}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{ports['plaintext']},"
                                    f"SASL_PLAINTEXT://127.0.0.1:{ports['sasl']}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "sasl.enabled.mechanisms": "SCRAM-SHA-512",
            "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config":
                "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            "log.dirs": data,
            "num.partitions": 1,
            # Topics are created on purpose, never by a typo (K2K's autoCreateTopics relies on it).
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": 1,
            "offsets.topic.num.partitions": 10,
            "transaction.state.log.replication.factor": 1,
            "transaction.state.log.min.isr": 1,
            "transaction.state.log.num.partitions": 10,
            "share.coordinator.state.topic.replication.factor": 1,
            "share.coordinator.state.topic.min.isr": 1,
            "group.initial.rebalance.delay.ms": 0,
            "log.segment.bytes": 64 * 1024 * 1024,
        }))
        if not (data / "meta.properties").exists():
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            scram = f"SCRAM-SHA-512=[name={SCRAM_USER},password={SCRAM_PASSWORD}]"
            format_storage = _java(libs, self.home, "kafka.tools.StorageTool", "format", "-t", cluster_id,
                                   "-c", str(config), "--add-scram", scram)
            _run(format_storage, self.log, f"formatting the storage of {self.name}")

    def command(self, libs: Path) -> list[str]:
        return _java(libs, self.home, "kafka.Kafka", str(self.home / "server.properties"))

    def main_port(self) -> int:
        return self.ports()["plaintext"]

    def healthy(self) -> bool:
        if not port_open(self.ports()["plaintext"]):
            return False
        admin = AdminClient({"bootstrap.servers": self.bootstrap, "socket.connection.setup.timeout.ms": 2000})
        try:
            admin.list_topics(timeout=2)
        except Exception:
            return False
        return True

    def summary(self) -> dict[str, Any]:
        return {"bootstrap": self.bootstrap, "sasl_bootstrap": self.sasl_bootstrap,
                "sasl_mechanism": "SCRAM-SHA-512", "username": SCRAM_USER, "password": SCRAM_PASSWORD}


class HttpComponent(Component):
    """A part that serves HTTP on one loopback port."""

    def port(self) -> int:
        return self.state.setdefault("port", free_port())

    def main_port(self) -> int:
        return self.port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port()}"

    def summary(self) -> dict[str, Any]:
        return {"url": self.url}


class ConnectWorker(HttpComponent):
    """One distributed worker, a Connect cluster of its own: its group id and storage topics are
    named after the part (`connect` -> `streamhq-sandbox-connect`, `_connect-configs`, ...), so
    two workers never join each other's cluster even on one Kafka."""

    kafka: KafkaCluster | None = None

    @property
    def group_id(self) -> str:
        return f"streamhq-sandbox-{self.name}"

    def describe(self) -> str:
        assert self.kafka is not None
        return f"Kafka Connect at {self.url} on {self.kafka.name}"

    def summary(self) -> dict[str, Any]:
        assert self.kafka is not None
        return {"url": self.url, "kafka": self.kafka.name, "group_id": self.group_id}

    def prepare(self, libs: Path) -> None:
        assert self.kafka is not None
        (self.home / "worker.properties").write_text(_properties({
            "bootstrap.servers": self.kafka.bootstrap,
            "group.id": self.group_id,
            "key.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "config.storage.topic": f"_{self.name}-configs",
            "offset.storage.topic": f"_{self.name}-offsets",
            "status.storage.topic": f"_{self.name}-status",
            "config.storage.replication.factor": 1,
            "offset.storage.replication.factor": 1,
            "status.storage.replication.factor": 1,
            "offset.flush.interval.ms": 1000,
            "listeners": self.url,
            "plugin.discovery": "only_scan",
        }))

    def command(self, libs: Path) -> list[str]:
        return _java(libs, self.home, "org.apache.kafka.connect.cli.ConnectDistributed",
                     str(self.home / "worker.properties"), heap=CONNECT_HEAP)

    def healthy(self) -> bool:
        """Ready for connector requests (KIP-1017's /health: the worker has joined its group and
        read its config topic), with both plugin families on the class path."""
        try:
            if httpx.get(f"{self.url}/health", timeout=2).status_code != 200:
                return False
            plugins = httpx.get(f"{self.url}/connector-plugins", timeout=2)
        except httpx.HTTPError:
            return False
        names = {p.get("class", "") for p in plugins.json()} if plugins.status_code == 200 else set()
        return any(n.endswith("FileStreamSourceConnector") for n in names) and any(
            n.endswith("MirrorSourceConnector") for n in names)


class BenthosStreams(HttpComponent):
    binary: Path | None = None

    def describe(self) -> str:
        return f"Redpanda Connect (Benthos) streams mode at {self.url}"

    def prepare(self, libs: Path) -> None:
        (self.home / "observability.yaml").write_text(json.dumps({
            "http": {"enabled": True, "address": f"127.0.0.1:{self.port()}"},
            "logger": {"level": "WARN", "format": "logfmt"},
        }))

    def command(self, libs: Path) -> list[str]:
        assert self.binary is not None
        return [str(self.binary), "streams", "-o", str(self.home / "observability.yaml")]

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False


def _run(command: list[str], log: Path, what: str) -> None:
    with log.open("ab") as out:
        result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise SandboxError(f"{what} failed.\n{tail(log)}")
