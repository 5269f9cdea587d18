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
class ResourceRecord:
    """Something an environment's agent reaches, by `kind`: "kafka-connection",
    "connect-cluster", "redpanda-connect". `spec` holds its settings, secrets included."""

    environment: str
    kind: str
    name: str
    spec: dict[str, Any]


@dataclass(frozen=True)
class AppRecord:
    """A K2K app: its user-written document (`spec`, display name, description) and the
    controller's `status`. `generation` counts spec changes."""

    name: str
    id: str
    display_name: str | None
    description: str | None
    created_at: str
    generation: int
    spec: dict[str, Any]
    status: dict[str, Any] = field(default_factory=dict)


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

    # what environments reach (kafka connections, connect clusters, redpanda connects)
    def list_resources(self, environment: str | None, kind: str) -> list[ResourceRecord]: ...
    def get_resource(self, environment: str, kind: str, name: str) -> ResourceRecord | None: ...
    def put_resource(self, record: ResourceRecord) -> bool: ...
    def delete_resource(self, environment: str, kind: str, name: str) -> bool: ...

    # K2K apps
    def list_apps(self) -> list[AppRecord]: ...
    def get_app(self, name: str) -> AppRecord | None: ...
    def insert_app(self, record: AppRecord) -> None: ...
    def replace_app(self, record: AppRecord, expected_generation: int) -> None: ...
    def update_app_status(self, name: str, status: dict[str, Any]) -> AppRecord | None: ...
    def delete_app(self, name: str) -> AppRecord | None: ...

    # bearer tokens (hashes only)
    def add_token(self, name: str, kind: str, token_hash: str) -> None: ...
    def replace_token(self, name: str, kind: str, token_hash: str) -> None: ...
    def token_for_hash(self, token_hash: str) -> TokenRecord | None: ...
    def has_token_of_kind(self, kind: str) -> bool: ...

    def close(self) -> None: ...
