"""The Kafka Connect operations of one environment's agent, across its registered Connect
clusters: what the routes (backend/connect/routes.py) call; a connector's offsets are
backend/connect/offsets.py's.

Every configuration a client sends is validated by the worker first and masked in every answer;
each change is told to the environment's live ledger at once, so the feed shows it before the
next poll."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from backend.agent.context import AgentContext
from backend.agent.upstream import UpstreamError
from backend.connect.client import ConnectClient
from backend.connect.clusters import ConnectClusters
from backend.connect.errors import ConnectApiError, about_connector, missing
from backend.connect.mapping import (
    CONNECTOR_CLASS,
    class_matches,
    connect_info,
    details,
    field_errors,
    list_item,
    list_items,
    logger_level,
    logger_levels,
    plugin_fields,
    plugin_items,
    resolve_plugin,
    scrub,
    secret_values,
    short_class,
    status_answer,
    unmask_config,
    validation,
)
from backend.connect.models import (
    ActionResult,
    ConfigUpsertResult,
    ConnectInfo,
    ConnectorDetails,
    ConnectorList,
    ConnectorListItem,
    ConnectorStateAction,
    ConnectorStatusAnswer,
    ConnectStatus,
    FieldError,
    LoggerLevel,
    NewConnector,
    PluginConfigField,
    PluginList,
    ValidateConnector,
    ValidationResponse,
)
from backend.connect.serialized import one_create_at_a_time

log = logging.getLogger(__name__)


# How many of a cluster's plugins a "no such plugin" error lists.
PLUGINS_NAMED = 10
# The worker's verb for each state change; `start` resumes a STOPPED (or PAUSED) connector.
STATE_VERBS = {ConnectorStateAction.start: "resume", ConnectorStateAction.stop: "stop",
               ConnectorStateAction.pause: "pause", ConnectorStateAction.resume: "resume"}
STATE_AFTER = {ConnectorStateAction.start: ConnectStatus.RUNNING, ConnectorStateAction.stop: ConnectStatus.STOPPED,
               ConnectorStateAction.pause: ConnectStatus.PAUSED, ConnectorStateAction.resume: ConnectStatus.RUNNING}


def tell_ledger(context: AgentContext, *, item: ConnectorListItem | None = None,
                expected: ConnectStatus | None = None, removed: tuple[str, str] | None = None) -> None:
    """Hands a change the API made to the environment's live ledger (`AgentContext.connectors`),
    so its feed shows it now rather than at the next poll; `expected`: the state an action moves
    the connector to, which the worker's status shows a moment later."""
    if item is not None:
        context.connectors.apply_one(item, expected)
    if removed is not None:
        context.connectors.remove(*removed)


@contextmanager
def _without(secrets: list[str]) -> Iterator[None]:
    """A worker's refusal of a configuration may quote its values: not the secret ones."""
    try:
        yield
    except ConnectApiError as error:
        error.error = scrub(error.error, secrets)
        raise


class ConnectService:
    def __init__(self, context: AgentContext) -> None:
        self.context = context
        self.clusters = ConnectClusters(context)
        self.client = self.clusters.client
        self.plugin_cache = context.connect_plugins

    async def _plugins(self, client: ConnectClient) -> list[dict[str, Any]]:
        return await self.plugin_cache.plugins(client)

    # reading connectors

    async def list_connectors(self, clusters: list[str], class_names: list[str]) -> ConnectorList:
        async def read(client: ConnectClient) -> list[ConnectorListItem]:
            started = time.monotonic()
            expanded, plugins = await asyncio.gather(client.expanded(), self._plugins(client))
            found = list_items(self.context.environment, client.cluster, expanded, plugins)
            # A whole cluster freshly read: the live feed gets it now rather than at the next poll.
            self.context.connectors.apply_cluster(client.cluster, found, started)
            return found

        items, warnings = await self.clusters.across(await self.clusters.named(clusters), read)
        if class_names:
            items = [item for item in items if class_matches(item.className, class_names)]
        return ConnectorList(data=items, warnings=warnings)

    async def _read(self, client: ConnectClient, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """A connector's info and status; the status is empty while the worker has written none
        (just after a create)."""
        with about_connector(client.cluster, name):
            info = await client.connector(name)
        try:
            status = await client.status(name)
        except ConnectApiError as error:
            if error.status != 404:
                raise
            status = {}
        return info, status

    async def _details(self, client: ConnectClient, info: dict[str, Any], status: dict[str, Any]) -> ConnectorDetails:
        plugins = await self._plugins(client)
        plugin = resolve_plugin((info.get("config") or {}).get(CONNECTOR_CLASS), plugins)
        password_keys = await self.plugin_cache.password_keys(client, plugin["class"] if plugin else None)
        return details(self.context.environment, client.cluster, info, status, plugins, password_keys)

    async def details(self, cluster: str, name: str) -> ConnectorDetails:
        client = await self.client(cluster)
        return await self._details(client, *await self._read(client, name))

    async def status(self, cluster: str, name: str) -> ConnectorStatusAnswer:
        client = await self.client(cluster)
        with about_connector(cluster, name):
            return status_answer(self.context.environment, cluster, await client.status(name))

    async def topics(self, cluster: str, name: str) -> list[str]:
        client = await self.client(cluster)
        with about_connector(cluster, name):
            topics = await client.topics(name)
            if not topics:  # the worker answers an unknown connector's topics with none, not a 404
                await client.connector(name)
        return topics

    async def _refresh_ledger(self, client: ConnectClient, name: str, *,
                              reading: tuple[dict[str, Any], dict[str, Any]] | None = None,
                              accepted: ConnectStatus | None = None) -> None:
        """Tells the ledger (when there is one) the connector as it is after a change: as just
        read (`reading`, or read now), in the state the worker `accepted` to move it to. The
        worker answers a pause or stop before its status says so; the next poll confirms it."""
        try:
            info, status = reading or await self._read(client, name)
            item = list_item(self.context.environment, client.cluster, name, status, info,
                             await self._plugins(client))
        except ConnectApiError as error:
            if error.status == 404:
                tell_ledger(self.context, removed=(client.cluster, name))
            return
        except UpstreamError:
            return  # the change was made; the next poll shows it
        tell_ledger(self.context, item=item, expected=accepted)

    # configurations

    async def _checked(self, client: ConnectClient, name: str, sent: dict[str, str],
                       stored: dict[str, str]) -> tuple[dict[str, str], list[str]]:
        """The configuration to send ("***" values replaced by the stored ones) and its secret
        values, once the worker has validated it; a rejection is a 400 naming each bad key."""
        config, missing = unmask_config(sent, stored)
        if missing:
            raise ConnectApiError(400, f"{', '.join(missing)}: \"***\" keeps a stored value, and there is none; "
                                       "send the value itself.",
                                  [FieldError(field=key, error="no stored value to keep") for key in missing])
        if config.get("name", name) != name:
            raise ConnectApiError.bad("name", f"must be the connector's name ({name!r}) or left out")
        result, secrets = await self._validated(client, name, config)
        if result.errorCount:
            fields = field_errors(result)
            summary = "; ".join(f"{f.field}: {f.error}" for f in fields[:3])
            raise ConnectApiError(400, f"The configuration has {result.errorCount} error(s): {summary}", fields)
        return config, secrets

    async def _plugin_of(self, client: ConnectClient, config: dict[str, str]) -> dict[str, Any]:
        class_name = config.get(CONNECTOR_CLASS)
        if not class_name:
            raise ConnectApiError.bad(CONNECTOR_CLASS, "required: the connector's plugin class")
        plugins = await self._plugins(client)
        plugin = resolve_plugin(class_name, plugins)
        if plugin is None:  # installed since the cache was filled?
            plugins = await self.plugin_cache.plugins(client, fresh=True)
            plugin = resolve_plugin(class_name, plugins)
        if plugin is None:
            known = ", ".join(short_class(p["class"]) for p in plugins[:PLUGINS_NAMED] if "class" in p)
            raise ConnectApiError.bad(CONNECTOR_CLASS, f"Connect cluster {client.cluster!r} has no plugin "
                                                       f"{class_name!r} (it has: {known or 'none'})")
        return plugin

    async def _validated(self, client: ConnectClient, name: str,
                         config: dict[str, str]) -> tuple[ValidationResponse, list[str]]:
        """The worker's verdict on `config`, and the config's secret values (kept out of it)."""
        plugin = await self._plugin_of(client, config)
        password_keys = await self.plugin_cache.password_keys(client, plugin["class"])
        secrets = secret_values(config, password_keys)
        # The worker validates a configuration against the class of its path, named in full.
        with _without(secrets):
            answer = await client.validate(plugin["class"], {**config, CONNECTOR_CLASS: plugin["class"], "name": name})
        return validation(answer, password_keys, secrets), secrets

    async def _stored_config(self, client: ConnectClient, name: str) -> dict[str, str] | None:
        try:
            return await client.config(name)
        except ConnectApiError as error:
            if error.status == 404:
                return None
            raise

    async def validate(self, body: ValidateConnector) -> ValidationResponse:
        client = await self.client(body.cluster)
        stored = await self._stored_config(client, body.name) or {}
        config, missing = unmask_config(body.configuration, stored)
        # a "***" with nothing stored behind it is validated as the text it is
        config = {**config, **{key: body.configuration[key] for key in missing}}
        return (await self._validated(client, body.name, config))[0]

    async def create(self, body: NewConnector) -> ConnectorDetails:
        client = await self.client(body.cluster)
        config, secrets = await self._checked(client, body.name, body.configuration, {})
        # Held until the connector reads back: a create waiting behind it then finds it there.
        async with one_create_at_a_time(self.context.environment, body.cluster, body.name):
            try:
                with _without(secrets):
                    await client.create(body.name, config, body.initialState)
            except ConnectApiError as error:
                if error.status == 409 and "already exists" in error.error:
                    raise ConnectApiError(409, f"Connector {body.name!r} already exists on Connect cluster "
                                               f"{body.cluster!r}.", [FieldError(field="name", error="already exists")],
                                          "already_exists") from None
                raise
            log.info("created connector %s on Connect cluster %s", body.name, body.cluster)
            reading = await self._read(client, body.name)
        await self._refresh_ledger(client, body.name, reading=reading)
        return await self._details(client, *reading)

    async def put_config(self, cluster: str, name: str, sent: dict[str, str]) -> ConfigUpsertResult:
        client = await self.client(cluster)
        stored = await self._stored_config(client, name)
        config, secrets = await self._checked(client, name, sent, stored or {})
        with _without(secrets):
            created = await client.put_config(name, config)
        log.info("%s connector %s on Connect cluster %s", "created" if created else "updated", name, cluster)
        reading = await self._read(client, name)
        await self._refresh_ledger(client, name, reading=reading)
        return ConfigUpsertResult(created=created, connector=await self._details(client, *reading))

    # changing connectors

    async def delete(self, cluster: str, name: str) -> ActionResult:
        client = await self.client(cluster)
        with about_connector(cluster, name):
            await client.delete(name)
        log.info("deleted connector %s on Connect cluster %s", name, cluster)
        tell_ledger(self.context, removed=(cluster, name))
        return ActionResult(message=f"Connector {name!r} deleted from Connect cluster {cluster!r}.")

    async def act(self, cluster: str, name: str, action: ConnectorStateAction, *,
                  include_tasks: bool, only_failed: bool) -> ActionResult:
        client = await self.client(cluster)
        in_progress = False
        with about_connector(cluster, name):
            if action is ConnectorStateAction.restart:
                in_progress = await client.restart(name, include_tasks=include_tasks, only_failed=only_failed)
            else:
                await client.change_state(name, STATE_VERBS[action])
        log.info("%s connector %s on Connect cluster %s", action.value, name, cluster)
        await self._refresh_ledger(client, name, accepted=STATE_AFTER.get(action))
        done = "is in progress" if in_progress else "requested"
        return ActionResult(message=f"{action.value.capitalize()} of connector {name!r} on Connect cluster "
                                    f"{cluster!r} {done}.", inProgress=in_progress)

    async def restart_task(self, cluster: str, name: str, task: int) -> ActionResult:
        client = await self.client(cluster)
        try:
            await client.restart_task(name, task)
        except ConnectApiError as error:
            if error.status == 404:
                await self._read(client, name)  # a 404 naming the connector when it is the one missing
                raise ConnectApiError(404, f"Connector {name!r} on Connect cluster {cluster!r} has no task {task}.",
                                      [FieldError(field="task", error="no such task")]) from None
            raise
        await self._refresh_ledger(client, name)
        return ActionResult(message=f"Restart of task {task} of connector {name!r} on Connect cluster "
                                    f"{cluster!r} requested.")

    # the cluster

    async def plugins(self, clusters: list[str]) -> PluginList:
        async def read(client: ConnectClient) -> list[Any]:
            return plugin_items(client.cluster, await self._plugins(client))

        items, warnings = await self.clusters.across(await self.clusters.named(clusters), read)
        return PluginList(data=items, warnings=warnings)

    async def plugin_config(self, cluster: str, class_name: str) -> list[PluginConfigField]:
        client = await self.client(cluster)
        with missing("plugin", f"Connect cluster {cluster!r} has no plugin {class_name!r}."):
            return plugin_fields(await client.plugin_config(class_name))

    async def info(self, cluster: str) -> ConnectInfo:
        client = await self.client(cluster)
        return connect_info(cluster, await client.info())

    async def loggers(self, cluster: str) -> list[LoggerLevel]:
        client = await self.client(cluster)
        return logger_levels(await client.loggers())

    async def logger(self, cluster: str, name: str) -> LoggerLevel:
        client = await self.client(cluster)
        with missing("logger", f"Connect cluster {cluster!r} has no logger {name!r}."):
            return logger_level(name, await client.logger(name))

    async def set_logger(self, cluster: str, name: str, level: str) -> list[LoggerLevel]:
        client = await self.client(cluster)
        changed = await client.set_logger(name, level)
        log.info("set logger %s to %s on Connect cluster %s", name, level, cluster)
        return [LoggerLevel(name=logger, level=level) for logger in changed]
