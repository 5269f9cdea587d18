"""client.streams against a real tiny HTTP server standing in for HQ's proxy: the list follows
the pages' `next` and asks for internal topics too; the event API's refusals come back at their
field, as the topic form shows them."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from backend.streams.models import MAX_LIST_LIMIT, StreamCreate
from console.client import HQClient
from console.client.event_api import EventAPIError
from tests.http_servers import tiny_server

STREAMS = "/api/v1/environments/staging-eu/proxy/api/v1/streams"


def summary(name: str) -> dict:
    return {"name": name, "partitions": 1, "replicationFactor": 1, "totalMessages": 0, "totalSize": 0}


def pages(method: str, path: str, _: dict[str, str]) -> tuple[int, object]:
    url = urlsplit(path)
    query = parse_qs(url.query)
    if method == "POST":
        return 409, {"code": 1007, "message": "STREAM_ALREADY_EXISTS", "description": "The stream 'a' exists already.",
                     "field": "name"}
    assert url.path == STREAMS and query["internal"] == ["true"] and query["limit"] == [str(MAX_LIST_LIMIT)]
    if "after" not in query:
        return 200, {"data": [summary("a"), summary("b")], "total": 3, "next": "b"}
    assert query["after"] == ["b"]
    return 200, {"data": [summary("c")], "total": 3, "next": None}


async def test_the_list_reads_every_page_and_a_refusal_names_its_field():
    with tiny_server(pages) as (url, seen):
        client = HQClient(url, "token")
        try:
            listing = await client.streams.list("staging-eu")
            assert [item.name for item in listing.items] == ["a", "b", "c"] and listing.total == 3
            assert len(seen.requests) == 2
            with pytest.raises(EventAPIError) as refused:
                await client.streams.create("staging-eu", StreamCreate(name="a"))
        finally:
            await client.aclose()
    assert refused.value.status == 409 and refused.value.code == 1007
    assert refused.value.field_errors() == {"name": "The stream 'a' exists already."}
