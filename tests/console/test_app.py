"""App-wide behaviour: the feed's state when HQ goes away, commands, help, themes, keymap."""

from __future__ import annotations

import yaml

from backend.environments.models import EnvironmentCreate
from console.config import ConsoleConfig
from console.screens.command_line import CommandLine
from console.screens.environment_form import EnvironmentForm
from console.screens.help import HelpScreen
from tests.console.conftest import SIZE, seed_fleet
from tests.console.helpers import live, table_keys, until


async def test_the_console_says_when_hq_goes_away_and_recovers_when_it_returns(hq, console):
    seed_fleet(hq.store)
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        hq.stop()
        await until(pilot, lambda: pilot.app.feed_state in ("reconnecting", "offline"), "the feed reconnecting")
        await pilot.press("n", *"while-away", "enter")  # a write while away: an error in the form, no crash
        form = pilot.app.screen
        await until(pilot, lambda: form.query_one("#form-error").display, "the unreachable error")
        assert "unreachable" in str(form.query_one("#form-error").render())
        await pilot.press("escape")
        hq.restart()
        client = hq.client()
        await client.create_environment(EnvironmentCreate(name="made-while-away"))
        await client.aclose()
        await until(pilot, lambda: pilot.app.feed_state == "live", "the feed live again", tries=600)
        await until(pilot, lambda: "made-while-away" in table_keys(pilot), "what changed while away")


async def test_colon_runs_commands_and_shows_errors_where_typed(hq, console):
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        await pilot.press("colon", *"nonsense", "enter")
        line = pilot.app.screen
        assert isinstance(line, CommandLine)
        assert "Unknown command" in str(line.query_one("#command-error").render())
        await pilot.press("escape", "colon", *"theme streamhq-light", "enter")
        assert pilot.app.theme == "streamhq-light"
        await pilot.press("colon", *"q", "enter")
    assert pilot.app.return_code == 0


async def test_the_theme_choice_is_remembered(hq, console, tmp_path):
    path = tmp_path / "config.yaml"
    async with console(ConsoleConfig(path=path)).run_test(size=SIZE) as pilot:
        await live(pilot)
        pilot.app.theme = "streamhq-ansi"
        await pilot.pause()
    assert yaml.safe_load(path.read_text())["theme"] == "streamhq-ansi"
    async with console(ConsoleConfig.load(path)).run_test(size=SIZE) as pilot:
        assert pilot.app.theme == "streamhq-ansi"


async def test_user_themes_are_loaded_and_broken_ones_reported(hq, console, tmp_path):
    themes = tmp_path / "config" / "themes"
    themes.mkdir(parents=True)
    (themes / "night-shift.yaml").write_text("name: night-shift\nprimary: '#ff8800'\ndark: true\n")
    (themes / "broken.yaml").write_text("primary: '#ff8800'\nsparkle: true\n")
    async with console().run_test(size=SIZE) as pilot:
        assert "night-shift" in pilot.app.available_themes
        assert any("sparkle" in notice for notice in pilot.app.notices)


async def test_keys_are_rebindable_by_binding_id(hq, console, tmp_path):
    config = ConsoleConfig(keymap={"environments.new": "ctrl+n"}, path=tmp_path / "config.yaml")
    async with console(config).run_test(size=SIZE) as pilot:
        await live(pilot)
        await pilot.press("n")
        assert not isinstance(pilot.app.screen, EnvironmentForm)
        await pilot.press("ctrl+n")
        assert isinstance(pilot.app.screen, EnvironmentForm)


async def test_question_mark_lists_every_key_of_the_screen_with_its_id(hq, console):
    seed_fleet(hq.store)
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        await pilot.press("question_mark")
        assert isinstance(pilot.app.screen, HelpScreen)
        ids = {row[2] for row in pilot.app.screen.rows}
        assert {"environments.new", "environments.delete", "table.filter", "table.sort", "app.quit"} <= ids
        await pilot.press("escape")
        assert pilot.app.screen.name == "environments"


async def test_y_copies_the_selected_name(hq, console):
    seed_fleet(hq.store)
    async with console().run_test(size=SIZE) as pilot:
        await live(pilot)
        await pilot.press("y")
        assert pilot.app.clipboard == "dev-local"
