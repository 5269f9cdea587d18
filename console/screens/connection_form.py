"""ConnectionForm: add or edit one Kafka connection of an environment.

Only the fields of the chosen auth type are shown. Secrets come back from HQ as "***";
leaving them so keeps the stored secret. PEM fields take the PEM text or `@path` to read
it from a file on this machine."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Checkbox, Input, Select

from backend.environments.models import KafkaAuth, KafkaConnection, KafkaConnectionSpec
from backend.models import NAME_RULE, is_valid_name
from console.screens.form import FormDialog

AUTH_TYPES = [
    ("plaintext (no authentication)", "plaintext"),
    ("SASL/PLAIN", "sasl_plain"),
    ("SASL/SCRAM", "sasl_scram"),
    ("TLS (mutual)", "tls"),
]
SASL_FIELDS = ("username", "password")
PEM_FIELDS = ("ca_pem", "cert_pem", "key_pem")


def read_pem(value: str) -> str | None:
    """PEM text as typed, or the contents of `@path`; None when empty."""
    value = value.strip()
    if not value:
        return None
    if value.startswith("@"):
        return Path(value[1:]).expanduser().read_text()
    return value


class ConnectionForm(FormDialog[KafkaConnection | None]):
    DEFAULT_CSS = """
    ConnectionForm .auth-group { height: auto; display: none; }
    ConnectionForm.-sasl .sasl, ConnectionForm.-tls .tls { display: block; }
    """

    def __init__(self, environment: str, existing: KafkaConnection | None = None) -> None:
        super().__init__()
        self.environment = environment
        self.existing = existing
        self.TITLE_TEXT = (f"Edit Kafka connection {existing.name}" if existing else "New Kafka connection") + \
            f" · {environment}"

    def _settings(self) -> dict:
        if self.existing is None:
            return {}
        return self.existing.auth.model_dump().get(self.existing.auth.kind, {})

    def compose_fields(self) -> ComposeResult:
        current = self.existing
        settings = self._settings()
        yield from self.field("name", "Name", Input(current.name if current else "", placeholder="e.g. main",
                                                    id="name", disabled=current is not None))
        yield from self.field(
            "override_broker_addresses", "Bootstrap brokers (host:port, comma-separated)",
            Input(", ".join(current.override_broker_addresses) if current else "",
                  placeholder="broker-1:9092, broker-2:9092", id="override_broker_addresses"),
        )
        yield from self.field("auth", "Authentication",
                              Select(AUTH_TYPES, value=current.auth.kind if current else "plaintext",
                                     allow_blank=False, id="auth"))
        with Vertical(classes="auth-group sasl"):
            yield from self.field("mechanism", "SCRAM mechanism",
                                  Select([(m, m) for m in ("SCRAM-SHA-512", "SCRAM-SHA-256")],
                                         value=settings.get("mechanism", "SCRAM-SHA-512"), allow_blank=False,
                                         id="mechanism"))
            yield from self.field("username", "Username", Input(settings.get("username", ""), id="username"))
            yield from self.field("password", "Password (*** keeps the stored one)",
                                  Input(settings.get("password", ""), password=True, id="password"))
            yield from self.field("tls_on", "Transport", Checkbox("TLS", bool(settings.get("tls")), id="tls_on"))
        with Vertical(classes="auth-group tls"):
            for name, label in zip(PEM_FIELDS, ("CA certificate", "Client certificate", "Client key (***: keep)"),
                                   strict=True):
                yield from self.field(name, f"{label}: PEM text or @path",
                                      Input(settings.get(name) or "", placeholder="@~/certs/file.pem", id=name))

    def on_mount(self) -> None:
        self._show_auth_fields()
        self.query_one("#override_broker_addresses" if self.existing else "#name", Input).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "auth":
            self._show_auth_fields()

    def _auth_type(self) -> str:
        return str(self.query_one("#auth", Select).value)

    def _show_auth_fields(self) -> None:
        kind = self._auth_type()
        self.set_class(kind.startswith("sasl"), "-sasl")
        self.set_class(kind == "tls", "-tls")
        self.query("#mechanism, #label-mechanism").set(display=kind == "sasl_scram")

    def _value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value.strip()

    def field_for(self, server_field: str) -> str:
        # "auth.sasl_plain.password" is shown at the password field
        parts = server_field.split(".")
        return parts[2] if parts[0] == "auth" and len(parts) > 2 else parts[0]

    def check(self) -> dict[str, str]:
        errors = {}
        if not self.existing and not is_valid_name(self._value("name")):
            errors["name"] = f"Name {NAME_RULE}." if self._value("name") else "A name is required."
        if not self._brokers():
            errors["override_broker_addresses"] = "At least one host:port is needed."
        if self._auth_type().startswith("sasl"):
            errors.update({f: f"{f.capitalize()} is required." for f in SASL_FIELDS if not self._value(f)})
        for name in PEM_FIELDS if self._auth_type() == "tls" else ():
            try:
                read_pem(self._value(name))
            except OSError as exc:
                errors[name] = f"Cannot read the file: {exc.strerror or exc}"
        return errors

    def _brokers(self) -> list[str]:
        return [b.strip() for b in self._value("override_broker_addresses").split(",") if b.strip()]

    def _auth(self) -> KafkaAuth:
        kind = self._auth_type()
        if kind == "plaintext":
            return KafkaAuth.model_validate({"plaintext": {}})
        if kind == "tls":
            return KafkaAuth.model_validate({"tls": {name: read_pem(self._value(name)) for name in PEM_FIELDS}})
        settings = {"username": self._value("username"), "password": self._value("password"),
                    "tls": self.query_one("#tls_on", Checkbox).value}
        if kind == "sasl_scram":
            settings["mechanism"] = self.query_one("#mechanism", Select).value
        return KafkaAuth.model_validate({kind: settings})

    async def save(self) -> KafkaConnection:
        name = self.existing.name if self.existing else self._value("name")
        # Built without validation: the server is the one judge of the values, and its
        # answer names the field at fault.
        spec = KafkaConnectionSpec.model_construct(override_broker_addresses=self._brokers(), auth=self._auth())
        return await self.app.client.put_connection(self.environment, name, spec)
