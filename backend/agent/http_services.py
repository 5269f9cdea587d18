"""Probing the HTTP services an environment reaches: Kafka Connect clusters (how many
connectors) and Redpanda Connect instances (ready or not)."""

from __future__ import annotations

import httpx

from backend.environments.models import HttpAuth


def http_auth(auth: HttpAuth) -> dict:
    """httpx arguments for an HttpAuth."""
    settings = auth.settings
    if auth.kind == "basic":
        return {"auth": (settings.username, settings.password)}
    if auth.kind == "bearer":
        return {"headers": {"Authorization": f"Bearer {settings.token}"}}
    return {}


def count_connectors(urls: list[str], auth: HttpAuth, timeout: float) -> int:
    """Connectors of a Connect cluster, asking its workers in turn until one answers."""
    errors = []
    for url in urls:
        try:
            response = httpx.get(f"{url}/connectors", timeout=timeout, **http_auth(auth))
            response.raise_for_status()
            return len(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            errors.append(f"{url}: {exc}")
    raise ConnectionError("; ".join(errors))


def check_ready(url: str, auth: HttpAuth, timeout: float) -> None:
    try:
        response = httpx.get(f"{url}/ready", timeout=timeout, **http_auth(auth))
    except httpx.HTTPError as exc:
        raise ConnectionError(f"{url}: {exc}") from exc
    if response.status_code != 200:
        raise ConnectionError(f"{url}/ready answered {response.status_code}")
