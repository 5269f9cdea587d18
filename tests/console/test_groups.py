"""The consumer group screens, driven from the keyboard against a real HQ, with the frozen answers
of a real agent (tests/console/group_fixtures.py): the list with its lag, a K2K app's position
group read as the app's (its lag the app's own, live from HQ's K2K metrics), the detail, and the
offsets editor (expressions checked against each partition's range, the diff, and the refusals:
a group with members, a K2K position group)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from textual.widgets import DataTable, Static

from backend.streams.models import CommitOffset
from console.client import HQClient
from console.client.event_api import EventAPIError
from console.screens.confirm import ConfirmDialog
from console.screens.group_detail import GroupDetailScreen, summary
from console.screens.group_offsets import GroupOffsets
from console.screens.group_rows import SourceLag, lag_bar, lag_text
from console.screens.groups import GroupsScreen
from console.screens.k2k_detail import K2KDetailScreen
from tests.console.conftest import SIZE
from tests.console.group_fixtures import (
    ENVIRONMENT,
    K2K_GROUP,
    K2K_LAG,
    STOPPED,
    WITH_MEMBERS,
    frozen_detail,
    frozen_listing,
    frozen_offsets,
    frozen_refusal,
)
from tests.console.helpers import live, settle, table_keys, until
from tests.console.k2k_fixtures import publish_metrics, seed_k2k
from tests.http_servers import tiny_server

WIDE = (160, 45)


@pytest.fixture
def dr(hq):
    seed_k2k(hq)  # dr-eu, the K2K apps' target, is the first environment: the one in focus
    return hq


async def open_groups(pilot) -> GroupsScreen:
    await live(pilot)
    await until(pilot, lambda: table_keys(pilot), "the environments")
    await pilot.press("g")
    await until(pilot, lambda: isinstance(pilot.app.screen, GroupsScreen), "the groups screen")
    return pilot.app.screen


async def with_frozen_groups(pilot) -> GroupsScreen:
    screen = await open_groups(pilot)
    await until(pilot, lambda: "Cannot load" in screen.query_one("#empty", Static).render().plain,
                "the list tried (no agent here)")
    await screen.show_listing(frozen_listing())
    await settle(pilot)
    return screen


def cell(screen: GroupsScreen, key: str, column: str) -> str:
    return screen.table.get_cell(key, column).plain


def notices(pilot) -> str:
    return "\n".join(pilot.app.notices)


# the list


async def test_g_opens_the_groups_of_the_environment_in_focus(dr, console):
    async with console().run_test(size=SIZE) as pilot:
        screen = await with_frozen_groups(pilot)
        assert screen.environment == ENVIRONMENT
        assert table_keys(pilot) == [WITH_MEMBERS, STOPPED, K2K_GROUP]
        assert cell(screen, STOPPED, "state") == "● Empty"
        assert cell(screen, STOPPED, "streams") == "orders, payments"
        assert cell(screen, STOPPED, "lag").split() == ["████", "1,519"]
        assert cell(screen, WITH_MEMBERS, "members") == "1"


async def test_a_k2k_position_group_reads_as_its_app_with_the_apps_lag_against_the_source(dr, console):
    async with console().run_test(size=SIZE) as pilot:
        screen = await with_frozen_groups(pilot)
        assert cell(screen, K2K_GROUP, "group") == "K2K orders-dr"
        # Not the target's log end minus the group's offsets (which are the source's): the app's own lag.
        assert cell(screen, K2K_GROUP, "lag").split() == ["██", f"{K2K_LAG}", "on", "source"]


async def test_the_k2k_lag_follows_the_apps_metrics_live(dr, console):
    async with console().run_test(size=SIZE) as pilot:
        screen = await with_frozen_groups(pilot)
        publish_metrics(dr, lag_factor=25)
        await until(pilot, lambda: "1,800" in cell(screen, K2K_GROUP, "lag"), "the new lag (6 partitions of 300)")


async def test_k_on_a_k2k_group_opens_its_app(dr, console):
    async with console().run_test(size=SIZE) as pilot:
        screen = await with_frozen_groups(pilot)
        screen.table.move_cursor(row=screen.table.get_row_index(K2K_GROUP))
        await pilot.press("k")
        await until(pilot, lambda: isinstance(pilot.app.screen, K2KDetailScreen), "the K2K app's detail")
        assert pilot.app.screen.k2k.metadata.name == "orders-dr"


async def test_k_on_another_group_says_it_is_not_a_k2k_app(dr, console):
    async with console().run_test(size=SIZE) as pilot:
        await with_frozen_groups(pilot)
        await pilot.press("k")  # the first row: audit
        await until(pilot, lambda: "not a K2K app's position group" in notices(pilot), "the answer")
        assert isinstance(pilot.app.screen, GroupsScreen)


async def test_the_filter_narrows_the_rows_and_the_title_counts_them(dr, console):
    async with console().run_test(size=SIZE) as pilot:
        screen = await with_frozen_groups(pilot)
        await pilot.press("slash", *"k2k", "enter")
        await settle(pilot)
        assert table_keys(pilot) == [K2K_GROUP]
        assert "[1/3]" in screen.query_one("TableTitle").render().plain


@pytest.mark.parametrize("command", ["groups", "consumers"])
async def test_the_command_aliases_open_the_screen(dr, console, command):
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        await until(pilot, lambda: table_keys(pilot), "the environments")
        await pilot.press("colon", *command, "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, GroupsScreen), f":{command}")
        assert pilot.app.screen.environment == ENVIRONMENT


async def test_the_command_names_another_environment(dr, console):
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        await until(pilot, lambda: table_keys(pilot), "the environments")
        await pilot.press("colon", *"groups prod-eu", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, GroupsScreen), ":groups prod-eu")
        assert pilot.app.screen.environment == "prod-eu"


# the detail


async def open_detail(pilot, group: str) -> GroupDetailScreen:
    await live(pilot)
    detail = frozen_detail(group)
    screen = GroupDetailScreen(ENVIRONMENT, detail, detail)
    await pilot.app.push_screen(screen)
    await until(pilot, lambda: screen.query_one("#partitions", DataTable).row_count == len(detail.partitions)
                and (not detail.k2kApp or screen.metrics is not None), "the partitions")
    await pilot.pause()
    return screen


def text_of(renderable) -> str:
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(renderable)
    return " ".join(console.export_text().split())


def partition_row(screen: GroupDetailScreen, key: str) -> list[str]:
    table = screen.query_one("#partitions", DataTable)
    return [str(getattr(value, "plain", value)) for value in table.get_row(key)]


async def test_the_detail_shows_each_partitions_lag_and_the_members(dr, console):
    async with console().run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, WITH_MEMBERS)
        assert partition_row(screen, "orders/0")[:5] == ["orders", "0", "1,100", "1,200", "███      100"]
        members = screen.query_one("#members", DataTable)
        assert [str(c) for c in members.get_row_at(0)] == ["audit-worker-00000000", "audit-worker", "/10.20.0.14",
                                                          "orders[0], orders[1], orders[2]"]


async def test_a_k2k_groups_detail_measures_against_the_source(dr, console):
    async with console().run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, K2K_GROUP)
        # The app's figures: the source's log end (100,000 + p) and its lag (12), not the target's.
        assert partition_row(screen, "orders/1")[:5] == ["orders", "1", "90,001", "100,001", "██       12"]
        # Its positions are the app's: the group's editor is not offered, the summary says where they are edited.
        assert screen.check_action("offsets", ()) is False and screen.check_action("k2k", ()) is not False
        assert "its offsets are edited there" in text_of(summary(ENVIRONMENT, screen.group, screen.metrics))
        await pilot.press("o")
        await pilot.pause()
        assert pilot.app.screen is screen


async def test_o_on_a_group_with_members_says_to_stop_its_consumers_first(dr, console):
    async with console().run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, WITH_MEMBERS)
        await pilot.press("o")
        await until(pilot, lambda: "stop its consumers first" in notices(pilot), "the refusal")
        assert pilot.app.screen is screen


async def test_o_on_a_stopped_group_opens_its_offsets_editor(dr, console):
    async with console().run_test(size=SIZE) as pilot:
        await open_detail(pilot, STOPPED)
        await pilot.press("o")
        await until(pilot, lambda: isinstance(pilot.app.screen, GroupOffsets), "the offsets editor")
        assert pilot.app.screen.group == STOPPED


# the offsets editor


async def open_editor(pilot, group: str = STOPPED) -> GroupOffsets:
    await live(pilot)
    detail = frozen_detail(group)
    editor = GroupOffsets(ENVIRONMENT, group, detail, frozen_offsets(detail))
    await pilot.app.push_screen(editor)
    await until(pilot, lambda: len(editor.entries) == len(detail.partitions) and pilot.app.focused is not None,
                "the editor's rows")
    return editor


async def test_expressions_are_checked_against_each_partitions_range(dr, console):
    async with console().run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot)
        await pilot.press("a", *"earliest", "enter")
        assert [e.new for e in editor.entries.values()] == [0, 0, 0, 0, 0]
        await pilot.press(*"+300", "enter")  # the row under the cursor: orders[0], committed at its end
        entry = editor.entries["orders/0"]
        assert (entry.new, entry.error) == (None, "outside 0 to 1,200")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert pilot.app.screen is editor  # an invalid entry: nothing to confirm, nothing sent


async def test_apply_confirms_the_diff_in_one_commit(dr, console):
    async with console().run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot)
        await pilot.press("down", *"-500", "enter", "down", *"latest", "enter")
        assert editor.diff() == ["orders[1]  980 → 480", "orders[2]  12 → 1,274"]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), "the confirmation")
        dialog = pilot.app.screen
        assert dialog.title_text == "Set 2 offsets?"
        assert "orders[1]  980 → 480" in dialog.message and "one commit" in dialog.message


async def test_a_group_with_members_is_refused_before_anything_is_sent(dr, console):
    async with console().run_test(size=SIZE) as pilot:
        detail = frozen_detail(WITH_MEMBERS)
        await live(pilot)
        editor = GroupOffsets(ENVIRONMENT, WITH_MEMBERS, detail, frozen_offsets(detail))
        await pilot.app.push_screen(editor)
        await until(pilot, lambda: len(editor.entries) == 3, "the editor's rows")
        assert "stop its consumers first" in editor.heading
        await pilot.press(*"earliest", "enter", "ctrl+s")
        await until(pilot, lambda: "stop its consumers first" in notices(pilot), "the refusal")
        assert pilot.app.screen is editor


async def test_the_agents_refusal_of_a_group_with_members_reads_as_the_family(tmp_path):
    status, body = frozen_refusal()
    with tiny_server(lambda *_: (status, body.model_dump())) as (url, seen):
        client = HQClient(url, "token")
        try:
            with pytest.raises(EventAPIError) as refused:
                await client.groups.commit(ENVIRONMENT, WITH_MEMBERS,
                                           [CommitOffset(stream="orders", partition=0, offset=0)])
        finally:
            await client.aclose()
    assert (refused.value.status, refused.value.code) == (409, 1008)
    assert seen.requests[0][:2] == ("POST", f"/api/v1/environments/{ENVIRONMENT}/proxy/api/v1/consumers/audit/commit")


def test_lag_reads_by_order_of_magnitude():
    assert [lag_bar(n) for n in (0, 7, 10, 999, 12_345_678_901)] == ["", "█", "██", "███", "████████"]
    assert lag_text(None).plain == "—"
    assert lag_text(SourceLag(5)).plain.endswith("5 on source")


# snapshots


@pytest.mark.parametrize("size", [SIZE, WIDE], ids=["120x40", "160x45"])
def test_groups_table_snapshot(dr, console, snap_compare, size):
    assert snap_compare(console(), terminal_size=size, run_before=with_frozen_groups)


@pytest.mark.parametrize("size", [SIZE, WIDE], ids=["120x40", "160x45"])
def test_group_offsets_diff_snapshot(dr, console, snap_compare, size):
    async def steps(pilot) -> None:
        await open_editor(pilot)
        await pilot.press("space", "space", *"earliest", "enter", "down", "down", *"+50000", "enter")
        await settle(pilot)

    assert snap_compare(console(), terminal_size=size, run_before=steps)


@pytest.mark.parametrize("size", [SIZE, WIDE], ids=["120x40", "160x45"])
def test_group_offsets_confirm_snapshot(dr, console, snap_compare, size):
    async def steps(pilot) -> None:
        await open_editor(pilot)
        await pilot.press("a", *"-10", "enter", "ctrl+s")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), "the confirmation")
        await settle(pilot)

    assert snap_compare(console(), terminal_size=size, run_before=steps)


@pytest.mark.parametrize("size", [SIZE, WIDE], ids=["120x40", "160x45"])
def test_group_offsets_refused_with_members_snapshot(dr, console, snap_compare, size):
    async def steps(pilot) -> None:
        detail = frozen_detail(WITH_MEMBERS)
        await live(pilot)
        await pilot.app.push_screen(GroupOffsets(ENVIRONMENT, WITH_MEMBERS, detail, frozen_offsets(detail)))
        await until(pilot, lambda: len(pilot.app.screen.entries) == 3, "the editor's rows")
        await settle(pilot)

    assert snap_compare(console(), terminal_size=size, run_before=steps)
