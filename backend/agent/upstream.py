"""The one HTTP client the agent calls its upstreams with (Kafka Connect workers, Redpanda
Connect instances): one bounded connection pool per process, URL failover over a resource's
workers, its HTTP auth, bounded timeouts, and failures raised as errors that name the upstream.

Failover moves to the next URL only when a worker could not be reached (refused, unresolvable,
no connection in time): a request that reached a worker is never sent again, so an HTTP error
status, or a worker that took the request and then went quiet, is the answer."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from backend.environments.models import ConnectClusterSpec, HttpAuth, RedpandaConnectSpec

# A worker that does not accept a connection in this time is taken as down, whatever the
# read timeout: failing over to the next one should not wait a whole request's worth. A request
# waits as long for a free connection of the pool.
CONNECT_TIMEOUT = 3.0
MAX_CONNECTIONS = 32
MAX_KEEPALIVE_CONNECTIONS = 16
KEEPALIVE_SECONDS = 30.0


class UpstreamError(Exception):
    """An upstream did not give an answer: which one (`upstream`), at which URL, and what happened."""

    def __init__(self, upstream: str, url: str, reason: str) -> None:
        super().__init__(f"{upstream} at {url}: {reason}")
        self.upstream = upstream
        self.url = url
        self.reason = reason

    @property
    def detail(self) -> str:
        """The message without the upstream's name, for callers that already say which it is."""
        return f"{self.url}: {self.reason}"


class UpstreamUnreachable(UpstreamError):
    """No URL of the upstream took a connection (an agent route answers 502)."""


class UpstreamTimeout(UpstreamError):
    """The upstream took the request but did not answer in time (an agent route answers 504)."""


class UpstreamStatusError(UpstreamError):
    """The upstream answered with an error status; `response` is its answer, read in full."""

    def __init__(self, upstream: str, url: str, response: httpx.Response) -> None:
        super().__init__(upstream, url, f"answered HTTP {response.status_code}")
        self.response = response


class BearerToken(httpx.Auth):
    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request):
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


def httpx_auth(auth: HttpAuth) -> httpx.Auth | None:
    settings = auth.settings
    if auth.kind == "basic":
        return httpx.BasicAuth(settings.username, settings.password)
    if auth.kind == "bearer":
        return BearerToken(settings.token)
    return None


def _reason(exc: httpx.HTTPError, timeout: httpx.Timeout) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"no connection within {timeout.connect:g}s"
    if isinstance(exc, httpx.PoolTimeout):
        return f"no free connection in the agent's pool within {timeout.pool:g}s"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout.read:g}s"
    return str(exc) or type(exc).__name__


class _Failover:
    """The bookkeeping of one call across an upstream's URLs, shared by the sync and async paths."""

    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream
        self.failures: list[tuple[str, str]] = []

    def failed(self, url: str, exc: httpx.HTTPError) -> None:
        """Record a failure to reach `url` and carry on with the next URL, or raise the error
        that ends the call."""
        reason = _reason(exc, self.upstream.pool.timeout)
        if not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            raise (UpstreamTimeout if isinstance(exc, httpx.TimeoutException) else UpstreamError)(
                self.upstream.name, url, reason) from exc
        self.failures.append((url, reason))

    def exhausted(self) -> UpstreamUnreachable:
        if len(self.failures) == 1:
            return UpstreamUnreachable(self.upstream.name, *self.failures[0])
        each = "; ".join(f"{url}: {reason}" for url, reason in self.failures)
        urls = ", ".join(self.upstream.urls)
        return UpstreamUnreachable(self.upstream.name, urls, f"no URL took a connection ({each})")


@dataclass(frozen=True)
class Upstream:
    """One HTTP service as the agent reaches it: a name for people, its URLs in failover order
    and its auth. Calls go through the pool's shared clients."""

    pool: UpstreamPool
    name: str
    urls: tuple[str, ...]
    auth: httpx.Auth | None

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        """`method path` on the first URL that takes a connection; any status is returned."""
        failover = _Failover(self)
        for url in self.urls:
            try:
                return self.pool.client.request(method, url + path, auth=self.auth, **kwargs)
            except httpx.HTTPError as exc:
                failover.failed(url, exc)
        raise failover.exhausted()

    async def arequest(self, method: str, path: str, **kwargs) -> httpx.Response:
        """`request` for async callers (agent routes), on the pool's async client."""
        failover = _Failover(self)
        for url in self.urls:
            try:
                return await self.pool.async_client.request(method, url + path, auth=self.auth, **kwargs)
            except httpx.HTTPError as exc:
                failover.failed(url, exc)
        raise failover.exhausted()

    def checked(self, response: httpx.Response) -> httpx.Response:
        """The response, or UpstreamStatusError when it is an error status."""
        if response.is_error:
            raise UpstreamStatusError(self.name, str(response.url), response)
        return response

    def get_json(self, path: str):
        response = self.checked(self.request("GET", path))
        try:
            return response.json()
        except ValueError as exc:
            raise UpstreamError(self.name, str(response.url), "answered with a body that is not JSON") from exc


class UpstreamPool:
    """The agent's HTTP clients: one for threads (the probes), one for the event loop (agent
    routes), sharing one set of bounds. The pool's size is fixed here, never by a caller: a
    burst of requests waits up to the pool timeout for a connection, then fails naming it."""

    def __init__(self, timeout: float, *, max_connections: int = MAX_CONNECTIONS,
                 connect_timeout: float = CONNECT_TIMEOUT) -> None:
        connect_timeout = min(timeout, connect_timeout)
        self.timeout = httpx.Timeout(timeout, connect=connect_timeout, pool=connect_timeout)
        self.limits = httpx.Limits(max_connections=max_connections,
                                   max_keepalive_connections=min(max_connections, MAX_KEEPALIVE_CONNECTIONS),
                                   keepalive_expiry=KEEPALIVE_SECONDS)
        self.client = httpx.Client(timeout=self.timeout, limits=self.limits)
        self._async_client: httpx.AsyncClient | None = None

    @property
    def async_client(self) -> httpx.AsyncClient:
        # Made on first use, so that it belongs to the event loop of the agent routes that use it.
        if self._async_client is None:
            self._async_client = httpx.AsyncClient(timeout=self.timeout, limits=self.limits)
        return self._async_client

    def upstream(self, name: str, urls: list[str], auth: HttpAuth) -> Upstream:
        return Upstream(self, name, tuple(urls), httpx_auth(auth))

    def connect_cluster(self, name: str, spec: ConnectClusterSpec) -> Upstream:
        return self.upstream(f"Kafka Connect {name}", spec.urls, spec.auth)

    def redpanda_connect(self, name: str, spec: RedpandaConnectSpec) -> Upstream:
        return self.upstream(f"Redpanda Connect {name}", [spec.url], spec.auth)

    def close(self) -> None:
        """Closes the threads' client; `aclose` closes the event loop's, on that loop."""
        self.client.close()

    async def aclose(self) -> None:
        async_client, self._async_client = self._async_client, None
        if async_client is not None:
            await async_client.aclose()
