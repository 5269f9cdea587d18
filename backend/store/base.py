"""The store's interface and the records it deals in (plain data, not API shapes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class StoreConflict(Exception):
    """A uniqueness rule would be broken (e.g. a name taken)."""


@dataclass(frozen=True)
class EnvironmentRecord:
    id: str
    name: str
    display_name: str
    tier: str
    metadata: dict[str, str]
    created_at: str
    status: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConnectionRecord:
    environment: str
    name: str
    spec: dict[str, Any]


@dataclass(frozen=True)
class TokenRecord:
    name: str
    kind: str
    created_at: str


class Store(Protocol):
    # environments
    def list_environments(self) -> list[EnvironmentRecord]: ...
    def get_environment(self, name: str) -> EnvironmentRecord | None: ...
    def create_environment(self, record: EnvironmentRecord, agent_key_hash: str) -> None: ...
    def update_environment(self, name: str, **changes: Any) -> EnvironmentRecord | None: ...
    def delete_environment(self, name: str) -> bool: ...
    def set_agent_key_hash(self, name: str, agent_key_hash: str) -> bool: ...
    def environment_for_agent_key(self, agent_key_hash: str) -> str | None: ...

    # kafka connections
    def list_connections(self, environment: str) -> list[ConnectionRecord]: ...
    def get_connection(self, environment: str, name: str) -> ConnectionRecord | None: ...
    def put_connection(self, record: ConnectionRecord) -> bool: ...
    def delete_connection(self, environment: str, name: str) -> bool: ...

    # bearer tokens (hashes only)
    def add_token(self, name: str, kind: str, token_hash: str) -> None: ...
    def replace_token(self, name: str, kind: str, token_hash: str) -> None: ...
    def token_for_hash(self, token_hash: str) -> TokenRecord | None: ...
    def has_token_of_kind(self, kind: str) -> bool: ...

    def close(self) -> None: ...
