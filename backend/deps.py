"""FastAPI dependencies shared by every router: the caller's identity and the app's services.

`create_app` builds one `Services` and keeps it on the app; routes take what they need through
the `...Dep` annotations below, never through `request.app.state`. The getters are `async`
because they only read an attribute: a sync dependency would cost a thread-pool hop per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPBearer

from backend.agent.link import AgentLinks
from backend.agent.supervisor import AgentSupervisor
from backend.auth import Authenticator
from backend.environments.service import EnvironmentService
from backend.feed import ChangeFeed
from backend.k2k.service import K2KService
from backend.rendered import RenderedCache
from backend.settings import Settings
from backend.sse import FeedPosition, position_of
from backend.store import Store


@dataclass(frozen=True)
class Services:
    """Everything a route may need, built once per app by `create_app`."""

    settings: Settings
    feed: ChangeFeed
    store: Store
    authenticator: Authenticator
    environments: EnvironmentService
    k2k: K2KService
    agents: AgentSupervisor
    rendered: RenderedCache
    agent_links: AgentLinks | None  # None: this HQ runs no built-in agent (and none dials in yet)


def services_of(app: FastAPI) -> Services:
    """The app's services, for the composition root (the CLI, test and bench harnesses)."""
    return app.state.services


async def services(request: Request) -> Services:
    return services_of(request.app)


ServicesDep = Annotated[Services, Depends(services)]


async def settings(services: ServicesDep) -> Settings:
    return services.settings


async def feed(services: ServicesDep) -> ChangeFeed:
    return services.feed


async def sse_ping_seconds(services: ServicesDep) -> float:
    return services.settings.sse_ping_seconds


async def environments_service(services: ServicesDep) -> EnvironmentService:
    return services.environments


async def rendered(request: Request) -> RenderedCache:
    # Straight from the app, not through ServicesDep: the cached GETs that take it are cheap enough
    # that a second solved dependency would cost them a tenth of their time.
    return services_of(request.app).rendered


async def k2k_service(services: ServicesDep) -> K2KService:
    return services.k2k


async def agent_links(services: ServicesDep) -> AgentLinks | None:
    return services.agent_links


SettingsDep = Annotated[Settings, Depends(settings)]
FeedDep = Annotated[ChangeFeed, Depends(feed)]
EnvironmentsDep = Annotated[EnvironmentService, Depends(environments_service)]
K2KDep = Annotated[K2KService, Depends(k2k_service)]
AgentLinksDep = Annotated[AgentLinks | None, Depends(agent_links)]
RenderedDep = Annotated[RenderedCache, Depends(rendered)]
# HQ's feed position, stamped on the lists HQ's feeds follow (backend/sse.py).
FeedPositionDep = Annotated[FeedPosition, Depends(position_of(feed))]


class _BearerPrincipal(HTTPBearer):
    """The caller's identity, as one dependency: being an HTTPBearer it puts the bearer scheme in
    the OpenAPI, and its call authenticates. (An HTTPBearer and the services as sub-dependencies
    of an authenticating function triple FastAPI's dependency solving, the largest part of a
    cached GET.)"""

    async def __call__(self, request: Request) -> str:  # type: ignore[override]
        # async: a hash and a dict lookup (the authenticator remembers tokens) are not worth a thread hop.
        return services_of(request.app).authenticator(request)


# auto_error=False: a missing bearer is our 401 in the HQ shape, not FastAPI's 403.
require_principal = _BearerPrincipal(auto_error=False, scheme_name="HTTPBearer",
                                     description="An admin, service-account or session token.")
