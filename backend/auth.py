"""Bearer tokens: the admin token, service-account tokens, the embedded console's session
token, and environments' agent keys.

Tokens are 256-bit random strings, so a plain SHA-256 is the right hash to store: slow,
salted hashes defend low-entropy passwords against guessing, and there is nothing to guess
here. A prefix names each token's kind so that secret scanners and people can tell them apart.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request

from backend.errors import Unauthorized
from backend.store import Store
from backend.store.changes import TOKEN_KIND, Change

ADMIN = "admin"
SERVICE_ACCOUNT = "service_account"
ADMIN_TOKEN_NAME = "admin"


def new_secret(kind: str) -> str:
    return f"shq_{kind}_{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def ensure_admin_token(store: Store, configured: str | None) -> str | None:
    """Makes the configured admin token the stored one, or on first start generates one.
    Returns a newly generated token (for printing once), else None."""
    if configured:
        store.replace_token(ADMIN_TOKEN_NAME, ADMIN, hash_secret(configured))
        return None
    if store.has_token_of_kind(ADMIN):
        return None
    token = new_secret("admin")
    store.replace_token(ADMIN_TOKEN_NAME, ADMIN, hash_secret(token))
    return token


def create_service_account_token(store: Store, name: str) -> str:
    token = new_secret("sa")
    store.add_token(name, SERVICE_ACCOUNT, hash_secret(token))
    return token


class Authenticator:
    """The FastAPI dependency every protected route uses.

    Known tokens are remembered (hash -> principal), so a request costs a hash and a dict lookup
    rather than a store read. Only tokens found are remembered: one another process just created
    (`streamhq token create`) is looked up afresh. A replaced token (the store publishes a
    `token` change for it) makes the authenticator forget them all, so an old token stops working
    before the write that replaced it returns."""

    def __init__(self, store: Store, session_token: str | None) -> None:
        self._store = store
        self._session_hash = hash_secret(session_token) if session_token else None
        self._known: dict[str, str] = {}

    def principal(self, token: str) -> str | None:
        digest = hash_secret(token)
        if self._session_hash and hmac.compare_digest(digest, self._session_hash):
            return "session"
        principal = self._known.get(digest)
        if principal is None:
            record = self._store.token_for_hash(digest)
            if record is None:
                return None
            principal = self._known[digest] = record.name
        return principal

    def observe(self, change: Change) -> None:
        if change.kind == TOKEN_KIND:
            self._known.clear()

    def __call__(self, request: Request) -> str:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("A bearer token is required: send 'Authorization: Bearer <token>'.")
        principal = self.principal(token.strip())
        if principal is None:
            raise Unauthorized("The bearer token is not valid.")
        return principal
