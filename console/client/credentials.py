"""Where the console finds the bearer token for a remote HQ: `STREAMHQ_TOKEN`, else the OS
keyring (`streamhq login URL` stores it there), else a 0600 file in the config dir for
hosts with no keyring backend (a bare SSH host has none)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import keyring
import keyring.errors
from keyring.backends import fail

from console.config import config_dir

KEYRING_SERVICE = "streamhq"


class NoToken(Exception):
    pass


def _tokens_file() -> Path:
    return config_dir() / "tokens.json"


def _keyring_usable() -> bool:
    return not isinstance(keyring.get_keyring(), fail.Keyring)


def _read_file() -> dict[str, str]:
    try:
        return json.loads(_tokens_file().read_text())
    except (FileNotFoundError, ValueError):
        return {}


def store_token(server: str, token: str) -> str:
    """Saves the token for `server`; returns where it went, for the user's information."""
    if _keyring_usable():
        try:
            keyring.set_password(KEYRING_SERVICE, server, token)
            return f"the {keyring.get_keyring().name} keyring"
        except keyring.errors.KeyringError:
            pass
    path = _tokens_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tokens = _read_file() | {server: token}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(tokens, out)
    path.chmod(0o600)
    return str(path)


def find_token(server: str) -> str:
    if token := os.environ.get("STREAMHQ_TOKEN"):
        return token
    if _keyring_usable():
        try:
            if token := keyring.get_password(KEYRING_SERVICE, server):
                return token
        except keyring.errors.KeyringError:
            pass
    if token := _read_file().get(server):
        return token
    raise NoToken(
        f"No token for {server}. Set STREAMHQ_TOKEN, or run `streamhq login {server}` to store one."
    )
