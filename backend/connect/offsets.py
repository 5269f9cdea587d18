"""A connector's offsets (KIP-875): read any time, altered or reset only while it is STOPPED,
checked here first so that the answer says "stop the connector first" rather than quoting the
worker; offsets a connector would refuse are refused per field before the worker is asked."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from backend.agent.context import AgentContext
from backend.connect.client import ConnectClient
from backend.connect.clusters import ConnectClusters
from backend.connect.errors import ConnectApiError, about_connector
from backend.connect.mapping import offset_errors, offsets_answer
from backend.connect.models import FieldError, OffsetsAnswer, OffsetsChange, OffsetsChanged

log = logging.getLogger(__name__)

# A connector's status follows its creation within a second or so on a healthy worker.
STATUS_WAIT_SECONDS = 5.0
STATUS_POLL_SECONDS = 0.2


def _stop_first(name: str, state: str) -> ConnectApiError:
    return ConnectApiError(400, f"Connector {name!r} is {state}: stop the connector first (its `stop` action), "
                                "then change its offsets, then start it again.",
                           [FieldError(field="state", error="stop the connector first")])


class ConnectOffsets:
    def __init__(self, context: AgentContext) -> None:
        self.client = ConnectClusters(context).client

    async def offsets(self, cluster: str, name: str) -> OffsetsAnswer:
        client = await self.client(cluster)
        with about_connector(cluster, name):
            return offsets_answer(await client.offsets(name))

    async def _stopped(self, client: ConnectClient, name: str) -> None:
        state = ((await self._status_once_written(client, name)).get("connector") or {}).get("state")
        if state != "STOPPED":
            raise _stop_first(name, str(state or "not STOPPED"))

    async def _status_once_written(self, client: ConnectClient, name: str) -> dict[str, Any]:
        """The connector's status; just after a create (STOPPED, to set its offsets before it
        runs) the worker has written none yet and answers 404 for a connector it has: that is
        waited out for a few seconds rather than called "no such connector"."""
        deadline = time.monotonic() + STATUS_WAIT_SECONDS
        while True:
            try:
                return await client.status(name)
            except ConnectApiError as error:
                if error.status != 404:
                    raise
            with about_connector(client.cluster, name):
                await client.connector(name)  # a 404 here: there is no such connector
            if time.monotonic() > deadline:
                raise ConnectApiError(409, f"Connector {name!r} has no status yet on Connect cluster "
                                           f"{client.cluster!r} (just created?): try again in a moment.",
                                      [FieldError(field="connector", error="no status yet")])
            await asyncio.sleep(STATUS_POLL_SECONDS)

    async def _changed_offsets(self, client: ConnectClient, name: str, change) -> OffsetsChanged:
        await self._stopped(client, name)
        try:
            with about_connector(client.cluster, name):
                answer = await change()
        except ConnectApiError as error:
            if error.status == 400 and "STOPPED" in error.error:  # stopped and started again since
                raise _stop_first(name, "no longer STOPPED") from None
            raise
        log.info("changed the offsets of connector %s on Connect cluster %s", name, client.cluster)
        return OffsetsChanged(message=str(answer.get("message", "The offsets were changed.")))

    async def alter_offsets(self, cluster: str, name: str, body: OffsetsChange) -> OffsetsChanged:
        if not body.offsets:
            raise ConnectApiError.bad("offsets", "at least one partition and its offset is required")
        entries = [entry.model_dump() for entry in body.offsets]
        if fields := offset_errors(entries):
            raise ConnectApiError(400, f"{fields[0].field}: {fields[0].error}", fields)
        client = await self.client(cluster)
        try:
            return await self._changed_offsets(client, name, lambda: client.alter_offsets(name, entries))
        except ConnectApiError as error:
            # The worker answers 500 when the connector itself refuses the offsets (FileStream:
            # "Offset objects should either be null or contain the key 'position'").
            if error.worker_status == 500 and error.worker_message:
                raise ConnectApiError.bad("offsets", f"the connector refused them: {error.worker_message}") from None
            raise

    async def reset_offsets(self, cluster: str, name: str) -> OffsetsChanged:
        client = await self.client(cluster)
        return await self._changed_offsets(client, name, lambda: client.reset_offsets(name))
