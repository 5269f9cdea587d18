"""Topics as a real agent on the sandbox's Kafka answered them, read once and frozen
(fixtures/topics_staging.json says how), so the Topics screens look the same on every run
without an agent: four topics with records and committed groups, and an internal one."""

from __future__ import annotations

import json
from pathlib import Path

from backend.streams.models import GroupSummary, StreamDescription, StreamList
from console.client.streams import StreamListing

FROZEN = json.loads((Path(__file__).parent / "fixtures" / "topics_staging.json").read_text())
ENVIRONMENT: str = FROZEN["environment"]
BUSY = "orders"  # the topic with groups reading it


def frozen_listing() -> StreamListing:
    answer = StreamList.model_validate(FROZEN["streams"])
    return StreamListing(answer.data, answer.total, None)


def frozen_description(name: str = BUSY) -> StreamDescription:
    return StreamDescription.model_validate(FROZEN["describe"][name])


def frozen_groups(name: str = BUSY) -> list[GroupSummary]:
    return [GroupSummary.model_validate(group) for group in FROZEN["groups"][name]]
