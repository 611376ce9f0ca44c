"""Small modal dialogs shared by the widgets: a yes/no question (ConfirmScreen), one line of
input (AskScreen), and DIALOG_CSS, the look every small dialog shares."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

DIALOG_CSS = """
{name} { align: center middle; }
{name} > #dialog { width: 80%; max-width: 90; height: auto; max-height: 90%;
                   border: thick $primary; background: $surface; padding: 0 1; }
{name} .buttons { height: 1; margin-top: 1; }
{name} .buttons Button { margin-right: 2; }
{name} .error { color: $text-error; height: auto; max-height: 6; }
"""


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question: y / Enter on Yes answer yes; n / Esc answer no."""

    DEFAULT_CSS = DIALOG_CSS.replace("{name}", "ConfirmScreen")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str, *, yes: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.question, id="confirm-question", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(f"{self.yes} (y)", id="confirm-yes", variant="error", compact=True)
                yield Button("No (n)", id="confirm-no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")


class AskScreen(ModalScreen[str | None]):
    """One line of input (a path, or a secret with password=True); Esc cancels.

    ``check(value)`` may return an error in words: it is shown and the dialog stays."""

    DEFAULT_CSS = DIALOG_CSS.replace("{name}", "AskScreen")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="ask.cancel"),
    ]

    def __init__(
        self,
        label: str,
        *,
        value: str = "",
        password: bool = False,
        check: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__()
        self.label = label
        self.value = value
        self.password = password
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.label, classes="title", markup=False)
            yield Input(self.value, password=self.password, id="ask-input")
            yield Static("", id="ask-error", classes="error", markup=False)

    def on_mount(self) -> None:
        self.query_one("#ask-input", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip() if not self.password else event.value
        problem = self.check(value) if self.check else None
        if problem:
            self.query_one("#ask-error", Static).update(problem)
            return
        self.dismiss(value)
