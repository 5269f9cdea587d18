"""EnvironmentForm: create an environment (name, display name, tier, metadata) or edit one."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, Select

from backend.environments.models import (
    Environment,
    EnvironmentCreate,
    EnvironmentPatch,
    EnvironmentWithKey,
    Tier,
)
from backend.models import NAME_RULE, is_valid_name
from console.screens.form import FormDialog


def parse_metadata(text: str) -> dict[str, str]:
    """`key=value, key2=value2` -> dict; raises ValueError naming the bad pair."""
    pairs = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{item!r} is not key=value")
        pairs[key.strip()] = value.strip()
    return pairs


def format_metadata(metadata: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in metadata.items())


class EnvironmentForm(FormDialog[Environment | EnvironmentWithKey | None]):
    def __init__(self, existing: Environment | None = None) -> None:
        super().__init__()
        self.existing = existing
        self.TITLE_TEXT = f"Edit environment {existing.name}" if existing else "New environment"

    def compose_fields(self) -> ComposeResult:
        current = self.existing
        yield from self.field(
            "name", "Name", Input(current.name if current else "", placeholder="e.g. prod-eu-1", id="name",
                                  disabled=current is not None)
        )
        yield from self.field(
            "display_name", "Display name (defaults to the name)",
            Input(current.display_name if current else "", placeholder="Production EU", id="display_name"),
        )
        yield from self.field(
            "tier", "Tier",
            Select([(t.value, t.value) for t in Tier], value=current.tier.value if current else Tier.development.value,
                   allow_blank=False, id="tier"),
        )
        yield from self.field(
            "metadata", "Metadata (key=value, comma-separated)",
            Input(format_metadata(current.metadata) if current else "", placeholder="team=payments, region=eu-west-1",
                  id="metadata"),
        )

    def on_mount(self) -> None:
        self.query_one("#display_name" if self.existing else "#name", Input).focus()

    def _value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value.strip()

    def check(self) -> dict[str, str]:
        errors = {}
        if not self.existing and not is_valid_name(self._value("name")):
            errors["name"] = f"Name {NAME_RULE}." if self._value("name") else "A name is required."
        try:
            parse_metadata(self._value("metadata"))
        except ValueError as exc:
            errors["metadata"] = str(exc)
        return errors

    async def save(self) -> Environment | EnvironmentWithKey:
        tier = Tier(self.query_one("#tier", Select).value)
        metadata = parse_metadata(self._value("metadata"))
        client = self.app.client
        if self.existing is None:
            body = EnvironmentCreate(name=self._value("name"), display_name=self._value("display_name") or None,
                                     tier=tier, metadata=metadata)
            return await client.create_environment(body)
        removed = {key: None for key in self.existing.metadata if key not in metadata}
        patch = EnvironmentPatch(display_name=self._value("display_name") or self.existing.name, tier=tier,
                                 metadata={**metadata, **removed})
        return await client.patch_environment(self.existing.name, patch)
