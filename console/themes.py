"""Themes: one YAML file each, from the built-in `themes/` folder and the user's
`~/.config/streamhq/themes/`. A user theme with the same name overrides a built-in one."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import yaml
from textual.theme import Theme

from console.config import config_dir

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "themes"
_THEME_FIELDS = {f.name for f in fields(Theme)}


@dataclass(frozen=True)
class ThemeProblem:
    path: Path
    reason: str


def user_theme_dir() -> Path:
    return config_dir() / "themes"


def load_themes(*dirs: Path) -> tuple[list[Theme], list[ThemeProblem]]:
    """Every valid theme in `dirs` (later dirs win on a name clash), and what was wrong
    with the files that are not."""
    found: dict[str, Theme] = {}
    problems: list[ThemeProblem] = []
    for directory in dirs:
        for path in sorted(directory.glob("*.y*ml")):
            try:
                theme = _theme_from(path)
            except (OSError, ValueError, TypeError, yaml.YAMLError) as exc:
                problems.append(ThemeProblem(path, str(exc)))
                continue
            found[theme.name] = theme
    return list(found.values()), problems


def _theme_from(path: Path) -> Theme:
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise ValueError("a theme file holds a mapping of Textual theme fields")
    unknown = set(data) - _THEME_FIELDS
    if unknown:
        raise ValueError(f"unknown theme fields: {', '.join(sorted(unknown))}")
    data.setdefault("name", path.stem)
    if "primary" not in data:
        raise ValueError("a theme needs at least 'primary'")
    return Theme(**data)
