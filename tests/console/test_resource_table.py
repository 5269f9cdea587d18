"""ResourceTable on its own: live passes that reorder rows under a sort and a filter."""

from __future__ import annotations

from textual.app import App, ComposeResult

from console.widgets.resource_table import Column, ResourceTable
from tests.console.helpers import until


class TableApp(App):
    def compose(self) -> ComposeResult:
        yield ResourceTable([Column("name", "NAME"), Column("display", "DISPLAY")])


async def test_one_pass_that_moves_a_shown_row_and_changes_a_filtered_out_one():
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(ResourceTable)
        table.replace_all([("a-eu", ("a-eu", "Bravo")), ("b-eu", ("b-eu", "Charlie")), ("c-us", ("c-us", "Delta"))])
        table.set_filter("eu")
        table.action_cycle_sort()
        table.action_cycle_sort()  # by DISPLAY
        await pilot.pause()
        table.move_cursor(row=0)
        assert table.visible_keys == ["a-eu", "b-eu"]

        table.upsert("b-eu", ("b-eu", "Alpha"))  # moves to the top
        table.upsert("c-us", ("c-us", "Echo"))  # filtered out, changed in the same pass
        await until(pilot, lambda: table.visible_keys == ["b-eu", "a-eu"], "the coalesced pass")

        assert [row.key.value for row in table.ordered_rows] == ["b-eu", "a-eu"]
        assert str(table.get_row_at(0)[1]) == "Alpha"
        assert table.selected_key == "a-eu", "the cursor follows its row"
