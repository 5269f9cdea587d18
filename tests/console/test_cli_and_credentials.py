"""The console's way in: the embedded HQ it starts, and where it finds a remote HQ's token."""

from __future__ import annotations

import stat

import httpx
import pytest

from console.cli import start_embedded
from console.client import credentials
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
