"""The jump-mode overlay: labels drawn over the screen below; a label's key picks its target."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Static


class JumpOverlay(ModalScreen[Widget | None]):
    """Shows ``labelled`` (``[(label, target, x, y)]``, screen cells) as one-character labels
    over the screen below. The key of a label dismisses it with that target; Escape or any
    other key dismisses it with None (nothing changes)."""

    DEFAULT_CSS: ClassVar[str] = """
    JumpOverlay { background: $background 0%; align: left top; }
    JumpOverlay > .jump-label {
        position: absolute; width: 3; height: 1;
        background: $accent; color: $text; text-style: bold;
    }
    JumpOverlay > #jump-hint {
        dock: bottom; width: 100%; height: 1; padding: 0 1;
        background: $accent 60%; color: $text;
    }
    """

    def __init__(self, labelled: Sequence[tuple[str, Widget, int, int]]) -> None:
        super().__init__()
        self.labelled = list(labelled)
        self.targets: dict[str, Widget] = {label: target for label, target, _, _ in labelled}

    def compose(self) -> ComposeResult:
        for label, _, x, y in self.labelled:
            mark = Static(f" {label} ", classes="jump-label", markup=False)
            mark.styles.offset = (x, y)
            yield mark
        yield Static(
            "jump: press a label to focus that control · any other key cancels",
            id="jump-hint",
            markup=False,
        )

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        self.dismiss(self.targets.get(event.character or ""))
