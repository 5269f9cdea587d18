"""What every live list screen does, whatever it lists: a title with the count and the filter,
escape that clears a filter before it goes back, no re-layout per live event, and feed events
that reach only the screens that follow their kind."""

from __future__ import annotations

import pytest
from textual import events
from textual.screen import Screen
from textual.widgets import Static

from backend.environments.models import EnvironmentCreate, EnvironmentPatch
from console.client.events import ENVIRONMENTS_FEED, K2K_FEED, Kind
from console.messages import LiveChange, Refetch
from console.screens.base import FilterBar
from console.screens.environment_detail import EnvironmentDetailScreen
from console.screens.environments import EnvironmentsScreen
from console.screens.k2k import K2KAppsScreen
from console.widgets.table_title import TableTitle
from tests.console.conftest import SIZE, seed_fleet
from tests.console.helpers import live, table_keys, until
from tests.console.k2k_fixtures import publish_metrics, seed_k2k


@pytest.fixture
def k2k(hq):
    seed_k2k(hq)
    return hq


def title(pilot) -> str:
    return pilot.app.screen.query_one(TableTitle).text


async def open_k2k(pilot) -> K2KAppsScreen:
    await live(pilot)
    await pilot.press("k")
    await until(pilot, lambda: isinstance(pilot.app.screen, K2KAppsScreen) and table_keys(pilot), "the K2K apps")
    return pilot.app.screen


class Listener(Screen):
    """A screen that follows environments only, and notes what it hears."""

    FEED_KINDS = frozenset({Kind.environment})

    def __init__(self) -> None:
        super().__init__()
        self.heard: list[LiveChange] = []
        self.refetches: list[Refetch] = []

    def on_live_change(self, message: LiveChange) -> None:
        self.heard.append(message)

    def on_refetch(self, message: Refetch) -> None:
        self.refetches.append(message)


# titles


async def test_the_environments_title_counts_rows_and_shows_the_filter_live(hq, console):
    seed_fleet(hq.store)
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        await until(pilot, lambda: title(pilot) == "Environments [3]", "the count")
        await pilot.press("slash", *"eu")
        await until(pilot, lambda: title(pilot) == "Environments [2/3] /eu", "the filtered count and the filter")
        client = hq.client()
        await client.create_environment(EnvironmentCreate(name="not-matching"))
        await until(pilot, lambda: title(pilot) == "Environments [2/4] /eu", "a row added behind the filter counted")
        await client.delete_environment("prod-eu")
        await until(pilot, lambda: title(pilot) == "Environments [1/3] /eu", "a shown row deleted")
        await client.aclose()


async def test_the_k2k_title_counts_apps_and_shows_the_filter(k2k, console):
    async with console().run_test(size=SIZE) as pilot:
        await open_k2k(pilot)
        await until(pilot, lambda: title(pilot) == "K2K apps [3]", "the count")
        await pilot.press("slash", *"orders", "enter")
        await until(pilot, lambda: title(pilot) == "K2K apps [1/3] /orders", "the filtered count")


async def test_the_detail_counts_its_connections(hq, console):
    seed_fleet(hq.store)
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        await pilot.press("down", "enter")
        await until(pilot, lambda: title(pilot) == "Kafka connections [0]", "the section's count")


async def test_a_filter_typed_in_one_burst_goes_to_the_filter(k2k, console):
    """A terminal delivers `/ord` typed fast (or pasted) as keys queued together: the ones after
    `/` must land in the filter bar, not fire the table's bindings (`o` opens offsets)."""
    async with console().run_test(size=SIZE) as pilot:
        screen = await open_k2k(pilot)
        for key, character in (("slash", "/"), ("o", "o"), ("r", "r"), ("d", "d")):
            pilot.app.post_message(events.Key(key, character))
        await until(pilot, lambda: screen.query_one(FilterBar).value == "ord", "the filter typed")
        assert pilot.app.screen is screen, "a key of the burst opened another screen"
        await pilot.press("slash")
        await until(pilot, lambda: screen.query_one(FilterBar).value == "ord/", "a / typed in the filter is text")


# escape


async def test_escape_clears_a_kept_filter_and_then_does_nothing_at_home(hq, console):
    seed_fleet(hq.store)
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        await pilot.press("slash", *"eu", "enter")  # the bar keeps the filter, the table has the keys
        assert table_keys(pilot) == ["prod-eu", "staging-eu"]
        assert pilot.app.focused is pilot.app.screen.table
        await pilot.press("escape")
        await until(pilot, lambda: table_keys(pilot) == ["dev-local", "prod-eu", "staging-eu"], "the filter cleared")
        assert pilot.app.screen.query_one(FilterBar).value == ""
        assert title(pilot) == "Environments [3]"
        await pilot.press("escape")  # no filter, and home has nowhere to go back to
        await pilot.pause()
        assert isinstance(pilot.app.screen, EnvironmentsScreen)
        assert table_keys(pilot) == ["dev-local", "prod-eu", "staging-eu"]


async def test_escape_on_a_filtered_k2k_list_clears_the_filter_before_going_back(k2k, console):
    async with console().run_test(size=SIZE) as pilot:
        screen = await open_k2k(pilot)
        await pilot.press("slash", *"orders", "enter")
        assert table_keys(pilot) == ["orders-dr"]
        await pilot.press("escape")
        await until(pilot, lambda: len(table_keys(pilot)) == 3, "the filter cleared")
        assert pilot.app.screen is screen, "still on the K2K apps"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(pilot.app.screen, EnvironmentsScreen), "back home")


async def test_escape_in_a_detail_clears_its_filter_then_goes_back(hq, console):
    seed_fleet(hq.store)
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        await pilot.press("down", "enter")
        detail = pilot.app.screen
        assert isinstance(detail, EnvironmentDetailScreen)
        await pilot.press("slash", *"main", "enter", "escape")
        await pilot.pause()
        assert pilot.app.screen is detail and detail.table.filter_text == ""
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(pilot.app.screen, EnvironmentsScreen), "back home")


# the live path


async def test_a_metrics_event_rewrites_cells_but_not_the_line_above_the_table(k2k, console):
    async with console().run_test(size=SIZE) as pilot:
        screen = await open_k2k(pilot)
        await until(pilot, lambda: screen.table.get_cell("orders-dr", "in").plain == "10,420/s", "the first metrics")
        rewrites = screen.message_updates
        hint = screen.query_one("#empty", Static)
        assert not hint.display
        publish_metrics(k2k, rate_factor=2)
        await until(pilot, lambda: screen.table.get_cell("orders-dr", "in").plain == "20,840/s", "the new rate")
        assert screen.message_updates == rewrites, "a metrics event re-laid out the screen"


async def test_events_reach_only_the_screens_that_follow_their_kind(k2k, console):
    async with console().run_test(size=SIZE) as pilot:
        apps = await open_k2k(pilot)
        listener = Listener()
        await pilot.app.push_screen(listener)
        publish_metrics(k2k, rate_factor=3)
        await until(pilot, lambda: apps.table.get_cell("orders-dr", "in").plain == "31,260/s",
                    "the metrics, heard by the K2K list under the listener")
        client = k2k.client()
        await client.patch_environment("prod-eu", EnvironmentPatch(display_name="Production (EU)"))
        await client.aclose()
        await until(pilot, lambda: listener.heard, "the environment's change")
        assert {message.change.kind for message in listener.heard} == {Kind.environment}
        change = listener.heard[-1].change
        assert change.name == "prod-eu" and change.payload.display_name == "Production (EU)"


async def test_a_resync_reaches_only_the_screens_of_its_feed(k2k, console):
    async with console().run_test(size=SIZE) as pilot:
        await open_k2k(pilot)
        listener = Listener()
        await pilot.app.push_screen(listener)
        assert pilot.app.feeds.following == {ENVIRONMENTS_FEED, K2K_FEED}
        k2k.stop()
        await until(pilot, lambda: pilot.app.feed_state in ("reconnecting", "offline"), "the feeds down")
        k2k.restart()  # a new event numbering: both feeds are told to resync
        await until(pilot, lambda: listener.refetches, "the resync", tries=600)
        assert all(message.kinds == {Kind.environment} for message in listener.refetches)


async def test_no_screen_starts_a_feed_for_another(k2k, console):
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        assert pilot.app.feeds.following == {ENVIRONMENTS_FEED}, "home follows environments only"
        await pilot.press("enter")  # dr-eu's detail lists the K2K apps that touch it: it follows them
        await until(pilot, lambda: pilot.app.feeds.following == {ENVIRONMENTS_FEED, K2K_FEED}, "the K2K feed")


async def test_a_list_that_could_not_be_read_is_read_when_hq_answers(hq, console):
    seed_fleet(hq.store)
    hq.stop()
    async with console().run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "Cannot load environments" in str(pilot.app.screen.query_one("#empty").render()),
                    "the list's error")
        hq.restart()
        await until(pilot, lambda: table_keys(pilot) == ["dev-local", "prod-eu", "staging-eu"],
                    "the list, once HQ answers", tries=600)
        assert title(pilot) == "Environments [3]"
