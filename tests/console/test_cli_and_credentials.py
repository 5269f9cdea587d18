"""The console's way in: the embedded HQ it starts, and where it finds a remote HQ's token."""

from __future__ import annotations

import asyncio
import stat

import httpx
import pytest

from backend.settings import Settings
from console.cli import EmbeddedHQ, start_embedded
from console.client import Unreachable, credentials
from console.client.credentials import NoToken, find_token, store_token


async def test_the_embedded_hq_listens_on_a_private_socket_and_wants_its_session_token(tmp_path):
    server, client = start_embedded(tmp_path)
    try:
        socket = tmp_path / "hq.sock"
        assert stat.S_IMODE(socket.stat().st_mode) == 0o600
        environments, _ = await client.list_environments()
        assert environments == []
        stranger = httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=str(socket)), base_url="http://hq")
        assert (await stranger.get("/v1/environments")).status_code == 401
        await stranger.aclose()
    finally:
        await client.aclose()
        server.stop()


async def test_requests_sent_before_the_embedded_hq_starts_are_answered_once_it_does(tmp_path):
    embedded = EmbeddedHQ(tmp_path)  # the socket listens; no server yet, as before the first frame
    try:
        # Sent as the server starts: it connects at once (the backlog) and waits for the answer.
        listing = asyncio.create_task(embedded.client.list_environments())
        embedded.start_in_background()
        environments, _ = await listing
        assert environments == []
        assert embedded.failure is None
    finally:
        await embedded.client.aclose()
        embedded.stop()


async def test_an_embedded_hq_that_cannot_start_makes_the_console_unreachable_not_wait(tmp_path):
    Settings(home=tmp_path).database.mkdir(parents=True)  # a directory where the database file goes
    embedded = EmbeddedHQ(tmp_path)
    try:
        embedded.start_in_background()
        with pytest.raises(Unreachable):
            await embedded.client.list_environments()
    finally:
        await embedded.client.aclose()
        embedded.stop()
    assert embedded.failure is not None


@pytest.fixture
def no_keyring(monkeypatch, tmp_path):
    """A bare SSH host: no keyring backend, a config dir of its own, no token in the environment."""
    monkeypatch.setenv("STREAMHQ_CONFIG_DIR", str(tmp_path))
    monkeypatch.delenv("STREAMHQ_TOKEN", raising=False)
    monkeypatch.setattr(credentials, "_keyring_usable", lambda: False)
    return tmp_path


def test_without_a_keyring_the_token_goes_to_a_private_file(no_keyring):
    where = store_token("https://hq.example", "tok-1")
    path = no_keyring / "tokens.json"
    assert where == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert find_token("https://hq.example") == "tok-1"


def test_streamhq_token_wins_over_stored_ones(no_keyring, monkeypatch):
    store_token("https://hq.example", "stored")
    monkeypatch.setenv("STREAMHQ_TOKEN", "from-env")
    assert find_token("https://hq.example") == "from-env"


def test_a_missing_token_says_how_to_get_one(no_keyring):
    with pytest.raises(NoToken, match=r"streamhq login https://other\.example"):
        find_token("https://other.example")
