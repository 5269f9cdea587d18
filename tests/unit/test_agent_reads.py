"""Data out per cluster from consumer groups' progress, with HQ's K2K groups counted against
their source (backend/agent/reads.py)."""

from __future__ import annotations

from backend.agent.kafka import ClusterSnapshot
from backend.agent.reads import K2KRead, group_rates, records_out


def reading(at: float, **committed: int) -> ClusterSnapshot:
    return ClusterSnapshot(at=at, roundtrip_ms=1, version="4.3", num_brokers=1, num_topics=1, num_partitions=1,
                           topic_bytes=0, log_end_total=0, log_start_total=0, committed=committed,
                           num_consumer_groups=len(committed))


def test_each_group_counts_its_own_progress_and_a_new_or_reset_group_counts_nothing():
    before = reading(10.0, billing=100, reporting=500)
    now = reading(12.0, billing=300, reporting=0, newcomer=1_000_000)

    assert group_rates(now, before) == {"billing": 100.0, "reporting": 0.0}
    assert group_rates(now, None) is None


def test_a_k2k_group_counts_against_its_source_and_not_the_cluster_it_commits_on():
    rates = {"source": {"billing": 10.0}, "target": {"streamhq-k2k-orders": 40.0, "audit": 5.0}}

    out = records_out(rates, [K2KRead("streamhq-k2k-orders", source="source", target="target")])

    assert out == {"source": 50.0, "target": 5.0}


def test_a_cluster_without_rates_yet_has_no_figure_and_gets_no_k2k_reads():
    rates = {"source": None, "target": {"streamhq-k2k-orders": 40.0}}

    out = records_out(rates, [K2KRead("streamhq-k2k-orders", source="source", target="target")])

    assert out == {"source": None, "target": 0.0}
