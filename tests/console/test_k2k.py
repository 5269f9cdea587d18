"""The K2K screens, driven from the keyboard against a real HQ: the live list, the detail,
the YAML editor (server errors at their line, nothing lost), pause, delete, and the offsets
editor (expressions, invalid entries, the diff before anything is sent)."""

from __future__ import annotations

import re

import pytest
from textual.widgets import DataTable, Static, TextArea

from backend.k2k.models import PartitionPosition
from console.screens.k2k import K2KAppsScreen
from console.screens.k2k_detail import K2KDetailScreen
from console.screens.k2k_editor import K2KEditor, line_of
from console.screens.offsets import OffsetsEditor
from console.screens.positions_grid import resolve
from tests.console.conftest import SIZE
from tests.console.helpers import live, settle, table_keys, until
from tests.console.k2k_fixtures import positions, publish_metrics, seed_k2k


@pytest.fixture
def k2k(hq):
    seed_k2k(hq)
    return hq


async def open_k2k(pilot) -> K2KAppsScreen:
    await live(pilot)
    await pilot.press("k")
    await until(pilot, lambda: isinstance(pilot.app.screen, K2KAppsScreen) and table_keys(pilot), "the K2K apps")
    return pilot.app.screen


def cell(screen: K2KAppsScreen, key: str, column: str) -> str:
    return screen.table.get_cell(key, column).plain


def drawn(screen: K2KAppsScreen, key: str) -> str:
    """The row's line as the table draws it (below the header line)."""
    return screen.table.render_line(screen.table.get_row_index(key) + 1).text


# the list


async def test_k_opens_the_live_list_with_each_apps_figures(k2k, console):
    async with console().run_test(size=SIZE) as pilot:
        screen = await open_k2k(pilot)
        assert table_keys(pilot) == ["audit-archive", "clickstream", "orders-dr"]
        assert cell(screen, "orders-dr", "route") == "prod-eu → dr-eu"
        assert cell(screen, "clickstream", "state") == "● failed"
        assert cell(screen, "clickstream", "generation") == "1/0"


async def test_metrics_update_rows_in_place_keeping_the_cursor(k2k, console):
    async with console().run_test(size=SIZE) as pilot:
        screen = await open_k2k(pilot)
        await until(pilot, lambda: cell(screen, "orders-dr", "in") == "10,420/s", "the first metrics")
        await pilot.press("down")
        assert "10,420/s" in drawn(screen, "orders-dr")  # rendered, so cached
        publish_metrics(k2k, rate_factor=2)
        await until(pilot, lambda: cell(screen, "orders-dr", "in") == "20,840/s", "the new rate")
        assert screen.table.selected_key == "clickstream"
        # Written in place (only that row's renders dropped): what is drawn must follow.
        await until(pilot, lambda: "20,840/s" in drawn(screen, "orders-dr"), "the new rate drawn")
        assert "10,420/s" not in drawn(screen, "orders-dr")


async def test_command_line_k2k_and_escape_back_home(k2k, console):
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        await pilot.press("colon", *"k2k", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, K2KAppsScreen), "the K2K screen")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(pilot.app.screen, K2KAppsScreen), "home again")


async def test_p_pauses_the_selected_app(k2k, console):
    async with console().run_test(size=SIZE) as pilot:
        await open_k2k(pilot)
        await pilot.press("down", "down", "p")
        await until(pilot, lambda: k2k.store.get_app("orders-dr").spec["paused"] is True, "the pause")


async def test_d_deletes_after_confirmation(k2k, console):
    async with console().run_test(size=SIZE) as pilot:
        await open_k2k(pilot)
        await pilot.press("down", "d")
        await pilot.pause()
        await pilot.press("y")
        await until(pilot, lambda: "clickstream" not in table_keys(pilot), "the app gone from the list")
        assert k2k.store.get_app("clickstream") is None


async def test_read_only_hides_what_changes_apps(k2k, console):
    async with console(read_only=True).run_test(size=SIZE) as pilot:
        await open_k2k(pilot)
        await pilot.press("p", "d", "n")
        await pilot.pause()
        assert isinstance(pilot.app.screen, K2KAppsScreen)
        assert k2k.store.get_app("orders-dr").spec.get("paused") is False


# the detail


async def test_enter_opens_the_detail_with_partitions(k2k, console):
    async with console().run_test(size=SIZE) as pilot:
        await open_k2k(pilot)
        await pilot.press("down", "down", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, K2KDetailScreen)
                    and pilot.app.screen.query_one("#partitions", DataTable).row_count == 6,
                    "the detail with 2 topics x 3 partitions")
        partitions = pilot.app.screen.query_one("#partitions", DataTable)
        assert [c.plain if hasattr(c, "plain") else c for c in partitions.get_row_at(0)] == [
            "orders", "0", "100,000", "99,988", "99,988", "12"]



async def test_the_detail_of_a_kubernetes_app_lists_its_pods_and_deployments(k2k, console):
    status = k2k.store.get_app("orders-dr").status
    status["deployment"] = {"inSync": False, "pods": [
        {"name": "k2k-orders-dr-0-6f9c-x2", "namespace": "repl", "state": "running"}], "managedResources": [
        {"name": "k2k-orders-dr-0", "namespace": "repl", "kind": "Deployment", "status": "available"},
        {"name": "k2k-orders-dr-1", "namespace": "repl", "kind": "Deployment", "status": "not reporting",
         "reason": "no worker of this slot has reported yet"}]}
    k2k.store.update_app_status("orders-dr", status)
    async with console().run_test(size=SIZE) as pilot:
        await open_k2k(pilot)
        await pilot.press("down", "down", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, K2KDetailScreen)
                    and pilot.app.screen.query_one("#resources", DataTable).row_count == 2, "the Deployments")
        resources = pilot.app.screen.query_one("#resources", DataTable)
        assert resources.display
        assert [str(c) for c in resources.get_row_at(1)] == [
            "Deployment/k2k-orders-dr-1", "repl", "● not reporting", "no worker of this slot has reported yet"]
        assert str(pilot.app.screen.query_one("#pods", DataTable).get_row_at(0)[0]) == "k2k-orders-dr-0-6f9c-x2"


# the YAML editor


def test_line_of_finds_nested_fields_and_list_items():
    text = "metadata:\n  name: x\nspec:\n  topics:\n    - a\n    - b\n  sourceKafkaLRN: y\n"
    assert line_of(text, "spec.sourceKafkaLRN") == 6
    assert line_of(text, "spec.topics.1") == 5
    assert line_of(text, "metadata.name") == 1
    assert line_of(text, "spec.nothing") == 2  # the deepest part found


async def test_new_app_template_offers_the_connections_and_a_rejection_keeps_the_text(k2k, console):
    async with console().run_test(size=SIZE) as pilot:
        await open_k2k(pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(pilot.app.screen, K2KEditor)
                    and "environments:kafka-connection/dr-eu/main" in pilot.app.screen.query_one(TextArea).text,
                    "the template with the user's connections")
        editor = pilot.app.screen.query_one(TextArea)
        text = re.sub(r"targetKafkaLRN: \S+", "targetKafkaLRN: environments:kafka-connection/dr-eu/nope", editor.text)
        editor.load_text(text)
        await pilot.press("ctrl+s")
        errors = pilot.app.screen.query_one("#errors", Static)
        await until(pilot, lambda: "reference_not_found" in str(errors.render()) or "not found" in str(errors.render()),
                    "the server's error under the editor")
        line = line_of(text, "spec.targetKafkaLRN")
        assert f"line {line + 1}: spec.targetKafkaLRN" in str(errors.render())
        assert editor.text == text and editor.cursor_location[0] == line


async def test_saving_valid_yaml_creates_the_app(k2k, console):
    async with console().run_test(size=SIZE) as pilot:
        await open_k2k(pilot)
        await pilot.press("n")
        await until(pilot, lambda: "my-replication" in pilot.app.screen.query_one(TextArea).text, "the template")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "my-replication" in table_keys(pilot), "the new app in the list")
        assert k2k.store.get_app("my-replication").spec["targetKafkaLRN"].endswith("prod-eu/main")


async def test_editing_an_app_changed_meanwhile_is_refused_not_overwritten(k2k, console):
    async with console().run_test(size=SIZE) as pilot:
        await open_k2k(pilot)
        await pilot.press("down", "down", "e")
        await until(pilot, lambda: "orders-dr" in pilot.app.screen.query_one(TextArea).text, "the app's YAML")
        record = k2k.store.get_app("orders-dr")
        from dataclasses import replace
        k2k.store.replace_app(replace(record, generation=record.generation + 1,
                                      spec={**record.spec, "topics": ["orders"]}), record.generation)
        await pilot.press("ctrl+s")
        errors = pilot.app.screen.query_one("#errors", Static)
        await until(pilot, lambda: "generation" in str(errors.render()), "the conflict")
        assert k2k.store.get_app("orders-dr").spec["topics"] == ["orders"]


# the offsets editor


def test_offset_expressions():
    position = PartitionPosition(partition=0, committed=500, earliest=100, latest=1_000)
    assert resolve("earliest", position) == (100, None)
    assert resolve("latest", position) == (1_000, None)
    assert resolve("700", position) == (700, None)
    assert resolve("+20", position) == (520, None)
    assert resolve("-400", position) == (100, None)
    assert resolve("2026-11-23T07:00:00Z", position, at=640) == (640, None)
    assert resolve("-401", position)[1] == "outside 100 to 1,000"
    assert resolve("5000", position)[1] == "outside 100 to 1,000"
    assert resolve("yesterday", position)[0] is None


async def open_offsets(pilot, k2k_app) -> OffsetsEditor:
    app = await pilot.app.client.get_k2k("orders-dr")
    pilot.app.push_screen(OffsetsEditor(app, ["orders"], [positions()]))
    await until(pilot, lambda: isinstance(pilot.app.screen, OffsetsEditor) and len(pilot.app.screen.entries) == 3,
                "the offsets grid")
    await until(pilot, lambda: pilot.app.focused is pilot.app.screen.query_one(DataTable), "the grid focused")
    return pilot.app.screen


async def test_offsets_expression_applies_to_the_selected_partitions(k2k, console):
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        screen = await open_offsets(pilot, k2k)
        await pilot.press("space", "space")  # partitions 0 and 1
        await pilot.press(*"earliest", "enter")
        entries = list(screen.entries.values())
        assert [e.new for e in entries] == [0, 1_000, None]
        await pilot.press(*"-5", "enter")  # the selection was used up: the row under the cursor
        assert [e.new for e in entries] == [0, 1_000, 89_997]
        assert screen.diff()[2] == "orders[2]  90,002 → 89,997"


async def test_an_invalid_entry_is_marked_and_blocks_the_apply(k2k, console):
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        screen = await open_offsets(pilot, k2k)
        await pilot.press(*"999999", "enter")
        entry = next(iter(screen.entries.values()))
        assert entry.error == "outside 0 to 100,000"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(pilot.app.screen, OffsetsEditor)  # no confirmation: nothing can be sent


async def test_apply_shows_the_diff_and_pausing_first(k2k, console):
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        screen = await open_offsets(pilot, k2k)
        await pilot.press("a", *"latest", "enter", "ctrl+s")
        await until(pilot, lambda: pilot.app.screen is not screen, "the confirmation")
        shown = " ".join(str(w.render()) for w in pilot.app.screen.query(Static))
        assert "orders[0]  90,000 → 100,000" in shown and "will be paused" in shown


# what they look like


def run_to(keys: tuple[str, ...], ready):
    async def steps(pilot) -> None:
        await open_k2k(pilot)
        await pilot.press(*keys)
        await until(pilot, lambda: ready(pilot), "the screen")
        await settle(pilot)

    return steps


def test_k2k_apps_snapshot(k2k, console, snap_compare):
    assert snap_compare(console(), terminal_size=SIZE, run_before=run_to((), lambda p: True))


def test_k2k_detail_snapshot(k2k, console, snap_compare):
    ready = run_to(("down", "down", "enter"), lambda p: isinstance(p.app.screen, K2KDetailScreen)
                   and p.app.screen.query_one("#partitions", DataTable).row_count == 6)
    assert snap_compare(console(), terminal_size=SIZE, run_before=ready)


def test_k2k_editor_with_error_snapshot(k2k, console, snap_compare):
    async def steps(pilot) -> None:
        await open_k2k(pilot)
        await pilot.press("n")
        await until(pilot, lambda: "my-replication" in pilot.app.screen.query_one(TextArea).text, "the template")
        editor = pilot.app.screen.query_one(TextArea)
        editor.load_text(editor.text.replace("name: my-replication", "name: My_Replication"))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "invalid_format" in str(pilot.app.screen.query_one("#errors").render())
                    or "metadata.name" in str(pilot.app.screen.query_one("#errors").render()), "the error")
        await settle(pilot)

    assert snap_compare(console(), terminal_size=SIZE, run_before=steps)


def test_offsets_editor_snapshot(k2k, console, snap_compare):
    async def steps(pilot) -> None:
        await live(pilot)
        await open_offsets(pilot, k2k)
        await pilot.press("space", *"earliest", "enter", "down", *"12", "enter")
        await settle(pilot)

    assert snap_compare(console(), terminal_size=SIZE, run_before=steps)


def test_offsets_diff_snapshot(k2k, console, snap_compare):
    async def steps(pilot) -> None:
        await live(pilot)
        await open_offsets(pilot, k2k)
        await pilot.press("a", *"-100", "enter", "ctrl+s")
        await settle(pilot)

    assert snap_compare(console(), terminal_size=SIZE, run_before=steps)



async def test_environment_detail_lists_the_apps_that_touch_it(k2k, console):
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        await until(pilot, lambda: "dr-eu" in table_keys(pilot), "the environments")
        await pilot.press("enter")  # dr-eu: the target of every app
        await until(pilot, lambda: "orders-dr" in str(pilot.app.screen.query_one("#k2k-apps", Static).render()),
                    "the K2K apps section")
        section = str(pilot.app.screen.query_one("#k2k-apps", Static).render())
        assert "prod-eu → dr-eu  writes here" in section


async def test_escape_from_a_changed_editor_asks_before_discarding(k2k, console):
    async with console().run_test(size=SIZE) as pilot:
        await open_k2k(pilot)
        await pilot.press("n")
        await until(pilot, lambda: "my-replication" in pilot.app.screen.query_one(TextArea).text, "the template")
        editor_screen = pilot.app.screen
        editor_screen.query_one(TextArea).insert("# a note\n")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("n")  # no: keep editing
        await until(pilot, lambda: pilot.app.screen is editor_screen, "the editor, text kept")
        assert editor_screen.query_one(TextArea).text.startswith("# a note")
