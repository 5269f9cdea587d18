"""Reading a Kafka cluster's figures over the Kafka protocol (no JMX, no broker shell).

kafka-python is used here rather than confluent-kafka because it speaks the two admin calls
the figures need and librdkafka does not expose: DescribeLogDirs (bytes on disk) and the
`metadata.version` feature from ApiVersions (the brokers' release)."""

from __future__ import annotations

import logging
import os
import ssl
import tempfile
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

from backend.agent.bounds import first_distinct, with_first_distinct
from backend.environments.models import KafkaConnectionSpec

# kafka-python takes ~90 ms to import, and every HQ imports this module: it is imported by the
# first probe instead, so an HQ with no Kafka connection (a console's embedded HQ serving its
# first list) never waits for it.
if TYPE_CHECKING:
    from kafka import KafkaAdminClient

# Both clients log every refused connection; the agent reports them as issues instead.
logging.getLogger("kafka").setLevel(logging.CRITICAL)
_quiet = logging.getLogger("streamhq.librdkafka")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False

# metadata.version feature level -> Kafka release (Apache Kafka's MetadataVersion enum). The
# highest level a broker *supports* names its software release; the API carries no patch number.
RELEASES = {
    **dict.fromkeys(range(7, 8), "3.3"), 8: "3.4", **dict.fromkeys(range(9, 12), "3.5"),
    **dict.fromkeys(range(12, 15), "3.6"), **dict.fromkeys(range(15, 20), "3.7"), 20: "3.8", 21: "3.9",
    **dict.fromkeys(range(22, 26), "4.0"), 26: "4.1", 27: "4.1", 28: "4.2", 29: "4.2", 30: "4.3", 31: "4.4",
}


def release_of(level: int) -> str:
    if level in RELEASES:
        return RELEASES[level]
    return f"newer than {RELEASES[max(RELEASES)]}" if level > max(RELEASES) else f"metadata.version {level}"


# Kafka needs one reachable broker to bootstrap: the cluster's metadata names all the others.
# A few cover a broker that is down; more only cost, and librdkafka starts a thread per address.
BOOTSTRAP_ADDRESSES = 3


def bootstrap_addresses(spec: KafkaConnectionSpec) -> list[str]:
    """The first BOOTSTRAP_ADDRESSES distinct addresses of a connection. Every client HQ starts
    for a connection (the agent's, the K2K checks' and workers') gets these and no others, so
    what a user typed never decides how many threads and sockets HQ opens."""
    return first_distinct(spec.override_broker_addresses, BOOTSTRAP_ADDRESSES)


def stored_kafka_spec(spec: dict) -> KafkaConnectionSpec:
    """A stored kafka-connection as its clients see it: only the bootstrap addresses are kept,
    so a list stored before the model bounded it costs nothing to validate and still passes."""
    return KafkaConnectionSpec.model_validate(
        with_first_distinct(spec, "override_broker_addresses", BOOTSTRAP_ADDRESSES))


def admin_config(spec: KafkaConnectionSpec, timeout_ms: int, client_id: str = "streamhq-agent") -> dict:
    """kafka-python settings for a kafka-connection: brokers and its one auth type."""
    auth = spec.auth
    settings = auth.settings
    config: dict = {
        "bootstrap_servers": bootstrap_addresses(spec),
        "client_id": client_id,
        "request_timeout_ms": timeout_ms,
        "bootstrap_timeout_ms": timeout_ms,
        "reconnect_backoff_max_ms": 5000,
    }
    if auth.kind in ("sasl_plain", "sasl_scram"):
        config["security_protocol"] = "SASL_SSL" if settings.tls else "SASL_PLAINTEXT"
        config["sasl_mechanism"] = settings.mechanism if auth.kind == "sasl_scram" else "PLAIN"
        config["sasl_plain_username"] = settings.username
        config["sasl_plain_password"] = settings.password
        if settings.tls:
            config["ssl_context"] = ssl.create_default_context()
    elif auth.kind == "tls":
        config["security_protocol"] = "SSL"
        config["ssl_context"] = _tls_context(settings.ca_pem, settings.cert_pem, settings.key_pem)
    return config


def librdkafka_config(spec: KafkaConnectionSpec) -> dict:
    """confluent-kafka (librdkafka) settings for a kafka-connection."""
    auth = spec.auth
    settings = auth.settings
    config: dict = {"bootstrap.servers": ",".join(bootstrap_addresses(spec))}
    if auth.kind in ("sasl_plain", "sasl_scram"):
        config |= {
            "security.protocol": "SASL_SSL" if settings.tls else "SASL_PLAINTEXT",
            "sasl.mechanism": settings.mechanism if auth.kind == "sasl_scram" else "PLAIN",
            "sasl.username": settings.username,
            "sasl.password": settings.password,
        }
    elif auth.kind == "tls":
        config["security.protocol"] = "SSL"
        for key, value in (("ssl.ca.pem", settings.ca_pem), ("ssl.certificate.pem", settings.cert_pem),
                           ("ssl.key.pem", settings.key_pem)):
            if value:
                config[key] = value
    return config


def diagnose(spec: KafkaConnectionSpec, timeout: float) -> str:
    """Why a cluster cannot be read, in librdkafka's words, which name the cause (refused
    connection, failed authentication, TLS) where kafka-python only says it could not bootstrap."""
    errors: list[KafkaError] = []
    admin = AdminClient(librdkafka_config(spec) | {"error_cb": errors.append, "logger": _quiet,
                                                   "socket.connection.setup.timeout.ms": int(timeout * 1000)})
    try:
        admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        admin.poll(0.5)  # serves error_cb, which carries the cause
        failure: KafkaError = exc.args[0]
    else:
        return "the cluster answered a moment later"
    authentication = [e for e in errors if e.code() == KafkaError._AUTHENTICATION]
    specific = [e for e in errors if e.code() != KafkaError._ALL_BROKERS_DOWN]
    return (authentication or specific or [failure])[-1].str()


def _tls_context(ca_pem: str | None, cert_pem: str | None, key_pem: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=ca_pem) if ca_pem else ssl.create_default_context()
    if cert_pem and key_pem:
        # ssl only loads a client certificate from files: a private, short-lived pair of them.
        with tempfile.TemporaryDirectory() as private:
            cert, key = os.path.join(private, "cert.pem"), os.path.join(private, "key.pem")
            for path, pem in ((cert, cert_pem), (key, key_pem)):
                with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as out:
                    out.write(pem)
            context.load_cert_chain(cert, key)
    return context


@dataclass(frozen=True)
class ClusterSnapshot:
    """One reading of a cluster. Totals cover user topics (not `__`-internal ones)."""

    at: float  # time.monotonic()
    roundtrip_ms: float
    version: str | None
    num_brokers: int
    num_topics: int
    num_partitions: int
    topic_bytes: int  # one copy of each partition (the largest replica), on local disk
    log_end_total: int  # sum of partitions' log-end offsets: records ever written
    log_start_total: int
    # Per consumer group, the sum of its committed positions on topics that are not `__`-internal,
    # on this cluster or any other (a K2K app's group commits here its position on the source).
    committed: dict[str, int]
    num_consumer_groups: int
    problems: list[str] = field(default_factory=list)


def admin_client(spec: KafkaConnectionSpec, timeout_ms: int) -> KafkaAdminClient:
    """A kafka-python admin client, bootstrapped, or closed again when it cannot bootstrap:
    kafka-python 3.0 starts its I/O thread (with its selector and sockets) before the bootstrap
    and leaves it running when the bootstrap fails, since the caller never gets a client to
    close: a thread and three descriptors per failed probe of an unreachable cluster, for ever."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient.__new__(KafkaAdminClient)  # held before __init__ can fail
    try:
        admin.__init__(**admin_config(spec, timeout_ms))
    except BaseException:
        if hasattr(admin, "_net"):  # it got as far as starting the I/O thread
            admin._closed = False  # close() skips a client it believes it never finished opening
            admin.close()
        raise
    return admin


def read_cluster(admin: KafkaAdminClient) -> ClusterSnapshot:
    from kafka import TopicPartition
    from kafka.admin import OffsetSpec

    started = time.monotonic()
    cluster = admin.describe_cluster()
    roundtrip_ms = (time.monotonic() - started) * 1000
    features = admin.describe_features()
    level = features.get("metadata.version", {}).get("supported")
    topics = [t for t in admin.describe_topics() if not t["name"].startswith("__") and not t.get("is_internal")]
    partitions = [TopicPartition(t["name"], p["partition_index"]) for t in topics for p in t["partitions"]]
    problems = []
    offline = sum(1 for t in topics for p in t["partitions"] if p["leader_id"] < 0)
    under_replicated = sum(1 for t in topics for p in t["partitions"] if len(p["isr_nodes"]) < len(p["replica_nodes"]))
    if offline:
        problems.append(f"{offline} partition(s) have no leader")
    if under_replicated:
        problems.append(f"{under_replicated} partition(s) are under-replicated")
    latest = admin.list_partition_offsets(dict.fromkeys(partitions, OffsetSpec.LATEST)) if partitions else {}
    earliest = admin.list_partition_offsets(dict.fromkeys(partitions, OffsetSpec.EARLIEST)) if partitions else {}
    groups = admin.list_groups()
    group_ids = [g["group_id"] for g in groups]
    committed = admin.list_group_offsets(dict.fromkeys(group_ids)) if group_ids else {}
    return ClusterSnapshot(
        at=time.monotonic(),
        roundtrip_ms=roundtrip_ms,
        version=release_of(level[1]) if level else None,
        num_brokers=len(cluster["brokers"]),
        num_topics=len(topics),
        num_partitions=len(partitions),
        topic_bytes=sum(size for topic, size in topic_sizes(admin).items() if not topic.startswith("__")),
        log_end_total=sum(o.offset for o in latest.values() if o.offset >= 0),
        log_start_total=sum(o.offset for o in earliest.values() if o.offset >= 0),
        committed={
            group: sum(meta.offset for tp, meta in offsets.items()
                       if not tp.topic.startswith("__") and meta.offset >= 0)
            for group, offsets in committed.items()
        },
        num_consumer_groups=len(groups),
        problems=problems,
    )


def topic_sizes(admin: KafkaAdminClient, partitions: dict[str, list[int]] | None = None) -> dict[str, int]:
    """Bytes on disk per topic (of those `partitions`, or every topic's): one copy of each
    partition, its largest replica, from one DescribeLogDirs per broker. Given the partitions,
    it reads no metadata first. A replica being moved between log dirs
    (`is_future_key`) is not counted twice."""
    largest: dict[tuple[str, int], int] = {}
    for broker in admin.describe_log_dirs(partitions):
        for log_dir in broker["log_dirs"]:
            if log_dir["error_code"]:
                continue
            for topic in log_dir["topics"]:
                for partition in topic["partitions"]:
                    if not partition["is_future_key"]:
                        key = (topic["name"], partition["partition_index"])
                        largest[key] = max(largest.get(key, 0), partition["partition_size"])
    sizes: dict[str, int] = {}
    for (topic, _), size in largest.items():
        sizes[topic] = sizes.get(topic, 0) + size
    return sizes
