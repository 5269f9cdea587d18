"""The connector editor and offsets grid against a real HQ, in what needs no Connect worker: the
text's own refusals marked at their lines, nothing typed lost, secrets drawn as dots, JSON ⇄
YAML, leaving asks first; offset expressions. What the worker says (validation, create, update,
offsets) is tested on the sandbox's Connect in tests/kafka/test_console_connect.py."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from backend.connect.models import OffsetEntry
from console.connector_text import parse
from console.screens.confirm import ConfirmDialog
from console.screens.connector_editor import ConnectorEditor, open_editor
from console.screens.connector_offsets import UNSET, AddPartition, Entry, resolve
from console.widgets.config_area import MASK_CHAR, ConfigArea
from tests.console.conftest import SIZE, seed_environment
from tests.console.helpers import until


@pytest.fixture
def bare(hq):
    seed_environment(hq.store, "dev-local")  # no Connect cluster registered
    return hq


async def open_bare_editor(pilot) -> ConnectorEditor:
    open_editor(pilot.app, "dev-local")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConnectorEditor)
                and "no Connect cluster" in pilot.app.screen.problems_shown, "the editor")
    return pilot.app.screen


async def test_a_new_connector_needs_a_connect_cluster_on_the_environment(bare, console):
    async with console().run_test(size=SIZE) as pilot:
        editor = await open_bare_editor(pilot)
        assert "register one in its detail first" in editor.problems_shown


@pytest.mark.parametrize(("text", "line", "message"), [
    ("name: files-in\ntopic: lines\ntopic: again\n", 2, "The key 'topic' appears more than once."),
    ("name: files-in\ntransforms:\n  - route\n", 1, "a value is one string"),
    ('{\n  "name": "files-in",\n  "topic" "lines"\n}\n', 2, "Expecting ':' delimiter"),
    ("topic: lines\nfile: /tmp/x\n", 0, "A connector needs a name."),
])
async def test_the_texts_own_refusals_are_marked_at_their_line_and_the_text_is_kept(bare, console, text, line,
                                                                                    message):
    async with console().run_test(size=SIZE) as pilot:
        editor = await open_bare_editor(pilot)
        area = editor.query_one(ConfigArea)
        area.load_text(text)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: line in area.marks, "the mark at its line")
        assert message in area.marks[line]
        assert area.cursor_location == (line, 0)
        assert area.text == text
        assert f"line {line + 1}: " in editor.problems_shown


async def test_a_mark_follows_its_key_as_lines_are_added_above(bare, console):
    async with console().run_test(size=SIZE) as pilot:
        editor = await open_bare_editor(pilot)
        area = editor.query_one(ConfigArea)
        area.load_text("name: a\ntransforms:\n  - route\n")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: 1 in area.marks, "the mark")
        area.move_cursor((0, 0))
        area.insert("# a note\n# and another\n")
        await until(pilot, lambda: list(area.marks) == [3], "the mark moved with its key")


async def test_secret_values_are_drawn_as_dots(bare, console):
    async with console().run_test(size=SIZE) as pilot:
        editor = await open_bare_editor(pilot)
        area = editor.query_one(ConfigArea)
        area.mask(frozenset({"db.password"}))
        area.load_text("name: a\ndb.password: hunter2-s3cr3t\n")
        await until(pilot, lambda: area.masked_lines() == [1], "the secret found")
        drawn = area.render_line(1).text
        assert "hunter2" not in drawn and MASK_CHAR * len("hunter2-s3cr3t") in drawn
        assert area.text.endswith("hunter2-s3cr3t\n")  # only the drawing is masked


async def test_ctrl_t_switches_between_yaml_and_json_keeping_the_configuration(bare, console):
    async with console().run_test(size=SIZE) as pilot:
        editor = await open_bare_editor(pilot)
        area = editor.query_one(ConfigArea)
        area.load_text("name: files-in\ntasks.max: 1\nfile: /tmp/in.txt\n")
        area.focus()
        await pilot.press("ctrl+t")
        await until(pilot, lambda: area.text.startswith("{"), "JSON")
        assert parse(area.text).config == {"name": "files-in", "tasks.max": "1", "file": "/tmp/in.txt"}
        await pilot.press("ctrl+t")
        await until(pilot, lambda: area.text.startswith("name:"), "YAML again")


async def test_escape_with_changes_asks_before_discarding(bare, console):
    async with console().run_test(size=SIZE) as pilot:
        editor = await open_bare_editor(pilot)
        editor.query_one(ConfigArea).insert("name: typed\n")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), "the question")
        await pilot.press("n")
        await until(pilot, lambda: pilot.app.screen is editor, "the editor, text kept")
        assert "name: typed" in editor.query_one(ConfigArea).text


# offset expressions

SINK = {"kafka_topic": "orders", "kafka_partition": 2}
SOURCE = {"filename": "/tmp/in.txt"}


def test_sink_offsets_take_a_number_or_a_step():
    assert resolve("12", SINK, {"kafka_offset": 40}) == ({"kafka_offset": 12}, None)
    assert resolve("+5", SINK, {"kafka_offset": 40}) == ({"kafka_offset": 45}, None)
    assert resolve("-41", SINK, {"kafka_offset": 40}) == (UNSET, "below 0")
    assert resolve('{"x": 1}', SINK, {"kafka_offset": 40})[1] == "not an offset, +N or -N"


def test_source_offsets_take_json_null_or_a_number_for_a_one_number_offset():
    assert resolve('{"position": 0}', SOURCE, {"position": 120}) == ({"position": 0}, None)
    assert resolve("null", SOURCE, {"position": 120}) == (None, None)
    assert resolve("0", SOURCE, {"position": 120}) == ({"position": 0}, None)
    assert resolve("-20", SOURCE, {"position": 120}) == ({"position": 100}, None)
    assert resolve("7", SOURCE, {"position": 1, "line": 2})[1] == "a source offset is a JSON object (or null)"
    assert resolve("{nope", SOURCE, None)[0] is UNSET


def test_entries_are_keyed_by_partition_and_sent_as_the_api_takes_them():
    entry = Entry(SINK, {"kafka_offset": 40})
    assert entry.where == "orders[2]" and not entry.changed
    entry.new = {"kafka_offset": 0}
    assert entry.changed
    assert OffsetEntry(partition=entry.partition, offset=entry.new).model_dump() == {
        "partition": SINK, "offset": {"kafka_offset": 0}}
    assert Entry(SOURCE, {"position": 3}).key == '{"filename": "/tmp/in.txt"}'


async def test_a_partition_is_added_with_its_offset_and_refused_at_its_field(bare, console):
    answers = []
    async with console().run_test(size=SIZE) as pilot:
        dialog = AddPartition(sink=False, known={'{"filename": "/data/a.txt"}'})
        pilot.app.push_screen(dialog, answers.append)
        await until(pilot, lambda: pilot.app.screen is dialog and dialog.query("#partition"), "the dialog")
        dialog.query_one("#partition", Input).value = '{"filename": "/data/a.txt"}'
        dialog.query_one("#offset", Input).value = "12"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: dialog.query_one("#error-partition", Static).display, "the partition refused")
        assert "Already in the grid" in str(dialog.query_one("#error-partition", Static).render())
        dialog.query_one("#partition", Input).value = '{"filename": "/data/b.txt"}'
        await pilot.press("ctrl+s")
        await until(pilot, lambda: dialog.query_one("#error-offset", Static).display, "the offset refused")
        assert "JSON object" in str(dialog.query_one("#error-offset", Static).render())
        dialog.query_one("#offset", Input).value = '{"position": 12}'
        await pilot.press("ctrl+s")
        await until(pilot, lambda: answers, "the dialog answered")
    assert answers == [({"filename": "/data/b.txt"}, {"position": 12})]
