"""The environment detail screen: Kafka connections added, edited and deleted from the keyboard."""

from __future__ import annotations

from textual.widgets import Input, Select, Static

from backend.environments.models import KafkaConnectionSpec
from console.screens.connection_form import ConnectionForm
from console.screens.environment_detail import EnvironmentDetailScreen
from tests.console.conftest import SIZE, seed_fleet
from tests.console.helpers import live, table_keys, until


async def open_prod(pilot) -> EnvironmentDetailScreen:
    await live(pilot)
    await pilot.press("down", "enter")
    screen = pilot.app.screen
    assert isinstance(screen, EnvironmentDetailScreen)
    return screen


async def test_a_adds_a_scram_connection_with_a_write_only_password(hq, console):
    seed_fleet(hq.store)
    async with console().run_test(size=SIZE) as pilot:
        detail = await open_prod(pilot)
        await pilot.press("a", *"main", "tab", *"broker-1:9092, broker-2:9092")
        form = pilot.app.screen
        assert isinstance(form, ConnectionForm)
        form.query_one("#auth", Select).value = "sasl_scram"
        await pilot.pause()
        assert form.query_one("#username", Input).display
        form.query_one("#username", Input).value = "replicator"
        form.query_one("#password", Input).value = "s3cret"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "main" in table_keys(pilot), "the new connection")
        assert str(detail.table.get_cell("main", "auth")) == "sasl_scram · replicator · SCRAM-SHA-512"
    stored = hq.store.get_resource("prod-eu", "kafka-connection", "main")
    assert stored.spec["auth"]["sasl_scram"]["password"] == "s3cret"


async def test_editing_keeps_the_stored_password_when_left_masked(hq, console):
    seed_fleet(hq.store)
    client = hq.client()
    spec = KafkaConnectionSpec.model_validate(
        {"override_broker_addresses": ["b:9092"], "auth": {"sasl_plain": {"username": "u", "password": "pw"}}})
    await client.put_connection("prod-eu", "main", spec)
    await client.aclose()
    async with console().run_test(size=SIZE) as pilot:
        await open_prod(pilot)
        await until(pilot, lambda: "main" in table_keys(pilot), "the connection")
        await pilot.press("e")
        form = pilot.app.screen
        assert form.query_one("#password", Input).value == "***"
        form.query_one("#override_broker_addresses", Input).value = "b:9093"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(pilot.app.screen, EnvironmentDetailScreen), "the form closed")
    stored = hq.store.get_resource("prod-eu", "kafka-connection", "main").spec
    assert stored["override_broker_addresses"] == ["b:9093"]
    assert stored["auth"]["sasl_plain"]["password"] == "pw"


async def test_a_bad_broker_address_is_shown_at_the_brokers_field(hq, console):
    seed_fleet(hq.store)
    async with console().run_test(size=SIZE) as pilot:
        await open_prod(pilot)
        await pilot.press("a", *"main", "tab", *"no-port-here", "enter")
        form = pilot.app.screen
        error = form.query_one("#error-override_broker_addresses", Static)
        await until(pilot, lambda: error.display, "the broker error")
        assert "host:port" in str(error.render())
    assert hq.store.get_resource("prod-eu", "kafka-connection", "main") is None


async def test_d_deletes_a_connection_after_confirmation(hq, console):
    seed_fleet(hq.store)
    client = hq.client()
    await client.put_connection("prod-eu", "main", KafkaConnectionSpec(override_broker_addresses=["b:9092"]))
    await client.aclose()
    async with console().run_test(size=SIZE) as pilot:
        await open_prod(pilot)
        await until(pilot, lambda: "main" in table_keys(pilot), "the connection")
        await pilot.press("d", "y")
        await until(pilot, lambda: "main" not in table_keys(pilot), "the connection gone")
    assert hq.store.get_resource("prod-eu", "kafka-connection", "main") is None


async def test_the_detail_follows_the_environment_and_leaves_when_it_is_deleted(hq, console):
    seed_fleet(hq.store)
    async with console().run_test(size=SIZE) as pilot:
        detail = await open_prod(pilot)
        client = hq.client()
        await client.delete_environment("prod-eu")
        await client.aclose()
        await until(pilot, lambda: pilot.app.screen is not detail, "the detail closed")
        await until(pilot, lambda: "prod-eu" not in table_keys(pilot), "the row gone from the list")
