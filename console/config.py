"""The user's console configuration: `config.yaml` in the config dir (theme, keymap)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs
import yaml


def config_dir() -> Path:
    """`$STREAMHQ_CONFIG_DIR`, else the XDG config dir (~/.config/streamhq)."""
    env = os.environ.get("STREAMHQ_CONFIG_DIR")
    return Path(env) if env else Path(platformdirs.user_config_dir("streamhq"))


@dataclass
class ConsoleConfig:
    """`theme`: the last theme chosen. `keymap`: binding id -> key(s), e.g.
    `{"environments.delete": "ctrl+d"}`; `?` in the console lists the ids."""

    theme: str = "streamhq-dark"
    keymap: dict[str, str] = field(default_factory=dict)
    path: Path = field(default_factory=lambda: config_dir() / "config.yaml")

    @classmethod
    def load(cls, path: Path | None = None) -> ConsoleConfig:
        path = path or config_dir() / "config.yaml"
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except FileNotFoundError:
            data = {}
        except yaml.YAMLError as exc:
            raise SystemExit(f"streamhq: {path} is not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise SystemExit(f"streamhq: {path} must hold a mapping (theme:, keymap:)")
        keymap = data.get("keymap") or {}
        return cls(theme=str(data.get("theme", cls.theme)), keymap={str(k): str(v) for k, v in keymap.items()},
                   path=path)

    def save(self) -> None:
        """Writes atomically (a temp file renamed over the old one): a crash never leaves half a file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump({"theme": self.theme, "keymap": self.keymap}, sort_keys=False))
        tmp.replace(self.path)
