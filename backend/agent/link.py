"""How HQ reaches an environment's agent. HQ's proxy hands a request to the environment's
AgentLink as ASGI (scope, receive, send) and the agent answers through `send`: in-process for
the built-in agent (below); over the agent's WebSocket for a standalone agent (a later issue)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.agent.api import create_agent_app
from backend.agent.context import AgentContext


class AgentLink(Protocol):
    async def forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Has the agent answer one HTTP request: `scope` is the agent's view of it, bodies
        stream through `receive` and `send`."""


class AgentLinks(Protocol):
    def link(self, environment: str) -> AgentLink | None:
        """The link to the environment's agent, or None while it has none (may block)."""


class InProcessLink:
    """An agent app called in this process: no copy, no buffer between HQ and the agent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception:
            # Starlette re-raises a route's failure after its handler answered 500 and logged it:
            # that failure is the agent's, already reported, and not one of HQ's.
            if not started:
                raise


class BuiltInLinks:
    """The built-in agent: one agent app per environment that has a Kafka connection, made on
    its first request and kept (its context reads the environment's resources when used, so a
    kept app stays current), dropped when the environment no longer has one. The app follows
    the context it was made from: when `contexts` answers another one (the environment lost its
    Kafka connection and got one again between two requests), a new app is made from it."""

    def __init__(self, contexts: Callable[[str], AgentContext | None]) -> None:
        self.contexts = contexts
        self._links: dict[str, tuple[AgentContext, InProcessLink]] = {}

    def link(self, environment: str) -> InProcessLink | None:
        context = self.contexts(environment)
        if context is None:
            self._links.pop(environment, None)
            return None
        kept = self._links.get(environment)
        if kept is None or kept[0] is not context:
            kept = self._links[environment] = (context, InProcessLink(create_agent_app(context)))
        return kept[1]
