"""Where the server keeps its state and how it behaves, read from flags and the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs


def default_home() -> Path:
    """`$STREAMHQ_HOME`, else the user's XDG data dir."""
    env = os.environ.get("STREAMHQ_HOME")
    return Path(env) if env else Path(platformdirs.user_data_dir("streamhq"))


@dataclass(frozen=True)
class Settings:
    home: Path = field(default_factory=default_home)
    # Accepted as the admin bearer when set; otherwise the stored (hashed) one is used.
    admin_token: str | None = field(default_factory=lambda: os.environ.get("STREAMHQ_ADMIN_TOKEN") or None)
    # A token valid for this process only: the embedded console's session.
    session_token: str | None = None
    sse_ping_seconds: float = 15.0
    sse_replay_events: int = 4096
    # Events held for one subscriber that is not reading; past this it is sent `resync` and dropped.
    sse_subscriber_queue_events: int = 1024
    # The built-in agent: reads each environment's cluster every `agent_interval_seconds`.
    builtin_agent: bool = True
    agent_interval_seconds: float = 5.0
    agent_timeout_seconds: float = 5.0
    # An environment's status is written when a figure changes, and at least this often.
    agent_heartbeat_seconds: float = 15.0
    # The event API: a consumer member nobody calls is closed after this long.
    consumer_ttl_seconds: float = 60.0
    # The K2K controller: starts and supervises the apps' worker processes and reads their metrics.
    k2k_controller: bool = True

    @property
    def database(self) -> Path:
        return self.home / "streamhq.db"
