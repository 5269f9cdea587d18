"""What each Connect cluster's plugins are, kept for a minute: every list and detail needs them
(a connector's full class, its version, which keys are PASSWORDs), and they only change when a
worker is redeployed. One cache per environment lives in its AgentContext, so it outlives the
requests that fill it."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from backend.connect.client import ConnectClient
from backend.connect.errors import ConnectApiError
from backend.connect.mapping import password_keys_of

PLUGIN_SECONDS = 60.0
# Clusters times plugin classes: a bound however many an environment names.
MAX_ENTRIES = 512


class PluginCache:
    def __init__(self, seconds: float = PLUGIN_SECONDS) -> None:
        self.seconds = seconds
        self._entries: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()

    def _get(self, key: tuple) -> Any | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def _put(self, key: tuple, value: Any) -> Any:
        self._entries[key] = (time.monotonic() + self.seconds, value)
        self._entries.move_to_end(key)
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)
        return value

    @staticmethod
    def _cluster_key(client: ConnectClient) -> tuple:
        # A cluster re-registered at other URLs is another cluster to ask.
        return client.cluster, client.upstream.urls

    async def plugins(self, client: ConnectClient, *, fresh: bool = False) -> list[dict[str, Any]]:
        """The cluster's `/connector-plugins` answer; `fresh` asks the worker whatever is kept."""
        key = ("plugins", *self._cluster_key(client))
        cached = None if fresh else self._get(key)
        return cached if cached is not None else self._put(key, await client.plugins())

    async def password_keys(self, client: ConnectClient, class_name: str | None) -> frozenset[str]:
        """The keys the plugin types as PASSWORD; none for a class the cluster does not know
        (the name rules of backend/connect/mapping.py still mask its secrets)."""
        if not class_name:
            return frozenset()
        key = ("password_keys", *self._cluster_key(client), class_name)
        cached = self._get(key)
        if cached is not None:
            return cached
        try:
            definitions = await client.plugin_config(class_name)
        except ConnectApiError as error:
            if error.status != 404:
                raise
            definitions = []
        return self._put(key, password_keys_of(definitions))
