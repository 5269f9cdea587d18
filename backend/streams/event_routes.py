"""The event API's event routes on the agent app (seed 004): publish one, publish a batch,
consume with a group, commit a group's positions; under `/api/v1/`, served by HQ at
`…/environments/{environment}/proxy/api/v1/…`.

Thin: the services are backend/streams/publish.py (producers), consume.py and members.py (the
consumer model), idempotency.py (`Idempotency-Key`). Every failure is an `EventErrorBody`."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import BaseModel, ValidationError

from backend.agent.context import AgentContext, Context
from backend.bodies.dependencies import OptionalValidated, Validated
from backend.bodies.policy import BodyPolicy
from backend.streams import consume, publish
from backend.streams.errors import EventApiError, error_responses, validation_error
from backend.streams.idempotency import HEADER, Answer, fingerprint
from backend.streams.models import (
    DEFAULT_CONSUME_LIMIT,
    DEFAULT_CONSUME_TIMEOUT_MS,
    DEFAULT_PUBLISH_TIMEOUT_MS,
    MAX_CONSUME_LIMIT,
    MAX_IDEMPOTENCY_KEY,
    MAX_TIMEOUT_MS,
    BatchEventResult,
    BatchPublish,
    BatchPublished,
    CommitRequest,
    Committed,
    ConsumeAnswer,
    Published,
    PublishEvent,
)
from backend.streams.routes import BODY_POLICY, GroupPath, StreamPath, kafka_of

# A batch is up to 1000 events (backend/streams/models.py): 8 MiB, where a single event has one.
BATCH_POLICY = BodyPolicy(8 * 1024 * 1024, BODY_POLICY.media_types, unsupported_media_status=415,
                          error_schema=BODY_POLICY.error_schema)
single_event = Validated(BODY_POLICY, PublishEvent)
batch_events = Validated(BATCH_POLICY, BatchPublish)
commit_request = OptionalValidated(BODY_POLICY, CommitRequest)

IdempotencyKey = Annotated[str | None, Header(
    alias=HEADER, pattern=rf"^[\x20-\x7e]{{1,{MAX_IDEMPOTENCY_KEY}}}$",
    description="A retry with the same key and body within 10 minutes answers the first result again, writing "
                "nothing; the same key with another body is 1008 (409).")]
OFFSET_PATTERN = r"^(earliest|latest|[0-9]{1,18})$"
PUBLISH = error_responses(400, 404, 409, 413, 415, 502, 504)
router = APIRouter(prefix="/api/v1", tags=["Event API"])


async def _idempotent(context: AgentContext, key: str | None, route: str, body: BaseModel, status: int,
                      work: Callable[[], Awaitable[BaseModel]]) -> Response:
    """`work()`'s answer (or its EventApiError) as a response, once per Idempotency-Key."""
    async def answer() -> Answer:
        try:
            return Answer(status, (await work()).model_dump_json().encode())
        except EventApiError as exc:
            return Answer(exc.status, exc.body().model_dump_json(exclude_none=True).encode())

    if key is None:
        result = await answer()
    else:
        result = await context.idempotency.answer(key, fingerprint(route, body.model_dump_json().encode()), answer)
    return Response(result.body, status_code=result.status, media_type="application/json")


@router.post("/streams/{streamName}/events", response_model=Published, status_code=201, summary="Publish an event",
             description="`key`, a JSON `value`, `headers`, and `partitionKey` (places the event as the key would, "
                         "instead of the key). The answer is the broker's: partition, offset, timestamp; `eventId` "
                         "comes back when the event is consumed. An unknown stream is 1001 (never created).",
             responses=PUBLISH, openapi_extra=single_event.openapi)
async def publish_event(context: Context, streamName: StreamPath,
                        body: Annotated[PublishEvent, Depends(single_event)],
                        idempotency_key: IdempotencyKey = None) -> Response:
    async def work() -> Published:
        spec = await kafka_of(context)
        publication = publish.Publication(streamName, [body], "none", DEFAULT_PUBLISH_TIMEOUT_MS)
        (outcome,) = await publish.publish(context.kafka_clients, spec, publication)
        if isinstance(outcome, EventApiError):
            raise outcome
        return outcome

    return await _idempotent(context, idempotency_key, f"events {streamName}", body, 201, work)


@router.post("/streams/{streamName}/events/batch", response_model=BatchPublished, summary="Publish a batch of events",
             description="Each event is validated and published on its own: one that fails is a `failed` result "
                         "with its error, and the others are published (the answer is 200 either way). "
                         "`options.compression` picks the producer; `options.timeout` bounds the wait for the "
                         "brokers' acknowledgements (an event not acknowledged in time is 1006: it may still be "
                         "written).", responses=PUBLISH, openapi_extra=batch_events.openapi)
async def publish_batch(context: Context, streamName: StreamPath,
                        body: Annotated[BatchPublish, Depends(batch_events)],
                        idempotency_key: IdempotencyKey = None) -> Response:
    async def work() -> BatchPublished:
        spec = await kafka_of(context)
        outcomes: dict[int, Published | EventApiError] = {}
        valid: dict[int, PublishEvent] = {}
        for index, raw in enumerate(body.events):
            try:
                valid[index] = PublishEvent.model_validate(raw)
            except ValidationError as exc:
                outcomes[index] = validation_error([{**e, "loc": ("events", index, *e["loc"])}
                                                    for e in exc.errors(include_url=False)])
        if valid:
            publication = publish.Publication(streamName, list(valid.values()), body.options.compression or "none",
                                              body.options.timeout)
            published = await publish.publish(context.kafka_clients, spec, publication)
            outcomes |= dict(zip(valid, published, strict=True))
        results = [_result(index, outcomes[index]) for index in range(len(body.events))]
        succeeded = sum(r.status == "published" for r in results)
        return BatchPublished(batchId=f"batch_{uuid.uuid4().hex}", totalEvents=len(results), successCount=succeeded,
                              failureCount=len(results) - succeeded, results=results)

    return await _idempotent(context, idempotency_key, f"batch {streamName}", body, 200, work)


def _result(index: int, outcome: Published | EventApiError) -> BatchEventResult:
    if isinstance(outcome, EventApiError):
        return BatchEventResult(index=index, status="failed", error=outcome.body())
    return BatchEventResult(index=index, status="published", eventId=outcome.eventId, partition=outcome.partition,
                            offset=outcome.offset, timestamp=outcome.timestamp)


@router.get("/streams/{streamName}/events", response_model=ConsumeAnswer, summary="Consume events with a group",
            description="A pull from the agent's member of the group on the stream (the README's consumer model): "
                        "concurrent callers share its records, each handed to one; the first call waits for the "
                        "assignment within `timeout`; `offset` places a new member where the group has no "
                        "committed position. Positions are committed by the commit route only; an idle member "
                        "closes at `metadata.expiresAt`. At most 32 members per environment (1005).",
            responses=error_responses(400, 404, 429, 502, 504))
async def consume_events(context: Context, streamName: StreamPath,
                         consumerGroup: Annotated[GroupPath, Query(description="Required: the consumer group")],
                         offset: Annotated[str, Query(pattern=OFFSET_PATTERN, description=(
                             "Where a new member starts: earliest, latest (default) or an offset"))] = "latest",
                         limit: Annotated[int, Query(ge=1, le=MAX_CONSUME_LIMIT)] = DEFAULT_CONSUME_LIMIT,
                         timeout: Annotated[int, Query(ge=0, le=MAX_TIMEOUT_MS,
                                                       description="Milliseconds to wait for the first events"
                                                       )] = DEFAULT_CONSUME_TIMEOUT_MS,
                         ) -> Response:
    spec = await kafka_of(context)
    pool = await consume.member_pool(context.kafka_clients, spec, context.consumer_ttl_seconds)
    start = int(offset) if offset.isdigit() else offset
    answer = await consume.consume(pool, streamName, consumerGroup, start, limit, timeout)
    # The hot path: serialised once, rather than validated again against response_model (which
    # still documents it): up to 1000 events a call.
    return Response(answer.model_dump_json(), media_type="application/json")


@router.post("/consumers/{consumerGroup}/commit", response_model=Committed, summary="Commit a group's positions",
             description="No body (or no `offsets`): the positions of the agent's members of the group (1003 when "
                         "it holds none). `offsets`: through the agent's member when it holds the group (the "
                         "member moves there too), else set on the group, refused while it has members (1008).",
             responses=error_responses(400, 404, 409, 413, 415, 502, 504), openapi_extra=commit_request.openapi)
async def commit_offsets(context: Context, consumerGroup: GroupPath,
                         body: Annotated[CommitRequest | None, Depends(commit_request)]) -> Committed:
    spec = await kafka_of(context)
    pool = await consume.member_pool(context.kafka_clients, spec, context.consumer_ttl_seconds)
    return await consume.commit(pool, context.kafka_clients, consumerGroup, body.offsets if body else None)
