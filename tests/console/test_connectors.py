"""The Connectors screens against a real HQ. The console tests' HQ runs no agent, so each
environment's list really answers "no agent" (the screen must name it and go on); the rows come
from the frozen answer of a real worker (tests/console/connect_fixtures.py), shown the way the
screen shows any environment's answer. Lists from a live worker are in tests/kafka."""

from __future__ import annotations

import pytest

from backend.connect.models import ConnectStatus
from console.client.events import FeedEvent, Kind
from console.messages import LiveChange
from console.screens.confirm import ConfirmDialog
from console.screens.connect_cluster_views import ConnectClusterScreen
from console.screens.connector_detail import ConnectorDetailScreen
from console.screens.connectors import ConnectorsScreen
from console.screens.trace_view import TraceScreen
from tests.console.conftest import seed_environment, seed_fleet
from tests.console.connect_fixtures import ENVIRONMENT, FAILED_TASK, frozen_details, frozen_listing
from tests.console.helpers import live, settle, table_keys, until

LRN = f"kafka-connect:connector/{ENVIRONMENT}/main"


@pytest.fixture
def fleet(hq):
    seed_fleet(hq.store)
    return hq


async def open_connectors(pilot, environment: str = ENVIRONMENT) -> ConnectorsScreen:
    """From the home screen: the cursor on `environment`, then `c`; waits for its list's answer."""
    await live(pilot)
    home = pilot.app.screen
    await until(pilot, lambda: environment in home.table.visible_keys, "the environments")
    home.table.move_cursor(row=home.table.visible_keys.index(environment))
    await pilot.press("c")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConnectorsScreen), "the connectors screen")
    screen = pilot.app.screen
    await until(pilot, lambda: environment in screen.warnings, "the environment's answer")
    return screen


async def with_frozen_rows(pilot, environment: str = ENVIRONMENT) -> ConnectorsScreen:
    screen = await open_connectors(pilot, environment)
    screen.show_listing(environment, frozen_listing(environment))
    await settle(pilot)
    return screen


def notice(screen) -> str:
    return str(screen.query_one("#notice").render())


async def test_the_home_key_opens_the_environment_in_focus_and_names_an_agent_that_did_not_answer(fleet, console):
    async with console().run_test() as pilot:
        screen = await open_connectors(pilot)
        assert screen.title_scope() == ENVIRONMENT
        assert ENVIRONMENT in notice(screen) and "agent" in notice(screen).lower()
        assert table_keys(pilot) == []


@pytest.mark.parametrize("command", ["conn", "connectors"])
async def test_the_command_aliases_open_the_screen(fleet, console, command):
    async with console().run_test() as pilot:
        await live(pilot)
        await pilot.press("colon", *command, "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConnectorsScreen), f":{command}")
        assert pilot.app.screen.environment == "dev-local"  # the home screen's cursor: the one in focus
        await pilot.press("colon", *f"{command} prod-eu", "enter")
        await until(pilot, lambda: getattr(pilot.app.screen, "environment", None) == "prod-eu", "another one named")
        await until(pilot, lambda: pilot.app.focus_environment == "prod-eu", "the header on it")


async def test_rows_show_class_tasks_with_the_failed_marked_and_the_cluster_left_out(fleet, console):
    async with console().run_test() as pilot:
        screen = await with_frozen_rows(pilot)
        assert table_keys(pilot) == [f"{LRN}/audit-sink", f"{LRN}/orders-sink", f"{LRN}/orders-source"]
        cells = [cell.plain for cell in screen.table.get_row(f"{LRN}/audit-sink")]
        assert cells[1:7] == ["audit-sink", "main", "FileStreamSinkConnector", "sink", "● RUNNING", "0/1 ✗1"]
        assert "cluster dr" in notice(screen) and "All connection attempts failed" in notice(screen)
        assert screen.query_one("TableTitle").text == f"Connectors({ENVIRONMENT}) [3]"


async def test_the_quick_filter_keeps_what_is_not_running_and_says_so_in_the_title(fleet, console):
    async with console().run_test() as pilot:
        screen = await with_frozen_rows(pilot)
        await pilot.press("exclamation_mark")
        await settle(pilot)
        assert table_keys(pilot) == [f"{LRN}/audit-sink", f"{LRN}/orders-sink"]  # a failed task; paused
        assert screen.query_one("TableTitle").text == f"Connectors({ENVIRONMENT} · not running) [2]"
        await pilot.press("exclamation_mark")
        await settle(pilot)
        assert len(table_keys(pilot)) == 3


async def test_a_live_change_rewrites_its_row_and_the_filter_follows_it(fleet, console):
    async with console().run_test() as pilot:
        screen = await with_frozen_rows(pilot)
        await pilot.press("exclamation_mark")
        source = screen.items[f"{LRN}/orders-source"]
        failed = source.model_copy(update={"state": ConnectStatus.FAILED})
        screen.post_message(LiveChange(FeedEvent(Kind.connector, "updated", source.lrn, ENVIRONMENT, failed)))
        await until(pilot, lambda: f"{LRN}/orders-source" in table_keys(pilot), "the failed source shown")
        other = failed.model_copy(update={"lrn": "kafka-connect:connector/prod-eu/main/orders-source"})
        screen.post_message(LiveChange(FeedEvent(Kind.connector, "created", other.lrn, "prod-eu", other)))
        screen.post_message(LiveChange(FeedEvent(Kind.connector, "deleted", f"{LRN}/orders-sink", ENVIRONMENT)))
        await until(pilot, lambda: f"{LRN}/orders-sink" not in table_keys(pilot), "the deleted sink gone")
        assert other.lrn not in screen.items  # another environment's feed: not this scope


async def test_marked_rows_are_deleted_after_one_confirmation_that_lists_them(fleet, console):
    async with console().run_test() as pilot:
        screen = await with_frozen_rows(pilot)
        await pilot.press("space", "space")  # marks the first row, then the next
        assert screen.marked == {f"{LRN}/audit-sink", f"{LRN}/orders-sink"}
        assert screen.table.get_row(f"{LRN}/audit-sink")[0].plain == "✓"
        await pilot.press("d")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), "the confirmation")
        dialog = pilot.app.screen
        assert dialog.title_text == "Delete 2 connectors?" and dialog.type_to_confirm is None  # staging
        assert "main/audit-sink" in dialog.message and "main/orders-sink" in dialog.message
        await pilot.press("y")
        # No agent answers in these tests: each delete fails, and says so.
        await until(pilot, lambda: sum("Delete main/" in n for n in pilot.app.notices) == 2, "both refusals")
        assert screen.marked == set()


async def test_in_production_the_name_is_typed_to_delete(fleet, console):
    async with console().run_test() as pilot:
        await with_frozen_rows(pilot, "prod-eu")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), "the confirmation")
        assert pilot.app.screen.type_to_confirm == "audit-sink"


async def test_read_only_refuses_every_change(fleet, console):
    async with console(read_only=True).run_test() as pilot:
        screen = await with_frozen_rows(pilot)
        assert [a for a in ("pause", "resume", "stop", "start", "restart", "restart_failed", "delete", "edit")
                if screen.check_action(a, ())] == []
        assert screen.check_action("open", ()) and screen.check_action("mark", ())


async def test_widening_lists_every_environment_and_names_the_first_that_did_not_answer(fleet, console):
    for name in ("qa", "uat-1"):  # seeded ids follow the length of the name
        seed_environment(fleet.store, name)
    everyone = {"dev-local", "prod-eu", "qa", "staging-eu", "uat-1"}
    async with console().run_test() as pilot:
        screen = await open_connectors(pilot)
        await pilot.press("w")
        await until(pilot, lambda: set(screen.warnings) == everyone, "every environment")
        assert screen.title_scope() == "all environments"
        lines = notice(screen).splitlines()
        assert [line.split(":")[0] for line in lines] == ["⚠ dev-local", "⚠ prod-eu", "⚠ qa", "⚠ … and 2 more"]
        screen.show_listing(ENVIRONMENT, frozen_listing())
        await settle(pilot)
        assert [cell.plain for cell in screen.table.get_row(f"{LRN}/audit-sink")][2] == f"{ENVIRONMENT}/main"
        await pilot.press("w")
        await until(pilot, lambda: set(screen.warnings) == {ENVIRONMENT}, "the one environment again")


async def test_the_detail_shows_tasks_and_config_and_the_failed_task_trace_full_screen(fleet, console):
    details = frozen_details(FAILED_TASK)
    item = next(i for i in frozen_listing().items if i.name == FAILED_TASK)
    async with console().run_test() as pilot:
        await live(pilot)
        pilot.app.push_screen(ConnectorDetailScreen(ENVIRONMENT, item, details))
        await until(pilot, lambda: isinstance(pilot.app.screen, ConnectorDetailScreen), "the detail")
        screen = pilot.app.screen
        await until(pilot, lambda: screen.query("#tasks") and screen.query_one("#tasks").row_count, "its tasks")
        tasks = screen.query_one("#tasks")
        assert [cell.plain if hasattr(cell, "plain") else cell for cell in tasks.get_row("0")][:3] == [
            "0", "● FAILED", "connect-1.staging-eu:8083"]
        assert screen.query_one("#config").get_row("file")[0] == "file"
        await pilot.press("v")
        await until(pilot, lambda: isinstance(pilot.app.screen, TraceScreen), "the trace")
        trace = pilot.app.screen
        assert trace.trace == details.tasks[0].trace and "Task 0 of main/audit-sink" in trace.what
        await pilot.press("y")
        assert pilot.app.clipboard == details.tasks[0].trace
        body = trace.query_one("#trace")
        await pilot.press("w")
        await until(pilot, lambda: trace.wrapped and body.size.width <= trace.size.width, "the trace wrapped")
        await pilot.press("w")
        await until(pilot, lambda: not trace.wrapped, "the trace unwrapped")
        await pilot.press("escape")
        await until(pilot, lambda: pilot.app.screen is screen, "back on the detail")
        await pilot.press("o")  # the offsets screen is another helper's: the key must not crash
        await until(pilot, lambda: any("offsets" in n.lower() for n in pilot.app.notices)
                    or not isinstance(pilot.app.screen, ConnectorDetailScreen), "the offsets key answered")


async def test_an_environment_feed_that_is_refused_shows_on_the_screen_not_in_the_header(fleet, console):
    async with console().run_test() as pilot:
        screen = await open_connectors(pilot)
        path = f"/api/v1/environments/{ENVIRONMENT}/proxy/api/kafka-connect/live/sse"
        assert path not in pilot.app.feeds.following  # its list was refused: nothing to follow yet
        screen.follow({ENVIRONMENT: None})
        await until(pilot, lambda: f"live updates of {ENVIRONMENT}: reconnecting" in notice(screen),
                    "the refused feed named over the table")
        assert path in pilot.app.feeds.following and pilot.app.feed_state == "live"


async def test_the_cluster_views_say_when_the_environment_has_no_connect_cluster(fleet, console):
    async with console(read_only=True).run_test() as pilot:
        await open_connectors(pilot)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConnectClusterScreen), "the cluster views")
        views = pilot.app.screen
        await until(pilot, lambda: "has no Kafka Connect cluster" in str(views.query_one("#info").render()),
                    "no cluster named")
        assert not views.check_action("set_level", ())  # read-only
