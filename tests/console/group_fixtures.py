"""Consumer groups as a real agent on the sandbox's target Kafka answered, read once and frozen
(fixtures/record_groups.py made fixtures/groups_dr.json), so the group screens look the same on
every run without Kafka: `billing` stopped and lagging, `audit` with a member, and the position
group of the K2K app `orders-dr` (seeded by tests/console/k2k_fixtures.py, whose metrics give its
lag: 12 on each of its six partitions)."""

from __future__ import annotations

import json
from pathlib import Path

from backend.streams.models import EventErrorBody, GroupDetail, GroupList, StreamOffsets
from console.client.groups import GroupListing

FROZEN = json.loads((Path(__file__).parent / "fixtures" / "groups_dr.json").read_text())
ENVIRONMENT: str = FROZEN["environment"]
STOPPED, WITH_MEMBERS, K2K_GROUP = "billing", "audit", "streamhq-k2k-orders-dr"
K2K_LAG = 6 * 12


def frozen_listing() -> GroupListing:
    return GroupListing(GroupList.model_validate(FROZEN["list"]).data, None)


def frozen_detail(group: str) -> GroupDetail:
    return GroupDetail.model_validate(FROZEN["details"][group])


def frozen_offsets(detail: GroupDetail) -> list[StreamOffsets]:
    """The offsets of the streams `detail`'s group has positions on."""
    return [StreamOffsets.model_validate(FROZEN["offsets"][s]) for s in detail.streams]


def frozen_refusal() -> tuple[int, EventErrorBody]:
    """The agent's answer to a commit of a group with a member: (status, body)."""
    refused = FROZEN["commit_refused"]
    return refused["status"], EventErrorBody.model_validate(refused["body"])
