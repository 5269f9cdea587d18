"""What each screen and dialog looks like, at a fixed terminal size, against a real HQ with
fixed data. `make screenshots` copies the main ones into screenshots/ for the README."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from backend.environments.models import KafkaConnectionSpec
from console.config import ConsoleConfig
from console.screens.agent_key import AgentKeyDialog
from tests.console.conftest import SIZE, seed_fleet
from tests.console.helpers import live, table_keys, until

EXAMPLE_KEY = "shq_agent_3xAmPlE-kEy-0nLy-sHoWn-0nCe-q9Zt7LmR2vWc8dYf"


@pytest.fixture
def fleet(hq):
    seed_fleet(hq.store)
    return hq


@pytest.fixture
def fleet_with_connections(fleet):
    import asyncio

    async def add() -> None:
        client = fleet.client()
        await client.put_connection("prod-eu", "main", KafkaConnectionSpec.model_validate({
            "override_broker_addresses": ["kafka-1.prod.eu:9093", "kafka-2.prod.eu:9093"],
            "auth": {"sasl_scram": {"mechanism": "SCRAM-SHA-512", "username": "streamhq", "password": "x"}}}))
        await client.put_connection("prod-eu", "dr-site", KafkaConnectionSpec.model_validate({
            "override_broker_addresses": ["kafka.dr.eu:9094"], "auth": {"tls": {"ca_pem": "PEM"}}}))
        await client.aclose()

    asyncio.run(add())
    return fleet


def test_environments(fleet, console, snap_compare):
    assert snap_compare(console(), terminal_size=SIZE, run_before=live)


def test_environments_wide(fleet, console, snap_compare):
    assert snap_compare(console(), terminal_size=(160, 45), run_before=live)


def test_environments_filtered(fleet, console, snap_compare):
    async def filtered(pilot):
        await live(pilot)
        await pilot.press("slash", *"eu")

    assert snap_compare(console(), terminal_size=SIZE, run_before=filtered)


def test_environments_production_in_focus(fleet, console, snap_compare):
    async def focus_production(pilot):
        await live(pilot)
        await pilot.press("down")

    assert snap_compare(console(), terminal_size=SIZE, run_before=focus_production)


def test_environments_read_only(fleet, console, snap_compare):
    assert snap_compare(console(read_only=True), terminal_size=SIZE, run_before=live)


@pytest.mark.parametrize("theme", ["streamhq-light", "streamhq-ansi"])
def test_environments_in_theme(fleet, console, snap_compare, theme, tmp_path):
    config = ConsoleConfig(theme=theme, path=tmp_path / "config.yaml")
    assert snap_compare(console(config), terminal_size=SIZE, run_before=live)


def test_empty(hq, console, snap_compare):
    assert snap_compare(console(), terminal_size=SIZE, run_before=live)


def test_environment_detail(fleet_with_connections, console, snap_compare):
    async def open_prod(pilot):
        await live(pilot)
        await pilot.press("down", "enter")
        await until(pilot, lambda: "main" in table_keys(pilot), "the connections")

    assert snap_compare(console(), terminal_size=SIZE, run_before=open_prod)


def test_new_environment_form_with_server_error(fleet, console, snap_compare):
    async def duplicate(pilot):
        await live(pilot)
        await pilot.press("n", *"prod-eu", "enter")
        await until(pilot, lambda: pilot.app.screen.query_one("#form-error").display, "the error")

    assert snap_compare(console(), terminal_size=SIZE, run_before=duplicate)


def test_new_environment_form_with_field_error(fleet, console, snap_compare):
    async def bad_name(pilot):
        await live(pilot)
        await pilot.press("n", *"-Bad", "enter")

    assert snap_compare(console(), terminal_size=SIZE, run_before=bad_name)


def test_connection_form(fleet_with_connections, console, snap_compare):
    async def edit_main(pilot):
        await live(pilot)
        await pilot.press("down", "enter")
        await until(pilot, lambda: "main" in table_keys(pilot), "the connections")
        await pilot.press("down", "e")

    assert snap_compare(console(), terminal_size=SIZE, run_before=edit_main)


def test_delete_production_confirmation(fleet, console, snap_compare):
    async def delete_prod(pilot):
        await live(pilot)
        await pilot.press("down", "d")
        pilot.app.screen.query_one(Input).value = "prod"

    assert snap_compare(console(), terminal_size=SIZE, run_before=delete_prod)


def test_agent_key_dialog(fleet, console, snap_compare):
    async def show_key(pilot):
        await live(pilot)
        await pilot.app.push_screen(AgentKeyDialog("prod-eu", EXAMPLE_KEY))

    assert snap_compare(console(), terminal_size=SIZE, run_before=show_key)


def test_help(fleet, console, snap_compare):
    async def help_screen(pilot):
        await live(pilot)
        await pilot.press("question_mark")

    assert snap_compare(console(), terminal_size=SIZE, run_before=help_screen)


def test_command_line(fleet, console, snap_compare):
    async def command(pilot):
        await live(pilot)
        await pilot.press("colon", *"k8s", "enter", *"en")

    assert snap_compare(console(), terminal_size=SIZE, run_before=command)
