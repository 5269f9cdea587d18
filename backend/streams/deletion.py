"""Noticing that a stream was deleted under a reader (the tail, a consumer member).

librdkafka says so for a subscription only at its next metadata refresh (up to five minutes),
and never for an `assign()`ed partition: it fetches on and is answered nothing. So a reader
that got no records asks for the stream's metadata itself, at most every few seconds."""

from __future__ import annotations

import time

from confluent_kafka import Consumer, KafkaError, KafkaException

CHECK_SECONDS = 5.0
METADATA_SECONDS = 2.0  # the reader's thread waits this long at most: it must still notice a stop


class DeletionWatch:
    def __init__(self, consumer: Consumer, stream: str, every: float = CHECK_SECONDS) -> None:
        self._consumer = consumer
        self._stream = stream
        self._every = every
        self._next_check = time.monotonic() + every

    def gone(self) -> bool:
        """True once the cluster answers that the stream does not exist (checked every `every` s)."""
        now = time.monotonic()
        if now < self._next_check:
            return False
        self._next_check = now + self._every
        try:
            topic = self._consumer.list_topics(self._stream, timeout=METADATA_SECONDS).topics.get(self._stream)
        except KafkaException:
            return False  # the cluster did not answer: that is not a deletion
        return topic is None or (topic.error is not None and topic.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART)
