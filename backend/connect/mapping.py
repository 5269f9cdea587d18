"""The worker's JSON as the family's shapes (backend/connect/models.py), and the masking of
secrets in configurations. Pure functions: no I/O, so the live poller and the routes map alike.

`plugins` is always the worker's own `/connector-plugins` answer (`[{class, type, version}]`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from backend.connect.models import (
    ConnectInfo,
    ConnectorDetails,
    ConnectorListItem,
    ConnectorStatusAnswer,
    ConnectStatus,
    FieldError,
    LoggerLevel,
    OffsetEntry,
    OffsetsAnswer,
    PluginConfigField,
    PluginItem,
    SimpleTask,
    TaskDetails,
    ValidationField,
    ValidationResponse,
)
from backend.lrn import connector_lrn

MASK = "***"
CONNECTOR_CLASS = "connector.class"
# The configuration keys that name the topics a connector reads or writes.
TOPIC_KEYS = ("topic", "topics", "topics.regex")
# Words that make a key a secret whatever its plugin says: `ssl.key.password`, `api.secret`,
# `oauth.token`, `aws.access.key`; `sasl.jaas.config` holds a password inside its text.
# `basic.auth.user.info` is a Schema Registry's `user:password`.
_SECRET_WORDS = re.compile(r"password|secret|token|credential|user\.info", re.IGNORECASE)
# Also with a client prefix: `producer.override.sasl.jaas.config`, `consumer.override.…`.
_SECRET_SUFFIXES = ("sasl.jaas.config",)


# secrets


def is_secret(key: str, password_keys: Iterable[str] = ()) -> bool:
    """A key whose value no answer shows: typed PASSWORD by its plugin (`password_keys`), or
    named like a secret. A key's last part ending in `key` counts (`*.key`, `apikey`), its other
    parts do not (`key.converter` is a class name)."""
    if key in password_keys or key.lower().endswith(_SECRET_SUFFIXES) or _SECRET_WORDS.search(key):
        return True
    return re.split(r"[._-]", key.lower())[-1].endswith("key")


def mask_config(config: Mapping[str, Any], password_keys: Iterable[str] = ()) -> dict[str, str]:
    keys = frozenset(password_keys)
    return {key: MASK if is_secret(key, keys) and value is not None else _text(value) for key, value in config.items()}


def unmask_config(sent: Mapping[str, str], stored: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """`sent` with each "***" replaced by the stored value of its key (a client sends back the
    masked answer it read); and the keys sent as "***" that have no stored value to keep."""
    kept, missing = {}, []
    for key, value in sent.items():
        if value == MASK:
            if key in stored:
                kept[key] = stored[key]
            else:
                missing.append(key)
        else:
            kept[key] = value
    return kept, missing


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` (a worker's message) with each secret value in it replaced by the mask."""
    for secret in sorted({s for s in secrets if len(s) >= 3}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def secret_values(config: Mapping[str, str], password_keys: Iterable[str] = ()) -> list[str]:
    keys = frozenset(password_keys)
    return [value for key, value in config.items() if isinstance(value, str) and is_secret(key, keys)]


def password_keys_of(definitions: list[dict[str, Any]]) -> frozenset[str]:
    """The keys a plugin types as PASSWORD, from its `/connector-plugins/{class}/config`."""
    return frozenset(d["name"] for d in definitions if d.get("type") == "PASSWORD" and "name" in d)


# plugins and classes


def short_class(class_name: str) -> str:
    return class_name.rsplit(".", 1)[-1]


def resolve_plugin(class_name: str | None, plugins: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The plugin a `connector.class` names: its full class, its simple name, or the simple name
    without `Connector` (the aliases Connect itself takes)."""
    if not class_name:
        return None
    for plugin in plugins:
        full = str(plugin.get("class", ""))
        simple = short_class(full)
        if class_name in (full, simple, simple.removesuffix("Connector")):
            return plugin
    return None


def class_matches(class_name: str | None, wanted: Iterable[str]) -> bool:
    """A `className` filter: each wanted value may be the full class or its simple name."""
    if not class_name:
        return False
    return any(w in (class_name, short_class(class_name)) for w in wanted)


def plugin_items(cluster: str, plugins: list[dict[str, Any]]) -> list[PluginItem]:
    return [PluginItem.model_validate({"class": p["class"], "cluster": cluster, "name": short_class(p["class"]),
                                       "type": p.get("type", "unknown"), "version": _text(p.get("version")) or ""})
            for p in plugins if "class" in p]


def plugin_fields(definitions: list[dict[str, Any]]) -> list[PluginConfigField]:
    return [PluginConfigField(name=d["name"], type=d.get("type", "STRING"), required=bool(d.get("required")),
                              defaultValue=_optional_text(d.get("default_value")), importance=d.get("importance"),
                              documentation=d.get("documentation"), group=d.get("group"),
                              displayName=d.get("display_name"), order=d.get("order_in_group"))
            for d in definitions if "name" in d]


# connectors


def topics_of(config: Mapping[str, Any]) -> list[str]:
    """The topics a configuration names: `topic`, `topics` (a comma list) or `topics.regex`."""
    topics: list[str] = []
    for key in TOPIC_KEYS:
        value = config.get(key)
        if isinstance(value, str) and value.strip():
            parts = value.split(",") if key == "topics" else [value]
            topics.extend(p.strip() for p in parts if p.strip() and p.strip() not in topics)
    return topics


def _state(value: Any) -> ConnectStatus | None:
    return ConnectStatus(value) if value in ConnectStatus.__members__ else None


def _tasks(status: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    tasks = status.get("tasks")
    return sorted((t for t in tasks if isinstance(t, Mapping)) if isinstance(tasks, list) else [],
                  key=lambda t: t.get("id") if isinstance(t.get("id"), int) else -1)


def _simple_tasks(status: Mapping[str, Any]) -> list[SimpleTask]:
    return [SimpleTask(id=t["id"], state=state) for t in _tasks(status)
            if isinstance(t.get("id"), int) and (state := _state(t.get("state"))) is not None]


def _task_details(status: Mapping[str, Any]) -> list[TaskDetails]:
    return [TaskDetails(id=str(t.get("id")), state=str(t.get("state")), workerId=str(t.get("worker_id", "")),
                        trace=t.get("trace")) for t in _tasks(status)]


def list_item(environment: str, cluster: str, name: str, status: Mapping[str, Any],
              info: Mapping[str, Any], plugins: list[dict[str, Any]]) -> ConnectorListItem:
    """One connector from its status and info (as the expanded list gives them)."""
    config = _mapping(info.get("config"))
    plugin = resolve_plugin(config.get(CONNECTOR_CLASS), plugins)
    connector = _mapping(status.get("connector"))
    return ConnectorListItem(
        name=name, lrn=connector_lrn(environment, cluster, name), cluster=cluster,
        state=_state(connector.get("state")), tasks=_simple_tasks(status),
        className=plugin["class"] if plugin else config.get(CONNECTOR_CLASS),
        type=info.get("type") or status.get("type") or (plugin or {}).get("type"),
        topics=topics_of(config), workerId=connector.get("worker_id"))


def list_items(environment: str, cluster: str, expanded_json: Mapping[str, Any],
               plugins: list[dict[str, Any]]) -> list[ConnectorListItem]:
    """A cluster's `GET /connectors?expand=status&expand=info` as list items, by name."""
    return [list_item(environment, cluster, name, _mapping(entry.get("status")), _mapping(entry.get("info")), plugins)
            for name, entry in sorted(expanded_json.items()) if isinstance(entry, dict)]


def details(environment: str, cluster: str, info: Mapping[str, Any], status: Mapping[str, Any],
            plugins: list[dict[str, Any]], password_keys: Iterable[str]) -> ConnectorDetails:
    """One connector: its info (`GET /connectors/{name}`), its status (empty while the worker
    has written none yet), its configuration masked."""
    name = str(info.get("name"))
    config = _mapping(info.get("config"))
    plugin = resolve_plugin(config.get(CONNECTOR_CLASS), plugins) or {}
    connector = _mapping(status.get("connector"))
    return ConnectorDetails(
        name=name, lrn=connector_lrn(environment, cluster, name), cluster=cluster,
        state=_state(connector.get("state")), type=info.get("type") or status.get("type") or plugin.get("type"),
        className=plugin.get("class") or config.get(CONNECTOR_CLASS), workerId=connector.get("worker_id"),
        version=_optional_text(connector.get("version") or plugin.get("version")),
        config=mask_config(config, password_keys), tasks=_task_details(status), trace=connector.get("trace"),
        topics=topics_of(config))


def status_answer(environment: str, cluster: str, status: Mapping[str, Any]) -> ConnectorStatusAnswer:
    name = str(status.get("name"))
    connector = _mapping(status.get("connector"))
    return ConnectorStatusAnswer(name=name, lrn=connector_lrn(environment, cluster, name), cluster=cluster,
                                 state=_state(connector.get("state")), type=status.get("type"),
                                 workerId=connector.get("worker_id"), trace=connector.get("trace"),
                                 tasks=_task_details(status))


# validation


def validation(answer: Mapping[str, Any], password_keys: Iterable[str] = (),
               secrets: Iterable[str] = ()) -> ValidationResponse:
    """The worker's validate answer, one entry per key with its errors; secret values masked
    (keys the answer itself types PASSWORD as well as `password_keys`), and taken out of the
    error messages too (`secrets`: the values sent; "Invalid value <it> for ..." quotes them)."""
    secrets = list(secrets)
    typed = {c["definition"]["name"] for c in answer.get("configs", [])
             if c.get("definition", {}).get("type") == "PASSWORD"}
    keys = frozenset(password_keys) | typed
    fields = []
    for entry in answer.get("configs", []):
        definition, value = entry.get("definition") or {}, entry.get("value") or {}
        name = str(definition.get("name") or value.get("name"))
        shown = _optional_text(value.get("value"))
        fields.append(ValidationField(
            name=name, required=bool(definition.get("required")), order=int(definition.get("order_in_group") or 0),
            documentation=str(definition.get("documentation") or ""),
            errors=[scrub(str(e), secrets) for e in value.get("errors") or []],
            visible=bool(value.get("visible", True)),
            value=MASK if shown is not None and is_secret(name, keys) else shown,
            defaultValue=_optional_text(definition.get("default_value"))))
    return ValidationResponse.model_validate({"class": str(answer.get("name", "")), "configuration": fields,
                                              "errorCount": int(answer.get("error_count") or 0)})


def field_errors(result: ValidationResponse) -> list[FieldError]:
    """A rejected configuration's errors, one per key and message, `field` being the key."""
    return [FieldError(field=f.name, error=error) for f in result.configuration for error in f.errors]


_PRIMITIVES = (str, int, float, bool, type(None))


def offset_errors(entries: list[Mapping[str, Any]]) -> list[FieldError]:
    """What Connect requires of offsets sent to it (KIP-875), each entry's fault by its field: a
    partition is an object, an offset an object or null (forget the partition), their values
    strings, numbers, booleans or null. The worker answers any other with a 500 of Jackson's."""
    errors = []
    for index, entry in enumerate(entries):
        for part, nullable in (("partition", False), ("offset", True)):
            value = entry.get(part)
            if value is None and nullable:
                continue
            if not isinstance(value, Mapping):
                wanted = "a JSON object or null" if nullable else "a JSON object"
                errors.append(FieldError(field=f"offsets.{index}.{part}", error=f"must be {wanted}"))
                continue
            errors.extend(FieldError(field=f"offsets.{index}.{part}.{key}",
                                     error="must be a string, a number, a boolean or null")
                          for key, inner in value.items() if not isinstance(inner, _PRIMITIVES))
    return errors


def offsets_answer(answer: Any) -> OffsetsAnswer:
    """`GET /connectors/{name}/offsets`: a source's partitions and offsets are its own JSON, a
    sink's `{kafka_topic, kafka_partition}` / `{kafka_offset}`; a reset one's offset is null."""
    entries = _mapping(answer).get("offsets")
    return OffsetsAnswer(offsets=[OffsetEntry(partition=e.get("partition"), offset=e.get("offset"))
                                  for e in entries if isinstance(e, Mapping)] if isinstance(entries, list) else [])


# the cluster


def connect_info(cluster: str, root: Mapping[str, Any]) -> ConnectInfo:
    return ConnectInfo(name=cluster, version=str(root.get("version", "")), commit=root.get("commit"),
                       kafkaClusterId=root.get("kafka_cluster_id"))


def logger_levels(loggers: Mapping[str, Any]) -> list[LoggerLevel]:
    return [logger_level(name, entry) for name, entry in sorted(loggers.items()) if isinstance(entry, dict)]


def logger_level(name: str, entry: Mapping[str, Any]) -> LoggerLevel:
    return LoggerLevel(name=name, level=str(entry.get("level")), lastModified=entry.get("last_modified"))


def _mapping(value: Any) -> Mapping[str, Any]:
    """Part of a worker's answer that should be an object (one still setting a connector up
    may leave it out)."""
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _optional_text(value: Any) -> str | None:
    return None if value is None else str(value)
