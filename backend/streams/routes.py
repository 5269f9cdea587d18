"""The event API's stream and consumer-group routes on the agent app (seed 004, and the list,
offsets and group routes beside it), under `/api/v1/`; HQ serves them at
`…/environments/{environment}/proxy/api/v1/…`.

Thin: each reads the environment's Kafka connection, runs the blocking admin calls of
backend/streams/topics.py or groups.py off the event loop, and answers their model. Every
failure is an `EventErrorBody` (backend/streams/errors.py); what each route can answer is
listed on it for the OpenAPI."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Response

from backend.agent.context import AgentContext, Context
from backend.bodies.dependencies import Validated
from backend.bodies.policy import BodyPolicy
from backend.environments.models import KafkaConnectionSpec
from backend.streams import groups, topics
from backend.streams.clients import KafkaClients
from backend.streams.errors import CLUSTER_UNAVAILABLE, EventApiError, error_responses
from backend.streams.live_routes import StreamsFeedPositionDep
from backend.streams.models import (
    DEFAULT_LIST_LIMIT,
    MAX_GROUP,
    MAX_LIST_LIMIT,
    STREAM_PATTERN,
    GroupDetail,
    GroupList,
    StreamCreate,
    StreamDeleted,
    StreamDescription,
    StreamList,
    StreamOffsets,
)

T = TypeVar("T")

# The family's body policy (JSON only): a single event or a stream's creation is at most a MiB.
BODY_POLICY = BodyPolicy(1024 * 1024, ("application/json",), unsupported_media_status=415,
                         error_schema={"$ref": "#/components/schemas/EventErrorBody"})
stream_create = Validated(BODY_POLICY, StreamCreate)

StreamPath = Annotated[str, Path(pattern=STREAM_PATTERN, description="A stream (Kafka topic) name")]
GroupPath = Annotated[str, Path(min_length=1, max_length=MAX_GROUP, pattern=r"^[\x21-\x7e]+$",
                                description="A consumer group id")]
READ = error_responses(400, 502, 504)
ONE_STREAM = error_responses(400, 404, 502, 504)
router = APIRouter(prefix="/api/v1", tags=["Event API"])


async def kafka_of(context: AgentContext) -> KafkaConnectionSpec:
    resources = await asyncio.to_thread(context.resources)  # reads HQ's store in the built-in agent
    if resources is None:
        raise EventApiError(CLUSTER_UNAVAILABLE, "The environment has no Kafka connection.")
    return resources.kafka


async def on_kafka(context: AgentContext, call: Callable[..., T], *args: object) -> T:
    """`call(clients, spec, *args)` on a worker thread: admin calls block for up to their timeout."""
    spec = await kafka_of(context)
    clients: KafkaClients = context.kafka_clients
    return await asyncio.to_thread(call, clients, spec, *args)


@router.post("/streams", response_model=StreamDescription, status_code=201, summary="Create a stream",
             description="A topic with `partitions`, `replicationFactor` (absent: the brokers' default) and "
                         "`config` (the seed's three names, or any topic config by its Kafka name). A config the "
                         "brokers refuse is a 400 naming `config.<name>`; a name in use is 1007 (409).",
             responses=error_responses(400, 409, 413, 415, 502, 504), openapi_extra=stream_create.openapi)
async def create_stream(context: Context, body: Annotated[StreamCreate, Depends(stream_create)]
                        ) -> StreamDescription:
    return await on_kafka(context, topics.create_stream, body)


@router.get("/streams", response_model=StreamList, summary="List streams",
            description="Addition to the seed: every stream by name with the figures of its description, "
                        "`limit` at a time after `after`; internal topics (`__…`) only with `internal=true`.",
            responses=READ)
async def list_streams(context: Context, position: StreamsFeedPositionDep,
                       after: Annotated[str | None, Query(pattern=STREAM_PATTERN,
                                                          description="The last name of the page before")] = None,
                       limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = DEFAULT_LIST_LIMIT,
                       internal: bool = False) -> Response:
    summaries = await on_kafka(context, topics.read_stream_summaries, topics.DEFAULT_TIMEOUT)
    answer = topics.page_of(summaries, after=after, limit=limit, internal=internal)
    answer.data = context.streams.with_rates(answer.data)  # one reading has no rate: the watch's two do
    # Thousands of rows: serialised once rather than validated again against response_model.
    return position.stamp(Response(answer.model_dump_json(), media_type="application/json"))


@router.get("/streams/{streamName}", response_model=StreamDescription, summary="Describe a stream",
            responses=ONE_STREAM)
async def describe_stream(context: Context, streamName: StreamPath) -> StreamDescription:
    return await on_kafka(context, topics.describe_stream, streamName)


@router.delete("/streams/{streamName}", response_model=StreamDeleted, summary="Delete a stream",
               description="An internal topic (`__…`: group offsets, transactions, K2K's control topics) is "
                           "refused with a 400.", responses=ONE_STREAM)
async def delete_stream(context: Context, streamName: StreamPath) -> StreamDeleted:
    return await on_kafka(context, topics.delete_stream, streamName)


@router.get("/streams/{streamName}/offsets", response_model=StreamOffsets, summary="A stream's offsets",
            description="Addition to the seed: each partition's start and end offsets, and with `at` (ISO 8601; "
                        "UTC without a zone) the first offset at or after that time.", responses=ONE_STREAM)
async def get_stream_offsets(context: Context, streamName: StreamPath,
                             at: Annotated[datetime | None, Query()] = None) -> StreamOffsets:
    return await on_kafka(context, topics.stream_offsets, streamName, at)


@router.get("/consumers", response_model=GroupList, summary="List consumer groups",
            description="Addition to the seed: every group with its state, members, streams and total lag (null "
                        "for a K2K app's position group, whose offsets are its source's; `k2kApp` names the app).",
            responses=READ)
async def list_groups(context: Context, position: StreamsFeedPositionDep, response: Response) -> GroupList:
    position.stamp(response)
    return GroupList(data=await on_kafka(context, groups.read_group_summaries, topics.DEFAULT_TIMEOUT))


@router.get("/consumers/{consumerGroup}", response_model=GroupDetail, summary="Describe a consumer group",
            description="Addition to the seed: per partition the committed offset, log end, lag and member.",
            responses=error_responses(400, 404, 502, 504))
async def describe_group(context: Context, consumerGroup: GroupPath) -> GroupDetail:
    return await on_kafka(context, groups.describe_group, consumerGroup)
