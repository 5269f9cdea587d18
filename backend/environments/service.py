"""The rules of environments and of what they reach (Kafka connections, Connect clusters,
Redpanda Connect instances); routes call this, this calls the store."""

from __future__ import annotations

import uuid

from pydantic import BaseModel

from backend.auth import hash_secret, new_secret
from backend.clock import utc_now_iso
from backend.environments.models import (
    MAX_METADATA_KEYS,
    SECRET_MASK,
    Environment,
    EnvironmentCreate,
    EnvironmentPatch,
    EnvironmentStatus,
    EnvironmentWithKey,
    OneOfAuth,
)
from backend.environments.resources import RESOURCE_KINDS, ResourceKind
from backend.errors import BadRequest, Conflict, NotFound
from backend.lrn import environment_lrn
from backend.models import NAME_RULE, is_valid_name
from backend.rendered import RenderedCollection
from backend.store import EnvironmentRecord, ResourceRecord, Store
from backend.store.base import StoreConflict
from backend.store.changes import ENVIRONMENT_KIND


def to_environment(record: EnvironmentRecord) -> Environment:
    return Environment(
        name=record.name,
        display_name=record.display_name,
        lrn=environment_lrn(record.name),
        id=record.id,
        created_at=record.created_at,
        tier=record.tier,
        status=EnvironmentStatus.model_validate(record.status),
        metadata=record.metadata,
    )


def to_public(kind: ResourceKind, record: ResourceRecord) -> BaseModel:
    """The public view of a resource: write-only secrets masked."""
    spec = kind.spec.model_validate(record.spec)
    return kind.public.model_validate({**spec.model_dump(), "name": record.name, "auth": spec.auth.masked()})


def rendered_collections(store: Store) -> list[RenderedCollection]:
    """Environments and the resources they reach, as GETs answer them, for the rendered cache.
    A resource's key is (environment, name), so an environment's resources are a key prefix."""

    def environments() -> list[tuple[tuple[str, ...], EnvironmentRecord]]:
        return [((record.name,), record) for record in store.list_environments()]

    def resources(kind: ResourceKind) -> RenderedCollection:
        return RenderedCollection(
            kind.kind,
            lambda: [((r.environment, r.name), r) for r in store.list_resources(None, kind.kind)],
            lambda record: to_public(kind, record).model_dump_json().encode(),
            parent=ENVIRONMENT_KIND,
        )

    return [RenderedCollection(ENVIRONMENT_KIND, environments, lambda r: to_environment(r).model_dump_json().encode()),
            *(resources(kind) for kind in RESOURCE_KINDS.values())]


def _check_name(field: str, name: str) -> None:
    if not is_valid_name(name):
        raise BadRequest.field(field, "invalid_format", f"{field} {NAME_RULE}")


class EnvironmentService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _record(self, name: str) -> EnvironmentRecord:
        record = self.store.get_environment(name)
        if record is None:
            raise NotFound(f"Environment {name!r} not found.")
        return record

    def list(self) -> list[Environment]:
        return [to_environment(r) for r in self.store.list_environments()]

    def get(self, name: str) -> Environment:
        return to_environment(self._record(name))

    def create(self, body: EnvironmentCreate) -> EnvironmentWithKey:
        record = EnvironmentRecord(
            id=str(uuid.uuid4()),
            name=body.name,
            display_name=body.display_name or body.name,
            tier=body.tier.value,
            metadata=body.metadata,
            created_at=utc_now_iso(),
        )
        agent_key = new_secret("agent")
        try:
            self.store.create_environment(record, hash_secret(agent_key))
        except StoreConflict:
            raise Conflict(f"Environment {body.name!r} already exists.") from None
        return EnvironmentWithKey(**to_environment(record).model_dump(), agent_key=agent_key)

    def patch(self, name: str, body: EnvironmentPatch) -> Environment:
        current = self._record(name)
        changes: dict[str, object] = {}
        if body.display_name is not None:
            changes["display_name"] = body.display_name
        if body.tier is not None:
            changes["tier"] = body.tier.value
        if body.metadata is not None:
            metadata = dict(current.metadata)
            for key, value in body.metadata.items():
                if value is None:
                    metadata.pop(key, None)
                else:
                    metadata[key] = value
            if len(metadata) > MAX_METADATA_KEYS:
                raise BadRequest.field("metadata", "too_long",
                                       f"An environment holds at most {MAX_METADATA_KEYS} metadata keys; "
                                       f"this patch would leave {len(metadata)}.")
            changes["metadata"] = metadata
        updated = self.store.update_environment(name, **changes)
        if updated is None:
            raise NotFound(f"Environment {name!r} not found.")
        return to_environment(updated)

    def delete(self, name: str) -> None:
        if not self.store.delete_environment(name):
            raise NotFound(f"Environment {name!r} not found.")

    def renew_key(self, name: str) -> EnvironmentWithKey:
        agent_key = new_secret("agent")
        if not self.store.set_agent_key_hash(name, hash_secret(agent_key)):
            raise NotFound(f"Environment {name!r} not found.")
        return EnvironmentWithKey(**self.get(name).model_dump(), agent_key=agent_key)

    # what the environment reaches

    def list_resources(self, environment: str, kind: ResourceKind) -> list[BaseModel]:
        self._record(environment)
        return [to_public(kind, r) for r in self.store.list_resources(environment, kind.kind)]

    def get_resource(self, environment: str, kind: ResourceKind, name: str) -> BaseModel:
        self._record(environment)
        record = self.store.get_resource(environment, kind.kind, name)
        if record is None:
            raise NotFound(f"{kind.label} {name!r} not found in environment {environment!r}.")
        return to_public(kind, record)

    def put_resource(self, environment: str, kind: ResourceKind, name: str, spec: BaseModel) -> tuple[BaseModel, bool]:
        _check_name(kind.name_param, name)
        self._record(environment)
        existing = self.store.get_resource(environment, kind.kind, name)
        stored = spec.model_copy(update={"auth": _keep_masked_secrets(kind, spec.auth, existing)})
        record = ResourceRecord(environment=environment, kind=kind.kind, name=name,
                                spec=stored.model_dump(mode="json"))
        try:
            created = self.store.put_resource(record)
        except StoreConflict:
            raise NotFound(f"Environment {environment!r} not found.") from None
        return to_public(kind, record), created

    def delete_resource(self, environment: str, kind: ResourceKind, name: str) -> None:
        self._record(environment)
        if not self.store.delete_resource(environment, kind.kind, name):
            raise NotFound(f"{kind.label} {name!r} not found in environment {environment!r}.")


def _keep_masked_secrets(kind: ResourceKind, auth: OneOfAuth, existing: ResourceRecord | None) -> OneOfAuth:
    """A client that edits a resource sends back the "***" it was shown: that means
    "unchanged", so the stored secret is kept. With nothing stored to keep, it is an error."""
    masked = auth.masked_fields()
    if not masked:
        return auth
    previous = kind.spec.model_validate(existing.spec).auth if existing else None
    if previous is None or previous.kind != auth.kind:
        field = masked[0]
        raise BadRequest.field(
            f"auth.{auth.kind}.{field}", "required",
            f"{field} is write-only: send the actual value, not {SECRET_MASK!r}.",
        )
    return auth.keeping_secrets_of(previous, masked)
