"""create_app(settings) -> the HQ FastAPI application: its services, routers, auth, error handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from backend.agent.link import BuiltInLinks
from backend.agent.supervisor import AgentSupervisor
from backend.auth import Authenticator
from backend.bodies.dependencies import hoist_body_schemas
from backend.deps import Services
from backend.environments.proxy import describe_agent_routes
from backend.environments.proxy import router as proxy_router
from backend.environments.routes import router as environments_router
from backend.environments.service import EnvironmentService, rendered_collections
from backend.errors import RequestIdMiddleware, install_error_handlers
from backend.feed import ChangeFeed
from backend.k2k.controller import K2KController
from backend.k2k.routes import live_router as k2k_live_router
from backend.k2k.routes import router as k2k_router
from backend.k2k.service import K2KService
from backend.openapi import without_fastapi_422
from backend.rendered import RenderedCache
from backend.settings import Settings
from backend.store import SQLiteStore, Store

VERSION = "0.1.0"

# Seeds address the environment API under both prefixes; both serve the same routes.
ENVIRONMENT_PREFIXES = ("/v1", "/api/v1")


def create_app(settings: Settings, store: Store | None = None, feed: ChangeFeed | None = None) -> FastAPI:
    feed = feed or ChangeFeed(settings.sse_replay_events, settings.sse_subscriber_queue_events)
    store = store or SQLiteStore(settings.database, publish=feed.publish)

    agents = AgentSupervisor(store, interval=settings.agent_interval_seconds, timeout=settings.agent_timeout_seconds,
                             heartbeat=settings.agent_heartbeat_seconds, sse_ping_seconds=settings.sse_ping_seconds,
                             consumer_ttl_seconds=settings.consumer_ttl_seconds)
    k2k = K2KController(store, settings.home, feed.publish)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.builtin_agent:
            agents.start()
        if settings.k2k_controller:
            k2k.start()
        yield
        if settings.k2k_controller:
            k2k.stop()
        if settings.builtin_agent:
            agents.stop()
        await agents.upstreams.aclose()
        store.close()

    app = FastAPI(
        title="streamhq HQ API",
        version=VERSION,
        docs_url=None,  # the console is the UI; ops hosts are often offline for a CDN-hosted Swagger page
        redoc_url=None,
        lifespan=lifespan,
        # A 307 to the slash-less path would send a script's bearer to a Location built from the Host header
        # (behind a TLS proxy: plain http), and neither httpx nor curl follows it unasked: the slash form
        # is a 404 that says so instead (backend/errors.py).
        redirect_slashes=False,
    )
    authenticator = Authenticator(store, settings.session_token)
    feed.observe(authenticator.observe)
    rendered = RenderedCache(*rendered_collections(store))
    feed.observe(rendered.apply)
    app.state.services = Services(
        settings=settings,
        feed=feed,
        store=store,
        authenticator=authenticator,
        environments=EnvironmentService(store),
        k2k=K2KService(store, k2k),
        agents=agents,
        rendered=rendered,
        agent_links=BuiltInLinks(agents.agent_context) if settings.builtin_agent else None,
    )

    install_error_handlers(app)
    app.add_middleware(RequestIdMiddleware)

    @app.get("/health", tags=["meta"], summary="Liveness; needs no token")
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": VERSION}

    for prefix in ENVIRONMENT_PREFIXES:
        app.include_router(environments_router, prefix=prefix)
        app.include_router(proxy_router, prefix=prefix)
    app.include_router(k2k_router)
    app.include_router(k2k_live_router)

    def openapi() -> dict:
        if app.openapi_schema is None:
            described = get_openapi(title=app.title, version=app.version, routes=app.routes)
            app.openapi_schema = without_fastapi_422(describe_agent_routes(hoist_body_schemas(described),
                                                                           ENVIRONMENT_PREFIXES))
        return app.openapi_schema

    app.openapi = openapi
    return app
