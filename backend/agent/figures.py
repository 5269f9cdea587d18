"""The `metrics` figures of an environment's status that come from one reading of its cluster."""

from __future__ import annotations

from typing import Any

from backend.agent.kafka import ClusterSnapshot


def cluster_metrics(now: ClusterSnapshot, before: ClusterSnapshot | None, read_at: str | None,
                    records_out_per_sec: float | None) -> dict[str, Any]:
    """Figures of one reading; rates are deltas against the reading before it."""
    rates: dict[str, float | None] = dict.fromkeys(
        ("data_in_bytes_per_sec", "data_out_bytes_per_sec", "data_in_messages_per_sec"))
    if before is not None and now.at > before.at:
        seconds = now.at - before.at
        records = max(1, now.log_end_total - now.log_start_total)
        rates = {
            # Retention deleting segments shrinks the bytes; growth is never negative.
            "data_in_bytes_per_sec": max(0, now.topic_bytes - before.topic_bytes) / seconds,
            "data_in_messages_per_sec": max(0, now.log_end_total - before.log_end_total) / seconds,
            # Consumers' committed positions advance by records; bytes at the topics' mean record size.
            "data_out_bytes_per_sec": None if records_out_per_sec is None
            else records_out_per_sec * now.topic_bytes / records,
        }
    return {
        "kafka": {"version": now.version, "num_brokers": now.num_brokers, "updated_at": read_at},
        "data": {"num_topics": now.num_topics, "num_partitions": now.num_partitions,
                 "topic_data_total_bytes": now.topic_bytes, **rates, "updated_at": read_at},
        "apps": {"num_consumers": now.num_consumer_groups, "updated_at": read_at},
    }
