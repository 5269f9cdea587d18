"""What the Topics screens look like, at fixed terminal sizes, against a real HQ with the frozen
answers of a real agent (tests/console/topics_fixtures.py): the table, the detail of a topic
with groups reading it, and a delete confirmation in production. The create form with the
agent's refusal at its field is drawn on the sandbox (tests/kafka/test_console_topics.py)."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from tests.console.conftest import SIZE, seed_fleet
from tests.console.helpers import settle, table_keys, until
from tests.console.test_topics import with_frozen_rows
from tests.console.topics_fixtures import BUSY, frozen_description, frozen_groups

WIDE = (160, 45)


@pytest.fixture
def fleet(hq):
    seed_fleet(hq.store)
    return hq


@pytest.mark.parametrize("size", [SIZE, WIDE], ids=["120x40", "160x45"])
def test_topics(fleet, console, snap_compare, size):
    async def rows(pilot):
        await with_frozen_rows(pilot)

    assert snap_compare(console(), terminal_size=size, run_before=rows)


def test_topics_with_internal_filtered(fleet, console, snap_compare):
    async def filtered(pilot):
        await with_frozen_rows(pilot)
        await pilot.press("i", "slash", *"o", "enter")
        await settle(pilot)

    assert snap_compare(console(), terminal_size=SIZE, run_before=filtered)


@pytest.mark.parametrize("size", [SIZE, WIDE], ids=["120x40", "160x45"])
def test_topic_detail(fleet, console, snap_compare, size):
    async def detail(pilot):
        screen = await with_frozen_rows(pilot)
        screen.table.move_cursor(row=table_keys(pilot).index(BUSY))
        await pilot.press("enter")
        await until(pilot, lambda: pilot.app.screen is not screen and "not connected" in pilot.app.screen.notice,
                    "the detail's own reading refused (no agent)")
        pilot.app.screen.show_reading(frozen_description(), frozen_groups())
        await pilot.pause()

    assert snap_compare(console(), terminal_size=size, run_before=detail)


def test_topic_delete_in_production(fleet, console, snap_compare):
    async def confirm(pilot):
        screen = await with_frozen_rows(pilot, "prod-eu")
        screen.table.move_cursor(row=table_keys(pilot).index(BUSY))
        await pilot.press("d")
        await until(pilot, lambda: pilot.app.screen is not screen, "the confirmation")
        pilot.app.screen.query_one(Input).cursor_blink = False  # drawn on or off by the clock otherwise
        await pilot.pause()

    assert snap_compare(console(), terminal_size=SIZE, run_before=confirm)
