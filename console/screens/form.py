"""FormDialog: the frame of every create/edit dialog.

Each field has an error line under it. Client-side checks run first; then `save()` talks
to the server, and a 400's `invalid_fields` are shown under the fields they name, so the
user fixes them where they typed. Nothing typed is lost on an error: the dialog stays open.
"""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

from pydantic import ValidationError
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static

from backend.models import invalid_fields_from
from console.client import APIError, Unreachable

Result = TypeVar("Result")


class FormDialog(ModalScreen[Result], Generic[Result]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "submit", "Save", id="form.save"),
    ]

    DEFAULT_CSS = """
    FormDialog { align: center middle; }
    FormDialog > VerticalScroll {
        width: 76; height: auto; max-height: 90%;
        padding: 1 2; border: thick $primary; background: $surface;
    }
    FormDialog .title { text-style: bold; margin-bottom: 1; }
    FormDialog .field-label { margin-top: 1; color: $text-muted; }
    FormDialog Input, FormDialog Select { background: $panel; }
    FormDialog Input:focus, FormDialog Select:focus-within { background: $boost; text-style: bold; }
    FormDialog .field-error { color: $error; height: auto; display: none; }
    FormDialog #form-error { color: $error; margin-top: 1; display: none; }
    FormDialog .buttons { height: auto; margin-top: 1; align-horizontal: right; }
    FormDialog Button { margin-left: 2; }
    FormDialog .hint { color: $text-muted; margin-top: 1; }
    """

    TITLE_TEXT: ClassVar[str] = ""
    busy = False

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label(self.TITLE_TEXT, classes="title")
            yield from self.compose_fields()
            yield Static(id="form-error")
            yield Static("enter or ctrl+s: save    esc: cancel", classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Save", variant="primary", id="save", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def compose_fields(self) -> ComposeResult:
        raise NotImplementedError

    @staticmethod
    def field(name: str, label: str, widget: Widget) -> ComposeResult:
        """A labelled field whose error line is `#error-<name>`; compact, so that forms fit 80x24."""
        if hasattr(widget, "compact"):
            widget.compact = True
        yield Label(label, classes="field-label", id=f"label-{name}")
        yield widget
        yield Static(classes="field-error", id=f"error-{name}")

    def check(self) -> dict[str, str]:
        """Client-side checks: field name -> message. Override."""
        return {}

    async def save(self) -> Result:
        raise NotImplementedError

    def field_for(self, server_field: str) -> str:
        """Which form field shows the server's `invalid_fields[].name`. Override when they differ."""
        return server_field.split(".")[0]

    def show_errors(self, errors: dict[str, str], general: str = "") -> None:
        for line in self.query(".field-error"):
            _say(line, "")
        unplaced = []
        for name, message in errors.items():
            lines = self.query(f"#error-{self.field_for(name)}")
            if lines:
                _say(lines.first(Static), message)
            else:
                unplaced.append(f"{name}: {message}")
        _say(self.query_one("#form-error", Static), "\n".join(filter(None, [general, *unplaced])))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.run_worker(self.action_submit(), exclusive=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.run_worker(self.action_submit(), exclusive=True)
        else:
            self.dismiss(None)

    async def action_submit(self) -> None:
        if self.busy:
            return
        errors = self.check()
        self.show_errors(errors)
        if errors:
            return
        self.busy = True
        save = self.query_one("#save", Button)
        save.label, save.disabled = "Saving…", True
        try:
            result = await self.save()
        except ValidationError as exc:  # the request body's own model refused a value
            self.show_errors({f.name: f.title for f in invalid_fields_from(list(exc.errors()))})
        except APIError as exc:
            self.show_errors(exc.field_errors(), general=exc.title if not exc.invalid_fields else "")
        except Unreachable as exc:
            self.show_errors({}, general=f"{exc}. Nothing was saved; try again.")
        else:
            self.dismiss(result)
            return
        finally:
            self.busy = False
            save.label, save.disabled = "Save", False

    def action_cancel(self) -> None:
        self.dismiss(None)


def _say(line: Static, message: str) -> None:
    line.update(message)
    line.display = bool(message)
