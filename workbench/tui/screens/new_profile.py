"""Make a new profile from a platform template (written to the user profiles dir)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from workbench.core.errors import WorkbenchError
from workbench.core.profile_templates import TEMPLATES, create_profile
from workbench.core.text import escape_control, escape_keep_newlines


class NewProfileScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="newprofile.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("New profile from a template", classes="title")
            yield Select(
                [(p, p) for p in TEMPLATES], value="thinger", allow_blank=False, id="np-platform"
            )
            yield Input(placeholder="profile name, e.g. my-thinger", id="np-name")
            yield Label("", id="np-error", classes="error")
            yield Button("Create", variant="primary", id="np-create")

    @on(Button.Pressed, "#np-create")
    @on(Input.Submitted, "#np-name")
    def create(self) -> None:
        name = self.query_one("#np-name", Input).value.strip()
        platform = str(self.query_one("#np-platform", Select).value)
        try:
            path = create_profile(name, platform)
        except WorkbenchError as err:
            self.query_one("#np-error", Label).update(Text(escape_keep_newlines(err.describe())))
            return
        self.notify(
            escape_control(f"created {path} — edit its URLs and secret references"),
            timeout=6,
            markup=False,
        )
        self.dismiss(str(path))
