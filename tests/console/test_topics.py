"""The Topics screens against a real HQ. The console tests' HQ runs no agent, so the list really
answers "no agent" (the screen must name it and go on); the rows come from the frozen answers of
a real agent (tests/console/topics_fixtures.py), shown the way the screen shows any answer. The
agent's own answers, a create refused at its field and a topic that moves are in
tests/kafka/test_console_topics.py."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, Select

from backend.streams.models import StreamConfig, StreamCreate
from console.client.events import FeedEvent, Kind, kinds_of
from console.client.streams import StreamListing
from console.messages import LiveChange
from console.screens.confirm import ConfirmDialog
from console.screens.publish_editor import PublishEditor
from console.screens.tail import TailScreen
from console.screens.topic_detail import TopicDetailScreen
from console.screens.topic_form import TopicForm, retention_ms
from console.screens.topics import TopicsScreen
from tests.console.conftest import seed_fleet
from tests.console.helpers import live, settle, table_keys, until
from tests.console.topics_fixtures import BUSY, ENVIRONMENT, frozen_description, frozen_groups, frozen_listing

VISIBLE = ["audit.log", "orders", "orders.dlq", "payments"]


@pytest.fixture
def fleet(hq):
    seed_fleet(hq.store)
    return hq


async def open_topics(pilot, environment: str = ENVIRONMENT) -> TopicsScreen:
    """From the home screen: the cursor on `environment`, then `t`; waits for its list's answer."""
    await live(pilot)
    home = pilot.app.screen
    await until(pilot, lambda: environment in home.table.visible_keys, "the environments")
    home.table.move_cursor(row=home.table.visible_keys.index(environment))
    await pilot.press("t")
    await until(pilot, lambda: isinstance(pilot.app.screen, TopicsScreen), "the topics screen")
    screen = pilot.app.screen
    await until(pilot, lambda: environment in notice(screen), "the environment's answer")
    return screen


async def with_frozen_rows(pilot, environment: str = ENVIRONMENT) -> TopicsScreen:
    screen = await open_topics(pilot, environment)
    screen.show_listing(frozen_listing())
    await settle(pilot)
    return screen


def notice(screen) -> str:
    return str(screen.query_one("#notice").render())


def title(screen) -> str:
    return screen.query_one("TableTitle").text


def cells(screen, key: str) -> list[str]:
    return [cell.plain for cell in screen.table.get_row(key)]


async def test_the_home_key_opens_the_environment_in_focus_and_names_an_agent_that_did_not_answer(fleet, console):
    async with console().run_test() as pilot:
        screen = await open_topics(pilot)
        assert screen.environment == ENVIRONMENT and title(screen) == f"Topics({ENVIRONMENT}) [0]"
        assert "agent" in notice(screen).lower() and "as last read" not in notice(screen)  # nothing shown yet
        assert pilot.app.focus_environment == ENVIRONMENT and pilot.app.focus_tier == "staging"


@pytest.mark.parametrize("command", ["topics", "streams"])
async def test_the_command_aliases_open_the_screen(fleet, console, command):
    async with console().run_test() as pilot:
        await live(pilot)
        await pilot.press("colon", *command, "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, TopicsScreen), f":{command}")
        assert pilot.app.screen.environment == "dev-local"  # the home screen's cursor: the one in focus
        await pilot.press("colon", *f"{command} prod-eu", "enter")
        await until(pilot, lambda: getattr(pilot.app.screen, "environment", None) == "prod-eu", "another one named")
        await until(pilot, lambda: pilot.app.focus_environment == "prod-eu", "the header on it")


async def test_rows_show_the_figures_and_internal_topics_only_after_i(fleet, console):
    async with console().run_test() as pilot:
        screen = await with_frozen_rows(pilot)
        assert table_keys(pilot) == VISIBLE
        assert cells(screen, BUSY) == ["orders", "6", "1", "1,240", "45.6 KB", "—", "2"]
        assert title(screen) == f"Topics({ENVIRONMENT}) [4]" and notice(screen) == ""
        await pilot.press("i")
        await settle(pilot)
        assert table_keys(pilot) == ["__consumer_offsets", *VISIBLE]
        assert title(screen) == f"Topics({ENVIRONMENT} · with internal) [5]"
        await pilot.press("i")
        await settle(pilot)
        assert table_keys(pilot) == VISIBLE


async def test_a_new_reading_updates_rows_in_place_keeping_cursor_filter_and_sort(fleet, console):
    async with console().run_test() as pilot:
        screen = await with_frozen_rows(pilot)
        await pilot.press("slash", *"orders", "enter")
        await settle(pilot)
        assert table_keys(pilot) == ["orders", "orders.dlq"] and title(screen).endswith("[2/4] /orders")
        await pilot.press("s", "s", "s", "s")  # by MESSAGES
        await pilot.press("S")  # the most first
        await settle(pilot)
        screen.table.move_cursor(row=table_keys(pilot).index("orders.dlq"))
        listing = frozen_listing()
        grown = [item.model_copy(update={"totalMessages": item.totalMessages + 5, "messagesPerSecond": 2.5})
                 if item.name == "orders.dlq" else item for item in listing.items]
        screen.show_listing(StreamListing(grown, listing.total, None))
        await settle(pilot)
        assert cells(screen, "orders.dlq")[3:6] == ["5", "0 B", "2.5/s"]
        assert screen.table.selected_key == "orders.dlq" and table_keys(pilot) == ["orders", "orders.dlq"]
        assert screen.table.sort_column == 3 and screen.table.sort_reverse


async def test_a_live_change_of_this_environment_rewrites_its_row_and_others_are_ignored(fleet, console):
    async with console().run_test() as pilot:
        screen = await with_frozen_rows(pilot)
        payments = screen.items["payments"].model_copy(update={"totalMessages": 999})
        screen.post_message(LiveChange(FeedEvent(Kind.stream, "updated", "payments", "prod-eu", payments)))
        screen.post_message(LiveChange(FeedEvent(Kind.stream, "deleted", "orders.dlq", ENVIRONMENT)))
        await until(pilot, lambda: "orders.dlq" not in table_keys(pilot), "the deleted topic gone")
        assert screen.items["payments"].totalMessages == 310  # another environment's topic of that name


async def test_a_list_that_was_refused_is_read_again_when_hq_says_the_agent_is_connected(fleet, console):
    async with console().run_test() as pilot:
        screen = await open_topics(pilot)
        assert screen.reads == 1 and Kind.stream not in {k for p in pilot.app.feeds.following for k in kinds_of(p)}
        home = pilot.app.screen_stack[-2]
        environment = home.items[ENVIRONMENT]
        status = environment.status.model_copy(update={"agent_connected": True})
        connected = environment.model_copy(update={"status": status})
        others = home.items["prod-eu"]
        screen.post_message(LiveChange(FeedEvent(Kind.environment, "updated", "prod-eu", None, others)))
        screen.post_message(LiveChange(FeedEvent(Kind.environment, "updated", ENVIRONMENT, None, connected)))
        await until(pilot, lambda: screen.reads == 2, "the list read again")
        await until(pilot, lambda: "agent" in notice(screen).lower(), "its answer (no agent here, still)")


async def test_delete_asks_once_saying_what_goes_and_reports_the_refusal(fleet, console):
    async with console().run_test() as pilot:
        screen = await with_frozen_rows(pilot)
        screen.table.move_cursor(row=table_keys(pilot).index(BUSY))
        await pilot.press("d")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), "the confirmation")
        dialog = pilot.app.screen
        assert dialog.title_text == "Delete topic orders?" and dialog.type_to_confirm is None  # staging
        assert "1,240 messages (45.6 KB)" in dialog.message and "Consumer groups lose their positions" in dialog.message
        await pilot.press("y")
        # No agent answers in these tests: the delete fails, and says so.
        await until(pilot, lambda: any(n.startswith("Delete of orders failed") for n in pilot.app.notices),
                    "the refusal")


async def test_in_production_the_name_is_typed_to_delete(fleet, console):
    async with console().run_test() as pilot:
        await with_frozen_rows(pilot, "prod-eu")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), "the confirmation")
        assert pilot.app.screen.type_to_confirm == "audit.log"


async def test_read_only_refuses_create_delete_and_publish_but_not_tail(fleet, console):
    async with console(read_only=True).run_test() as pilot:
        screen = await with_frozen_rows(pilot)
        assert [a for a in ("new", "delete", "publish") if screen.check_action(a, ())] == []
        assert all(screen.check_action(a, ()) for a in ("tail", "open", "internal"))


async def test_tail_and_publish_open_the_tails_screens_on_the_topic_under_the_cursor(fleet, console):
    async with console().run_test() as pilot:
        screen = await with_frozen_rows(pilot)
        screen.table.move_cursor(row=table_keys(pilot).index(BUSY))
        await pilot.press("t")
        await until(pilot, lambda: isinstance(pilot.app.screen, TailScreen), "the tail")
        assert (pilot.app.screen.environment, pilot.app.screen.stream) == (ENVIRONMENT, BUSY)
        await pilot.press("escape")
        await until(pilot, lambda: pilot.app.screen is screen, "back on the list")
        await pilot.press("P")
        await until(pilot, lambda: isinstance(pilot.app.screen, PublishEditor), "the publish editor")
        assert (pilot.app.screen.environment, pilot.app.screen.stream) == (ENVIRONMENT, BUSY)


def test_retention_takes_durations_milliseconds_or_forever():
    assert [retention_ms(text) for text in ("", "7d", "12h", "30m", "90s", "500ms", "86400000", "forever", "-1",
                                            "1w")] == [
        None, 604_800_000, 43_200_000, 1_800_000, 90_000, 500, 86_400_000, -1, -1, 604_800_000]
    with pytest.raises(ValueError, match="7d, 12h"):
        retention_ms("7 days")


async def open_form(pilot) -> TopicForm:
    await with_frozen_rows(pilot)
    await pilot.press("n")
    await until(pilot, lambda: isinstance(pilot.app.screen, TopicForm), "the form")
    return pilot.app.screen


def error_at(form: TopicForm, field: str) -> str:
    line = form.query_one(f"#error-{field}")
    return str(line.render()) if line.display else ""


async def test_the_form_refuses_what_kafka_would_at_each_field_and_keeps_what_was_typed(fleet, console):
    async with console().run_test() as pilot:
        form = await open_form(pilot)
        for field, value in (("name", "orders v2"), ("partitions", "0"), ("replication", "x"), ("retention", "7 days")):
            form.query_one(f"#{field}", Input).value = value
        await pilot.press("ctrl+s")
        await until(pilot, lambda: error_at(form, "name"), "the errors")
        assert "a-z A-Z 0-9 . _ -" in error_at(form, "name")
        assert error_at(form, "partitions") == "A whole number from 1 to 10,000."
        assert error_at(form, "replication") == "A whole number from 1 to 16."
        assert "7d, 12h" in error_at(form, "retention")
        assert form.query_one("#name", Input).value == "orders v2" and pilot.app.screen is form


async def test_the_form_sends_the_topic_as_the_event_api_takes_it_and_says_why_it_was_not_made(fleet, console):
    async with console().run_test() as pilot:
        form = await open_form(pilot)
        for field, value in (("name", "orders.v2"), ("partitions", "12"), ("replication", "3"), ("retention", "7d")):
            form.query_one(f"#{field}", Input).value = value
        form.query_one("#compression", Select).value = "zstd"
        assert form.request() == StreamCreate(name="orders.v2", partitions=12, replicationFactor=3,
                                              config=StreamConfig(retentionMs=604_800_000, compressionType="zstd"))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "not connected" in str(form.query_one("#form-error").render()),
                    "HQ's refusal (no agent)")
        assert pilot.app.screen is form  # nothing typed lost
        assert form.field_for("config.retentionMs") == "retention" and form.field_for("replicationFactor") == \
            "replication"


async def test_the_detail_shows_partitions_configs_and_the_groups_reading_it(fleet, console):
    async with console().run_test() as pilot:
        screen = await with_frozen_rows(pilot)
        screen.table.move_cursor(row=table_keys(pilot).index(BUSY))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, TopicDetailScreen), "the detail")
        detail = pilot.app.screen
        assert detail.tier == "staging"  # the list's: a delete there asks with y/n
        await until(pilot, lambda: "not connected" in detail.notice, "its own reading refused (no agent)")
        detail.show_reading(frozen_description(), frozen_groups())
        assert detail.notice == ""
        partitions = detail.query_one("#partitions", DataTable)
        assert partitions.row_count == 6
        assert [str(c) for c in partitions.get_row("0")] == ["0", "broker-1", "broker-1", "broker-1", "0", "205",
                                                              "205"]
        groups = detail.query_one("#groups", DataTable)
        assert [str(groups.get_row(key)[0]) for key in ("billing", "fraud-check")] == ["billing", "fraud-check"]
        assert str(groups.get_row("billing")[3]) == "35"
        await pilot.press("d")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), "the confirmation")
        await pilot.press("n", "escape")
        await until(pilot, lambda: pilot.app.screen is screen, "back on the list")
