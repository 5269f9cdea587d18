"""The home screen, driven from the keyboard against a real HQ."""

from __future__ import annotations

from textual.widgets import Input, Static

from backend.environments.models import EnvironmentCreate, EnvironmentPatch
from console.screens.agent_key import AgentKeyDialog
from console.screens.confirm import ConfirmDialog
from console.screens.environment_detail import EnvironmentDetailScreen
from console.screens.environment_form import EnvironmentForm
from tests.console.conftest import SIZE, seed_fleet
from tests.console.helpers import live, table_keys, until


async def test_lists_environments_with_their_agent_figures(hq, console):
    seed_fleet(hq.store)
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        assert table_keys(pilot) == ["dev-local", "prod-eu", "staging-eu"]
        table = pilot.app.screen.table
        assert str(table.get_cell("prod-eu", "kafka")) == "4.3.1"
        assert str(table.get_cell("prod-eu", "in")) == "5.2 MB/s"
        assert str(table.get_cell("dev-local", "agent")) == "○ no agent"


async def test_n_creates_an_environment_and_shows_its_agent_key_once(hq, console):
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        await pilot.press("n")
        assert isinstance(pilot.app.screen, EnvironmentForm)
        assert pilot.app.focused.id == "name"
        await pilot.press(*"payments-prod", "tab", *"Payments", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, AgentKeyDialog), "the agent key dialog")
        key = pilot.app.screen.agent_key
        assert key.startswith("shq_agent_")
        await until(pilot, lambda: "payments-prod" in table_keys(pilot), "the new row, from the live feed")
        await pilot.press("escape")
    assert hq.store.get_environment("payments-prod").display_name == "Payments"


async def test_an_invalid_name_is_refused_before_anything_is_sent(hq, console):
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        await pilot.press("n", *"Bad_Name", "enter")
        error = pilot.app.screen.query_one("#error-name", Static)
        assert "lowercase" in str(error.render())
        assert isinstance(pilot.app.screen, EnvironmentForm)
    assert hq.store.list_environments() == []


async def test_a_server_error_is_shown_at_the_field_and_the_input_is_kept(hq, console):
    seed_fleet(hq.store)
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        await pilot.press("n", *"prod-eu", "tab", *"Again", "enter")
        form = pilot.app.screen
        await until(pilot, lambda: form.query_one("#form-error", Static).display, "the server's error")
        assert "already exists" in str(form.query_one("#form-error", Static).render())
        assert form.query_one("#display_name", Input).value == "Again"
        # a metadata key longer than the API allows is named metadata.<key>, and shown at metadata
        await pilot.press("escape", "n", *"fresh")
        form = pilot.app.screen
        form.query_one("#metadata", Input).value = "k" * 300 + "=v"
        await pilot.press("enter")
        await until(pilot, lambda: form.query_one("#error-metadata", Static).display, "the metadata error")
        assert "253" in str(form.query_one("#error-metadata", Static).render())


async def test_e_edits_the_selected_environment(hq, console):
    seed_fleet(hq.store)
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        await pilot.press("down", "e")
        form = pilot.app.screen
        assert isinstance(form, EnvironmentForm) and form.existing.name == "prod-eu"
        form.query_one("#display_name", Input).value = "Production (EU)"
        form.query_one("#metadata", Input).value = "team=payments"
        await pilot.press("enter")
        await until(pilot, lambda: str(pilot.app.screen.table.get_cell("prod-eu", "display_name")) == "Production (EU)",
                    "the edited display name")
    assert hq.store.get_environment("prod-eu").metadata == {"team": "payments"}


async def test_live_updates_keep_cursor_sort_and_filter(hq, console):
    seed_fleet(hq.store)
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        await pilot.press("slash", *"eu", "enter")
        assert table_keys(pilot) == ["prod-eu", "staging-eu"]
        await pilot.press("down")
        assert pilot.app.screen.table.selected_key == "staging-eu"
        client = hq.client()
        await client.patch_environment("staging-eu", EnvironmentPatch(display_name="Staging EU (moved)"))
        await client.create_environment(EnvironmentCreate(name="a-eu-first"))
        await client.create_environment(EnvironmentCreate(name="not-matching"))
        await until(pilot, lambda: "a-eu-first" in table_keys(pilot), "the created row")
        table = pilot.app.screen.table
        await until(pilot, lambda: str(table.get_cell("staging-eu", "display_name")) == "Staging EU (moved)",
                    "the patched cell")
        assert table_keys(pilot) == ["a-eu-first", "prod-eu", "staging-eu"], "the filter still applies"
        assert table.selected_key == "staging-eu", "the cursor stays on its row"
        await client.aclose()


async def test_a_live_change_that_moves_a_row_under_a_sort_reorders_it_and_keeps_the_cursor(hq, console):
    seed_fleet(hq.store)
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        await pilot.press("s", "s")  # by display name: Developer laptop, Production EU, Staging EU
        await pilot.press("down")
        table = pilot.app.screen.table
        assert table.selected_key == "prod-eu"
        client = hq.client()
        await client.patch_environment("staging-eu", EnvironmentPatch(display_name="Alpha staging"))
        await until(pilot, lambda: table_keys(pilot) == ["staging-eu", "dev-local", "prod-eu"], "the moved row")
        await pilot.pause()
        assert [row.key.value for row in table.ordered_rows] == ["staging-eu", "dev-local", "prod-eu"]
        assert str(table.get_row_at(0)[1]) == "Alpha staging"
        assert table.selected_key == "prod-eu", "the cursor follows its row"
        assert table.cursor_row == 2
        await client.aclose()


async def test_sort_cycles_columns_and_reverses(hq, console):
    seed_fleet(hq.store)
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        await pilot.press("s", "s", "s")  # name, display name, tier
        assert table_keys(pilot) == ["dev-local", "prod-eu", "staging-eu"]
        await pilot.press("S")
        assert table_keys(pilot) == ["staging-eu", "prod-eu", "dev-local"]


async def test_d_deletes_after_confirmation_and_production_needs_the_name_typed(hq, console):
    seed_fleet(hq.store)
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        await pilot.press("d")  # dev-local: y confirms
        assert isinstance(pilot.app.screen, ConfirmDialog)
        await pilot.press("n")
        assert hq.store.get_environment("dev-local") is not None
        await pilot.press("d", "y")
        await until(pilot, lambda: "dev-local" not in table_keys(pilot), "the row gone")
        await pilot.press("home", "d")  # prod-eu: production, so y is not enough
        assert pilot.app.screen.type_to_confirm == "prod-eu"
        await pilot.press("y", "enter")
        assert hq.store.get_environment("prod-eu") is not None
        pilot.app.screen.query_one(Input).value = "prod-eu"
        await pilot.press("enter")
        await until(pilot, lambda: "prod-eu" not in table_keys(pilot), "the production row gone")


async def test_r_renews_the_agent_key_after_confirmation(hq, console):
    seed_fleet(hq.store)
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        await pilot.press("r", "y")
        await until(pilot, lambda: isinstance(pilot.app.screen, AgentKeyDialog), "the new key")
        assert hq.store.environment_for_agent_key("hash-of-dev-local") is None, "the old key stops working"


async def test_enter_opens_the_detail_and_escape_goes_back(hq, console):
    seed_fleet(hq.store)
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        await pilot.press("down", "enter")
        assert isinstance(pilot.app.screen, EnvironmentDetailScreen)
        assert pilot.app.focus_tier == "production"
        await pilot.press("escape")
        assert table_keys(pilot) == ["dev-local", "prod-eu", "staging-eu"]


async def test_read_only_hides_and_refuses_every_mutating_action(hq, console):
    seed_fleet(hq.store)
    async with console(read_only=True).run_test(size=SIZE) as pilot:
        await live(pilot)
        shown = {b.binding.action for b in pilot.app.screen.active_bindings.values() if b.enabled}
        assert not shown & {"new", "edit", "delete", "renew_key"}
        await pilot.press("n", "e", "d", "r")
        assert pilot.app.screen.name == "environments"
        await pilot.press("enter")
        assert not {b.binding.action for b in pilot.app.screen.active_bindings.values() if b.enabled} & {
            "new_connection", "edit_connection", "delete_connection", "renew_key"}


async def test_names_are_shown_as_typed_never_as_markup(hq, console):
    client = hq.client()
    await client.create_environment(EnvironmentCreate(name="odd", display_name="oops [/] closing [red]x[/red]"))
    await client.aclose()
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        cell = pilot.app.screen.table.get_cell("odd", "display_name")
        assert cell.plain == "oops [/] closing [red]x[/red]"


async def test_a_status_arriving_live_widens_its_columns(hq, console):
    from tests.console.conftest import AGENT_REPORT

    seed_fleet(hq.store)
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        hq.store.update_environment("dev-local", status=AGENT_REPORT)  # as the agent writes it
        table = pilot.app.screen.table
        await until(pilot, lambda: table.get_cell("dev-local", "agent").plain == "● connected", "the agent's report")
        await pilot.pause()
        assert table.columns["out"].get_render_width(table) >= len("15.9 MB/s")
