"""A partitionKey's partition: Kafka's murmur2, checked against the Java client's own test values."""

from __future__ import annotations

import pytest

from backend.streams.partitioner import murmur2, partition_for

# org.apache.kafka.common.utils.UtilsTest#testMurmur2
JAVA_CASES = [(b"21", -973932308), (b"foobar", -790332482), (b"a-little-bit-long-string", -985981536),
              (b"a-little-bit-longer-string", -1486304829),
              (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971), (b"abc", 479470107)]


@pytest.mark.parametrize(("data", "expected"), JAVA_CASES)
def test_murmur2_is_kafkas(data: bytes, expected: int):
    assert murmur2(data) == expected


def test_the_partition_is_the_positive_hash_modulo_the_partitions():
    assert partition_for(b"21", 7) == (-973932308 & 0x7FFFFFFF) % 7
    assert all(0 <= partition_for(bytes([i]) * i, 3) < 3 for i in range(64))
