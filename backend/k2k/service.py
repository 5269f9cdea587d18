"""The rules of K2K apps (seed 000; docs/architecture.md, the replication design): what a valid app is, generations and
If-Match, merge patches, and offset edits. Routes call this; this calls the store, the
controller (status, metrics) and, for offsets, Kafka through `replicator.offsets`."""

from __future__ import annotations

import uuid
from contextlib import closing
from datetime import datetime
from typing import Any

from confluent_kafka import KafkaException
from pydantic import ValidationError

from backend.agent.kafka import librdkafka_config
from backend.clock import utc_now_iso
from backend.environments.models import KafkaConnectionSpec
from backend.errors import BadRequest, Conflict, HQError, NotFound
from backend.k2k.clusters import share_an_address
from backend.k2k.controller import K2KController
from backend.k2k.metrics import summarize
from backend.k2k.models import (
    AppState,
    K2KApp,
    K2KAppInput,
    K2KSpec,
    OffsetsPatch,
    OffsetsUpdated,
    PartitionPosition,
    TopicOffsets,
    UpdatedPartition,
)
from backend.k2k.references import SpecProblem, check_namespace, resolve_kafka, split_overrides
from backend.lrn import k2k_app_lrn
from backend.models import InvalidField, invalid_fields_from
from backend.replicator.config import consumer_group
from backend.replicator.offsets import Cluster, GroupPositions
from backend.store import AppRecord, Store
from backend.store.base import StoreConflict


class KafkaUnavailable(HQError):
    status = 502
    type = "kafka_unavailable"


def to_app(record: AppRecord, *, state: AppState | None = None) -> K2KApp:
    status = dict(record.status)
    if state is not None:
        status["state"] = state.value
    return K2KApp.model_validate({
        "metadata": {"name": record.name, "displayName": record.display_name, "description": record.description,
                     "id": record.id, "lrn": k2k_app_lrn(record.name), "creationTimestamp": record.created_at,
                     "generation": record.generation},
        "spec": record.spec,
        "status": status or {"kafka": {"consumerGroup": consumer_group(record.name)}},
    })


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge, null removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def parse_app(document: Any) -> K2KAppInput:
    if not isinstance(document, dict):
        raise BadRequest.field("body", "invalid", "The body must be a K2K app document (an object).")
    try:
        return K2KAppInput.model_validate(document)
    except ValidationError as exc:
        fields = invalid_fields_from(list(exc.errors()))
        raise BadRequest("Invalid K2K app: " + "; ".join(f"{f.name}: {f.title}" for f in fields[:3]),
                         fields) from None


def _parse_if_match(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    raw = if_match.strip().removeprefix("W/").strip('"')
    # bounded before int(): Python refuses 4,300 digits with a ValueError; str.isdigit() takes "²"
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise BadRequest.field("If-Match", "invalid_format", "If-Match must be the generation, e.g. \"3\".")
    return int(raw)


class K2KService:
    def __init__(self, store: Store, controller: K2KController) -> None:
        self.store = store
        self.controller = controller

    def _record(self, name: str) -> AppRecord:
        record = self.store.get_app(name)
        if record is None:
            raise NotFound(f"K2K app {name!r} not found.")
        return record

    def _with_metrics(self, record: AppRecord, *, full: bool) -> K2KApp:
        app = to_app(record)
        metrics = self.controller.metrics.latest(record.name)
        if metrics is not None:
            if full:
                app.metrics = metrics
            else:
                app.metrics_summary = summarize(metrics)
        return app

    def list(self) -> list[K2KApp]:
        return [self._with_metrics(r, full=False) for r in self.store.list_apps()]

    def get(self, name: str) -> K2KApp:
        return self._with_metrics(self._record(name), full=True)

    # writes

    def _validate(self, spec: K2KSpec) -> None:
        problems: list[InvalidField] = []
        references = {}
        for field, lrn in (("spec.sourceKafkaLRN", spec.sourceKafkaLRN), ("spec.targetKafkaLRN", spec.targetKafkaLRN)):
            try:
                references[field] = resolve_kafka(self.store, field, lrn)
            except SpecProblem as exc:
                problems.append(InvalidField(name=exc.field, error=exc.error, title=exc.title))
        checks = [lambda: split_overrides(spec.configOverrides)]
        if spec.deploymentNamespaceLRN is not None:
            checks.append(lambda: check_namespace(self.store, spec.deploymentNamespaceLRN))
        for check in checks:
            try:
                check()
            except SpecProblem as exc:
                problems.append(InvalidField(name=exc.field, error=exc.error, title=exc.title))
        if spec.replicator.schemaMapping:
            problems.append(InvalidField(name="spec.replicator.schemaMapping", error="not_supported",
                                         title="schemaMapping is not implemented yet: set it to false"))
        if problems:
            raise BadRequest("Invalid K2K app: " + "; ".join(p.title for p in problems[:3]), problems)
        source, target = references["spec.sourceKafkaLRN"], references["spec.targetKafkaLRN"]
        # By address only, so creating an app never waits on Kafka: the controller compares
        # cluster ids before it starts the workers.
        if share_an_address(source.spec.override_broker_addresses, target.spec.override_broker_addresses):
            raise BadRequest.field(
                "spec.targetKafkaLRN", "same_cluster",
                "The source and target are the same Kafka cluster: the app would copy each topic onto itself.")

    def create(self, document: Any) -> K2KApp:
        body = parse_app(document)
        if body.metadata.name is None:
            raise BadRequest.field("metadata.name", "required", "metadata.name is required to create an app.")
        self._validate(body.spec)
        record = AppRecord(name=body.metadata.name, id=str(uuid.uuid4()), display_name=body.metadata.displayName,
                           description=body.metadata.description, created_at=utc_now_iso(), generation=1,
                           spec=body.spec.model_dump(mode="json", exclude_none=True))
        try:
            self.store.insert_app(record)
        except StoreConflict:
            raise Conflict(f"K2K app {record.name!r} already exists.") from None
        return to_app(record)

    def put(self, name: str, document: Any, if_match: str | None) -> tuple[K2KApp, bool]:
        body = parse_app(document)
        self._check_name(name, body)
        existing = self.store.get_app(name)
        if existing is None:
            expected = _parse_if_match(if_match)
            if expected is not None:
                raise Conflict(f"K2K app {name!r} does not exist, so it has no generation {expected}.")
            body.metadata.name = name
            return self.create(body.model_dump(mode="json", exclude_none=True)), True
        return self._replace(existing, body, if_match), False

    def patch(self, name: str, document: Any, if_match: str | None) -> K2KApp:
        if not isinstance(document, dict):
            raise BadRequest.field("body", "invalid", "A merge patch must be an object.")
        existing = self._record(name)
        current = {"metadata": {"name": name, "displayName": existing.display_name,
                                "description": existing.description},
                   "spec": existing.spec}
        merged = merge_patch(current, {k: v for k, v in document.items() if k in ("metadata", "spec")})
        unknown = set(document) - {"metadata", "spec", "apiVersion", "kind", "status", "metrics"}
        if unknown:
            raise BadRequest.field(sorted(unknown)[0], "unknown_field", f"{sorted(unknown)[0]} cannot be patched.")
        body = parse_app(merged)  # holds the stored name unless the patch renames (refused below)
        self._check_name(name, body)
        return self._replace(existing, body, if_match)

    def _check_name(self, name: str, body: K2KAppInput) -> None:
        if body.metadata.name is not None and body.metadata.name != name:
            raise BadRequest.field("metadata.name", "invalid",
                                   f"metadata.name {body.metadata.name!r} differs from the path's {name!r}.")

    def _replace(self, existing: AppRecord, body: K2KAppInput, if_match: str | None) -> K2KApp:
        expected = _parse_if_match(if_match)
        if expected is not None and expected != existing.generation:
            raise Conflict(f"K2K app {existing.name!r} is at generation {existing.generation}, not {expected}: "
                           "fetch it again and reapply your change.")
        self._validate(body.spec)
        spec = body.spec.model_dump(mode="json", exclude_none=True)
        record = AppRecord(name=existing.name, id=existing.id, display_name=body.metadata.displayName,
                           description=body.metadata.description, created_at=existing.created_at,
                           generation=existing.generation + (spec != existing.spec), spec=spec,
                           status=existing.status)
        try:
            self.store.replace_app(record, existing.generation)
        except StoreConflict:
            raise Conflict(f"K2K app {existing.name!r} changed meanwhile: fetch it again and reapply.") from None
        return self._with_metrics(self._record(existing.name), full=True)

    def delete(self, name: str) -> K2KApp:
        record = self.store.delete_app(name)
        if record is None:
            raise NotFound(f"K2K app {name!r} not found.")
        # The controller stops the workers on its next round; the answer says so.
        return to_app(record, state=AppState.deleting)

    # offsets

    def _connections(self, record: AppRecord) -> tuple[K2KSpec, KafkaConnectionSpec, KafkaConnectionSpec]:
        """The app's spec, and its source and target connections."""
        spec = K2KSpec.model_validate(record.spec)
        try:
            source = resolve_kafka(self.store, "spec.sourceKafkaLRN", spec.sourceKafkaLRN)
            target = resolve_kafka(self.store, "spec.targetKafkaLRN", spec.targetKafkaLRN)
        except SpecProblem as exc:
            raise Conflict(f"The app cannot reach its clusters: {exc.title}") from None
        return spec, source.spec, target.spec

    def _partition_count(self, spec: K2KSpec, source: Cluster, name: str, topic: str) -> int:
        if topic not in source.matching(spec.topics):
            raise NotFound(f"Topic {topic!r} is not one the K2K app {name!r} copies (or is not on the source).")
        return source.partitions([topic])[topic]

    def topic_offsets(self, name: str, topic: str, at: datetime | None) -> TopicOffsets:
        record = self._record(name)
        spec, source_connection, target_connection = self._connections(record)
        source = Cluster(librdkafka_config(source_connection))
        try:
            tps = [(topic, p) for p in range(self._partition_count(spec, source, name, topic))]
            earliest, latest = source.earliest(tps), source.latest(tps)
            with closing(GroupPositions(target_connection)) as positions:
                committed = positions.committed(consumer_group(name))
            found = source.at(tps, int(at.timestamp() * 1000)) if at else {}
        except KafkaException as exc:
            raise KafkaUnavailable(f"Kafka did not answer: {exc.args[0].str()}") from None
        return TopicOffsets(application_name=name, topic_name=topic, partitions=[
            PartitionPosition(partition=tp[1], committed=committed.get(tp), earliest=earliest[tp], latest=latest[tp],
                              at=found.get(tp))
            for tp in tps])

    def edit_offsets(self, name: str, topic: str, body: OffsetsPatch) -> OffsetsUpdated:
        record = self._record(name)
        if not K2KSpec.model_validate(record.spec).paused or self.controller.workers_alive(name):
            raise Conflict(f"K2K app {name!r} must be paused (and its workers stopped) before its offsets are edited.")
        spec, source_connection, target_connection = self._connections(record)
        source, target = Cluster(librdkafka_config(source_connection)), Cluster(librdkafka_config(target_connection))
        try:
            count = self._partition_count(spec, source, name, topic)
            tps = [(topic, p) for p in range(count)]
            earliest, latest = source.earliest(tps), source.latest(tps)
            problems = []
            for i, edit in enumerate(body.offsets):
                if edit.partition >= count:
                    problems.append(InvalidField(name=f"offsets.{i}.partition", error="out_of_range",
                                                 title=f"{topic} has partitions 0-{count - 1}"))
                    continue
                low, high = earliest[(topic, edit.partition)], latest[(topic, edit.partition)]
                if not low <= edit.offset <= high:
                    problems.append(InvalidField(name=f"offsets.{i}.offset", error="out_of_range",
                                                 title=f"partition {edit.partition} holds offsets {low}-{high}"))
            if problems:
                raise BadRequest("Offsets out of range: " + "; ".join(p.title for p in problems[:3]), problems)
            wanted = {(topic, e.partition): e.offset for e in body.offsets}
            target.commit(consumer_group(name), wanted)
        except KafkaException as exc:
            raise KafkaUnavailable(f"Kafka did not take the offsets: {exc.args[0].str()}") from None
        return OffsetsUpdated(application_name=name, updated_partitions=[
            UpdatedPartition(topic_name=t, partition=p, offset=o) for (t, p), o in sorted(wanted.items())])

