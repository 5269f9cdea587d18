"""The Idempotency-Key cache: one answer per key and body within its window, bounded."""

from __future__ import annotations

import asyncio

import pytest

from backend.streams.errors import EventApiError
from backend.streams.idempotency import Answer, IdempotencyCache, fingerprint


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def counting(answer: Answer) -> tuple[list[int], object]:
    calls: list[int] = []

    async def work() -> Answer:
        calls.append(1)
        return answer

    return calls, work


def test_the_same_key_and_body_answer_the_first_result_without_working_again():
    cache = IdempotencyCache()
    calls, work = counting(Answer(201, b'{"offset": 1}'))

    async def twice() -> list[Answer]:
        return [await cache.answer("k", fingerprint("r", b"body"), work) for _ in range(2)]

    assert asyncio.run(twice()) == [Answer(201, b'{"offset": 1}')] * 2
    assert len(calls) == 1


def test_the_same_key_for_another_body_is_a_conflict():
    cache = IdempotencyCache()
    _, work = counting(Answer(201, b"{}"))

    async def both() -> None:
        await cache.answer("k", fingerprint("r", b"one"), work)
        await cache.answer("k", fingerprint("r", b"two"), work)

    with pytest.raises(EventApiError) as refused:
        asyncio.run(both())
    assert (refused.value.code, refused.value.status, refused.value.field) == (1008, 409, "Idempotency-Key")


def test_a_concurrent_duplicate_waits_for_the_first_answer():
    cache = IdempotencyCache()
    calls: list[int] = []

    async def both() -> list[Answer]:
        started, release = asyncio.Event(), asyncio.Event()

        async def slow() -> Answer:
            calls.append(1)
            started.set()
            await release.wait()
            return Answer(201, b"first")

        first = asyncio.create_task(cache.answer("k", "p", slow))
        await started.wait()  # the first is at work: its key is taken, its answer pending
        # The second is scheduled before the release wakes the first (asyncio runs ready tasks in
        # order), so it meets the pending answer and waits for it.
        second = asyncio.create_task(cache.answer("k", "p", slow))
        release.set()
        return [await first, await second]

    assert asyncio.run(both()) == [Answer(201, b"first")] * 2
    assert len(calls) == 1


def test_a_key_is_forgotten_after_its_window():
    clock = Clock()
    cache = IdempotencyCache(window_seconds=600, clock=clock)
    calls, work = counting(Answer(201, b"{}"))

    async def run() -> None:
        await cache.answer("k", "p", work)
        clock.now = 599
        await cache.answer("k", "p", work)
        clock.now = 600
        await cache.answer("k", "p", work)

    asyncio.run(run())
    assert len(calls) == 2


def test_the_least_recently_used_key_goes_past_the_capacity():
    cache = IdempotencyCache(capacity=2)
    calls, work = counting(Answer(200, b"{}"))

    async def run() -> None:
        for key in ("a", "b", "a", "c", "a", "b"):  # c pushes out b (a was used since), then b is new again
            await cache.answer(key, "p", work)

    asyncio.run(run())
    assert len(calls) == 4 and len(cache) == 2


def test_a_request_that_gave_no_answer_is_forgotten_so_a_retry_works():
    cache = IdempotencyCache()

    async def failing() -> Answer:
        raise RuntimeError("the agent failed")

    _, work = counting(Answer(201, b"ok"))

    async def run() -> Answer:
        with pytest.raises(RuntimeError):
            await cache.answer("k", "p", failing)
        return await cache.answer("k", "p", work)

    assert asyncio.run(run()) == Answer(201, b"ok")


def test_a_failure_that_wrote_nothing_is_not_kept_but_a_timeout_is():
    cache = IdempotencyCache()
    calls, missing = counting(Answer(404, b"no such stream"))
    timeouts, timed_out = counting(Answer(504, b"may still be written"))

    async def run() -> None:
        for _ in range(2):
            await cache.answer("a", "p", missing)
            await cache.answer("b", "p", timed_out)

    asyncio.run(run())
    assert (len(calls), len(timeouts)) == (2, 1)
