"""The replicator's guarantees on real clusters, under the failures replicators are known to
get wrong: crashes mid-copy (kill -9), rebalances, a zombie worker, a target broker restart."""

from __future__ import annotations

import random
import re
import signal
import threading
import time

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic

from backend.replicator.offsets import GroupPositions
from backend.replicator.worker import EXIT_CONFIG
from backend.sandbox.processes import stop
from tests.kafka.conftest import plaintext
from tests.kafka.replication import (
    PARTITIONS,
    Progress,
    TargetReader,
    Workers,
    assert_exactly_once,
    assert_nothing_missing,
    new_topic,
    produce_in_background,
    produce_sequences,
    unique,
    worker_config,
)
from tests.waiting import until

pytestmark = pytest.mark.kafka

PER_PARTITION = 200_000 // PARTITIONS + 1  # 200,004 records in all


def kill_three_times(workers: Workers, slot: str, progress: Progress, total: int, rng: random.Random) -> None:
    """Each kill lands once the worker has written a random 5 to 20 % of the records more to the
    target than at the kill before (so at most 60 % in: always mid-copy, and every restarted
    worker has copied something before it dies in turn). Written, not committed: the kill then
    falls between two commits, with copies the worker has sent but not yet committed."""
    for _ in range(3):
        goal = progress.written() + int(total * rng.uniform(0.05, 0.2))
        until(lambda goal=goal: progress.written() >= goal, 240,
              lambda goal=goal: f"{goal} records written to the target\n{workers.logs()}")
        workers.kill(slot)
        workers.start(slot)


@pytest.mark.parametrize("exactly_once", [True, False], ids=["exactly-once", "at-least-once"])
def test_kill_9_three_times_mid_copy(source, target, tmp_path, exactly_once):
    topic = new_topic(source)
    config = worker_config(source, target, [topic], exactly_once=exactly_once)
    workers = Workers(config, tmp_path)
    reader = TargetReader(target, topic)
    seed = random.randrange(2**32)
    print(f"kill moments seeded with {seed}")
    progress = Progress(source, target, config)
    # At most 2 rounds (6 %) ahead: the copy can never finish before the third kill.
    producing = produce_in_background(source, topic, PER_PARTITION, in_step_with=progress, rounds_ahead=2)
    try:
        workers.start("0")
        kill_three_times(workers, "0", progress, PER_PARTITION * PARTITIONS, random.Random(seed))
        producing.join()
        reader.wait_for(PER_PARTITION * PARTITIONS, timeout=240, workers=workers)
    finally:
        workers.stop_all()
    reader.read_to_end()
    if exactly_once:
        assert_exactly_once(reader, PER_PARTITION)
    else:
        assert_nothing_missing(reader, PER_PARTITION)
        print(f"at-least-once: {reader.total - PER_PARTITION * PARTITIONS} duplicates after 3 kills")
    reader.close()


def test_rebalance_two_workers_one_killed_one_added_is_exactly_once(source, target, tmp_path):
    topic = new_topic(source)
    config = worker_config(source, target, [topic], exactly_once=True)
    workers = Workers(config, tmp_path)
    reader = TargetReader(target, topic)
    progress = Progress(source, target, config)
    producing = produce_in_background(source, topic, 30_000, in_step_with=progress)
    try:
        workers.start("0")
        workers.start("1")
        until(lambda: progress.owners().keys() == {"0", "1"} and all(progress.owners().values())
              and progress.written() > 0, 120, lambda: f"both workers copying\n{workers.logs()}")
        workers.kill("1")  # its partitions move once its session expires
        until(lambda: progress.owners() == {"0": set(range(PARTITIONS))}, 120,
              lambda: f"worker 0 owning every partition\n{workers.logs()}")
        workers.start("2")  # and the group rebalances again
        until(lambda: progress.owners().keys() == {"0", "2"} and all(progress.owners().values()), 120,
              lambda: f"workers 0 and 2 sharing the partitions\n{workers.logs()}")
        producing.join()
        reader.wait_for(30_000 * PARTITIONS, timeout=240, workers=workers)
    finally:
        workers.stop_all()
    reader.read_to_end()
    assert_exactly_once(reader, 30_000)
    reader.close()


def test_a_zombie_worker_is_fenced_and_never_commits_again(source, target, tmp_path):
    """Worker 0 freezes (SIGSTOP: a long GC pause, a stalled VM) while it holds partitions;
    worker 1 takes them over once 0's session expires; 0 wakes up, possibly mid-transaction.
    Whatever it had open is fenced; it may only rejoin the group and take partitions anew
    (from their committed positions, fencing in turn)."""
    topic = new_topic(source)
    config = worker_config(source, target, [topic], exactly_once=True)
    workers = Workers(config, tmp_path)
    reader = TargetReader(target, topic)
    progress = Progress(source, target, config)
    producing = produce_in_background(source, topic, 20_000, in_step_with=progress)
    try:
        zombie = workers.start("0")
        until(lambda: progress.written() > 0, 120, lambda: f"worker 0 copying\n{workers.logs()}")
        zombie.send_signal(signal.SIGSTOP)
        print(f"worker 0 frozen with {progress.written()} of {20_000 * PARTITIONS} records written")
        workers.start("1")
        # Once its session has expired: worker 1 owns every partition, and has fenced each (it
        # logs its assignment after init_transactions on all of them).
        until(lambda: progress.owners() == {"1": set(range(PARTITIONS))}
              and assigned_last(workers.log("1"), topic) == set(range(PARTITIONS)), 120,
              lambda: f"worker 1 owning and fencing every partition\n{workers.logs()}")
        zombie.send_signal(signal.SIGCONT)
        producing.join()
        reader.wait_for(20_000 * PARTITIONS, timeout=240, workers=workers)
    finally:
        workers.stop_all()
    reader.read_to_end()
    woke_up = (tmp_path / "worker-0.log").read_text()
    assert "lost " in woke_up or "fenced" in woke_up.lower(), "the zombie went on as if it still owned its partitions"
    assert_exactly_once(reader, 20_000)
    reader.close()


def assigned_last(log: str, topic: str) -> set[int]:
    """The partitions of `topic` in a worker's latest "assigned" log line (each rebalance assigns anew)."""
    lines = [line for line in log.splitlines() if " assigned " in line]
    return {int(p) for p in re.findall(rf"{re.escape(topic)}\[(\d+)\]", lines[-1])} if lines else set()


def test_target_broker_restart_mid_copy_loses_nothing(sandbox, source, target, tmp_path):
    topic = new_topic(source)
    config = worker_config(source, target, [topic], exactly_once=True)
    workers = Workers(config, tmp_path, restart=True)
    cluster = sandbox.clusters["target"]
    progress = Progress(source, target, config)
    refused = f"{target['bootstrap']} failed: Connection refused"
    target_down = threading.Event()  # from then on, the records pile up on the source
    producing = produce_in_background(source, topic, 20_000, in_step_with=progress, released=target_down)
    try:
        workers.start("0")
        until(lambda: progress.written() > 0, 120, lambda: f"worker 0 copying\n{workers.logs()}")
        stop(cluster.process)
        target_down.set()
        # Down until the worker has found it down, so the restart comes to a copy that failed.
        until(lambda: refused in workers.logs(), 120, lambda: f"{refused!r} in the worker log\n{workers.logs()}")
        sandbox.up()  # restarts what is down, on the same port and data
        producing.join()
        reader = TargetReader(target, topic)
        reader.wait_for(20_000 * PARTITIONS, timeout=300, workers=workers)
    finally:
        workers.stop_all()
    reader.read_to_end()
    print(f"worker restarts after the target broker restart: {workers.restarts}")
    assert_exactly_once(reader, 20_000)
    reader.close()


@pytest.mark.parametrize("keep", [True, False], ids=["keep-timestamps", "target-timestamps"])
def test_records_are_copied_byte_for_byte(source, target, tmp_path, keep):
    topic = new_topic(source, partitions=2)
    headers = [("trace", b"\x00\x01\xff"), ("trace", b"again"), ("empty", b""), ("none", None)]
    records = [
        {"key": b"k\x00\xff", "value": b"v\x00\xfe", "headers": headers, "partition": 1,
         "timestamp": 1_600_000_000_000},
        {"key": None, "value": b"no key", "headers": None, "partition": 0, "timestamp": 1_600_000_000_001},
        {"key": b"tombstone", "value": None, "headers": None, "partition": 1, "timestamp": 1_600_000_000_002},
        {"key": b"big", "value": random.randbytes(900 * 1024), "headers": [("h", b"1")], "partition": 0,
         "timestamp": 1_600_000_000_003},
    ]
    producer = Producer({"bootstrap.servers": source["bootstrap"], "message.max.bytes": 2_000_000})
    for r in records:
        producer.produce(topic, r["value"], r["key"], partition=r["partition"], headers=r["headers"],
                         timestamp=r["timestamp"])
    producer.flush(30)
    workers = Workers(worker_config(source, target, [topic], exactly_once=True, keep_timestamps=keep), tmp_path)
    started = time.time() * 1000
    consumer = Consumer({"bootstrap.servers": target["bootstrap"], "group.id": unique("reader"),
                         "isolation.level": "read_committed", "fetch.max.bytes": 5_000_000})
    copied = []

    def all_copied() -> bool:
        copied.extend(m for m in consumer.consume(10, 1.0) if m.error() is None)
        return len(copied) >= len(records)

    try:
        workers.start("0")
        until(lambda: topic in consumer.list_topics(timeout=10).topics, 120,
              lambda: f"the topic on the target\n{workers.logs()}")
        consumer.assign([TopicPartition(topic, p, 0) for p in range(2)])
        until(all_copied, 120, lambda: f"{len(records)} records copied\n{workers.logs()}", every=0)
    finally:
        workers.stop_all()
        consumer.close()
    assert len(copied) == len(records), workers.logs()
    by_key = {m.key(): m for m in copied}
    for r in records:
        m = by_key[r["key"]]
        assert (m.value(), m.partition()) == (r["value"], r["partition"])
        assert (m.headers() or None) == (r["headers"] and [(k, v) for k, v in r["headers"]])
        if keep:
            assert m.timestamp()[1] == r["timestamp"]
        else:
            assert m.timestamp()[1] >= started - 1000


def test_auto_created_topics_keep_partitions_and_explicit_configs(source, target, tmp_path):
    topic = unique("configured")
    admin = AdminClient({"bootstrap.servers": source["bootstrap"]})
    from confluent_kafka.admin import NewTopic
    admin.create_topics([NewTopic(topic, 4, 1, config={"retention.ms": "3600000", "cleanup.policy": "compact"})]
                        )[topic].result(30)
    produce_sequences(source, topic, 10, partitions=4)
    workers = Workers(worker_config(source, target, [topic]), tmp_path)
    reader = TargetReader(target, topic, partitions=4)
    try:
        workers.start("0")
        reader.wait_for(40, timeout=120, workers=workers)
    finally:
        workers.stop_all()
    target_admin = AdminClient({"bootstrap.servers": target["bootstrap"]})
    assert len(target_admin.list_topics(topic, timeout=10).topics[topic].partitions) == 4
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    configs = target_admin.describe_configs([resource])[resource].result(30)
    assert configs["retention.ms"].value == "3600000"
    assert configs["cleanup.policy"].value == "compact"
    reader.close()


def test_a_missing_target_topic_without_auto_create_fails_with_a_clear_message(source, target, tmp_path):
    topic = new_topic(source)
    config = worker_config(source, target, [topic]).model_copy(update={"auto_create_topics": False})
    workers = Workers(config, tmp_path)
    process = workers.start("0")
    assert process.wait(120) == EXIT_CONFIG
    assert f"{topic} missing on the target cluster" in workers.logs()
    assert "autoCreateTopics" in workers.logs()


def test_new_topics_matching_a_regex_are_picked_up(source, target, tmp_path):
    prefix = unique("rx")
    first = f"{prefix}-a"
    from tests.kafka.conftest import create_topic
    create_topic(source["bootstrap"], first, 2)
    produce_sequences(source, first, 10, partitions=2)
    workers = Workers(worker_config(source, target, [f"regex:{prefix}-.*"]), tmp_path)
    try:
        workers.start("0")
        TargetReader(target, first, partitions=2).wait_for(20, timeout=120, workers=workers)
        second = f"{prefix}-b"
        create_topic(source["bootstrap"], second, 2)  # after the worker started
        produce_sequences(source, second, 10, partitions=2)
        TargetReader(target, second, partitions=2).wait_for(20, timeout=120, workers=workers)
    finally:
        workers.stop_all()


def test_a_missing_control_topic_without_auto_create_fails_with_a_clear_message(source, target, tmp_path):
    topic = new_topic(source)
    config = worker_config(source, target, [topic]).model_copy(update={"auto_create_control_topics": False})
    workers = Workers(config, tmp_path)
    assert workers.start("0").wait(120) == EXIT_CONFIG
    assert f"control topic '__streamhq-k2k-{config.app}-status' missing" in workers.logs()
    assert "autoCreateControlTopics" in workers.logs()


@pytest.mark.parametrize("exactly_once", [True, False], ids=["exactly-once", "at-least-once"])
def test_a_record_the_target_refuses_is_retried_never_skipped_and_the_worker_stays_up(
        source, target, tmp_path, exactly_once):
    """Partition 0 holds a record larger than the target topic accepts, while records keep
    arriving behind it: every copy of it fails, and (exactly-once) the producer refuses further
    copies until the transaction is aborted. That partition alone is copied again from its last
    commit; the other goes on; its committed position never passes the refused record; and
    once the target takes it (max.message.bytes raised) the partition completes, in the same
    worker process."""
    topic = new_topic(source, partitions=2)
    create_topic_with(target, topic, partitions=2, configs={"max.message.bytes": "2048"})
    total, refused = 300, 10
    producer = Producer({"bootstrap.servers": source["bootstrap"], "enable.idempotence": True, "linger.ms": 0})

    def produce(seqs: range) -> None:
        # A flush per record: they arrive one round trip apart, each behind the failing copies.
        for seq in seqs:
            value = str(seq).rjust(4_000, "0") if seq == refused else str(seq)  # still reads as 10
            producer.produce(topic, value.encode(), partition=0)
            producer.produce(topic, str(seq).encode(), partition=1)
            producer.flush(30)

    produce(range(20))
    config = worker_config(source, target, [topic], exactly_once=exactly_once)
    workers = Workers(config, tmp_path)
    reader = TargetReader(target, topic, partitions=2)
    try:
        process = workers.start("0")
        wait_for_log(workers, "aborted" if exactly_once else "not delivered")
        produce(range(20, total))  # arriving while partition 0's copies fail
        reader.wait_until(lambda: len(reader.values[1]) >= total, 120, "partition 1 whole", workers)
        reader.read_to_end()
        assert set(reader.values[1]) == set(range(total))
        assert GroupPositions(plaintext(target)).committed(config.group).get(
            (topic, 0), 0) <= refused, "the position passed a record that never reached the target"
        if exactly_once:
            copied = reader.values[0]  # up to the refused record at most: it may share a rejected batch
            assert copied == list(range(len(copied))) and len(copied) <= refused
        assert process.poll() is None, f"the worker exited on a refused record\n{workers.logs()}"

        set_topic_config(target, topic, "max.message.bytes", "1000000")
        reader.wait_until(lambda: set(reader.values[0]) == set(range(total)), 240, "partition 0 whole", workers)
        assert process.poll() is None, "the same worker copied the rest"
    finally:
        workers.stop_all()
    reader.read_to_end()
    if exactly_once:
        assert reader.values[0] == list(range(total))
        assert reader.values[1] == list(range(total))
    reader.close()


@pytest.mark.parametrize("exactly_once", [True, False], ids=["exactly-once", "at-least-once"])
def test_small_records_a_backlog_batches_beyond_the_target_topics_limit_are_all_copied(
        source, target, tmp_path, exactly_once):
    """A backlog already on the source when the worker starts: librdkafka packs each partition's
    small records into batches far larger than the target topic's max.message.bytes, and the
    broker refuses such a batch whole. Every record fits the limit by itself, so every one is
    copied (exactly once with exactly-once), by the worker that met the refusal."""
    per_partition = 2_000  # some 40 bytes each: a batch of them is some 80 KB against a 2 KB limit
    topic = new_topic(source, partitions=2)
    create_topic_with(target, topic, partitions=2, configs={"max.message.bytes": "2048"})
    produce_sequences(source, topic, per_partition, partitions=2)
    workers = Workers(worker_config(source, target, [topic], exactly_once=exactly_once), tmp_path)
    reader = TargetReader(target, topic, partitions=2)
    try:
        process = workers.start("0")
        reader.wait_until(lambda: all(set(reader.values[p]) == set(range(per_partition)) for p in range(2)),
                          180, "every record copied", workers)
        assert process.poll() is None, f"the worker exited\n{workers.logs()}"
    finally:
        workers.stop_all()
    assert "Message size too large" in workers.logs(), "the target never refused a batch: nothing was tested"
    reader.read_to_end()
    if exactly_once:
        assert_exactly_once(reader, per_partition)
    else:
        assert_nothing_missing(reader, per_partition)
    reader.close()


def create_topic_with(cluster: dict, topic: str, partitions: int, configs: dict[str, str]) -> None:
    admin = AdminClient({"bootstrap.servers": cluster["bootstrap"]})
    admin.create_topics([NewTopic(topic, partitions, 1, config=configs)])[topic].result(30)


def set_topic_config(cluster: dict, topic: str, name: str, value: str) -> None:
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic, incremental_configs=[
        ConfigEntry(name, value, incremental_operation=AlterConfigOpType.SET)])
    admin = AdminClient({"bootstrap.servers": cluster["bootstrap"]})  # kept alive until the answer
    admin.incremental_alter_configs([resource])[resource].result(30)


def wait_for_log(workers: Workers, text: str, timeout: float = 60) -> None:
    until(lambda: text in workers.logs(), timeout, lambda: f"{text!r} in the worker log\n{workers.logs()}")
