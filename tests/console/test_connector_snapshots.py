"""What the Connectors screens look like, at fixed terminal sizes, against a real HQ with the
frozen answers of a real Connect worker (tests/console/connect_fixtures.py): the table with a
failed task and a cluster left out, the detail of the failed connector, its trace."""

from __future__ import annotations

import pytest

from console.screens.connector_detail import ConnectorDetailScreen
from tests.console.conftest import SIZE, seed_fleet
from tests.console.connect_fixtures import ENVIRONMENT, FAILED_TASK, frozen_details, frozen_listing
from tests.console.helpers import live, settle, until
from tests.console.test_connectors import with_frozen_rows

WIDE = (160, 45)


@pytest.fixture
def fleet(hq):
    seed_fleet(hq.store)
    return hq


@pytest.mark.parametrize("size", [SIZE, WIDE], ids=["120x40", "160x45"])
def test_connectors_with_a_failed_task(fleet, console, snap_compare, size):
    async def rows(pilot):
        await with_frozen_rows(pilot)

    assert snap_compare(console(), terminal_size=size, run_before=rows)


def test_connectors_marked_and_not_running(fleet, console, snap_compare):
    async def marked(pilot):
        await with_frozen_rows(pilot)
        await pilot.press("space", "exclamation_mark")
        await settle(pilot)

    assert snap_compare(console(), terminal_size=SIZE, run_before=marked)


async def open_failed_detail(pilot) -> ConnectorDetailScreen:
    await live(pilot)
    item = next(i for i in frozen_listing().items if i.name == FAILED_TASK)
    screen = ConnectorDetailScreen(ENVIRONMENT, item, frozen_details(FAILED_TASK))
    await pilot.app.push_screen(screen)
    await until(pilot, lambda: screen.query_one("#tasks").row_count == 1 and screen.tier is not None,
                "the detail's tasks and its environment's tier")
    await pilot.pause()
    return screen


@pytest.mark.parametrize("size", [SIZE, WIDE], ids=["120x40", "160x45"])
def test_connector_detail_with_a_failed_task(fleet, console, snap_compare, size):
    assert snap_compare(console(), terminal_size=size, run_before=open_failed_detail)


def test_connector_trace(fleet, console, snap_compare):
    async def trace(pilot):
        await open_failed_detail(pilot)
        await pilot.press("v")
        await pilot.pause()

    assert snap_compare(console(), terminal_size=SIZE, run_before=trace)
