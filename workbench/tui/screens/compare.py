"""CompareScreen: two response bodies side by side in words — a JSON-aware diff.

The request history opens it to compare two responses. The diff
(:func:`workbench.core.bodies.diff.diff_bodies`) is computed in a worker thread (a big
body never blocks the UI), then shown in a
:class:`~workbench.tui.widgets.body_diff.body_diff.BodyDiffView` under a summary line
(``JSON-aware · 3 added, 2 removed``). Esc or q closes.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label

from workbench.core.bodies.diff import BodyDiff, diff_bodies
from workbench.core.text import escape_control
from workbench.tui.widgets.body_diff.body_diff import BodyDiffView


class CompareScreen(ModalScreen[None]):
    """The diff of two bodies (``left`` before, ``right`` after); dismisses with None."""

    DEFAULT_CSS = """
    CompareScreen { align: center middle; }
    CompareScreen > #compare-dialog { width: 96%; height: 92%; border: thick $primary;
                                      background: $surface; padding: 0 1; }
    CompareScreen #compare-title { text-style: bold; width: 1fr; }
    CompareScreen #compare-summary { color: $text-accent; width: 1fr; }
    CompareScreen #compare-diff { height: 1fr; }
    CompareScreen #compare-hint { color: $text-muted; width: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="compare.close"),
    ]

    class _Compared(Message):
        def __init__(self, diff: BodyDiff) -> None:
            super().__init__()
            self.diff = diff

    def __init__(
        self,
        left: bytes,
        right: bytes,
        *,
        left_label: str,
        right_label: str,
        content_type: str | None = None,
    ) -> None:
        super().__init__()
        self.left = bytes(left)
        self.right = bytes(right)
        self.left_label = left_label
        self.right_label = right_label
        self.content_type = content_type
        self.result: BodyDiff | None = None
        """The diff, once computed."""

    def compose(self) -> ComposeResult:
        title = f"Compare  − {self.left_label}   + {self.right_label}"
        with Vertical(id="compare-dialog"):
            yield Label(
                Text(escape_control(title), no_wrap=True, overflow="ellipsis"), id="compare-title"
            )
            yield Label("comparing…", id="compare-summary", markup=False)
            yield BodyDiffView(id="compare-diff")
            yield Label(
                "s side by side / unified · n / N next / previous change · Esc or q closes",
                id="compare-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one(BodyDiffView).focus()
        left, right = self.left, self.right
        labels = (self.left_label, self.right_label)
        content_type = self.content_type

        def run() -> None:
            diff = diff_bodies(
                left, right, left_label=labels[0], right_label=labels[1], content_type=content_type
            )
            self.post_message(self._Compared(diff))

        self.run_worker(run, name="compare", group="compare", thread=True, exit_on_error=False)

    def _on_compare_screen__compared(self, message: _Compared) -> None:
        message.stop()
        self.result = message.diff
        self.query_one("#compare-summary", Label).update(message.diff.summary)
        self.query_one(BodyDiffView).set_diff(message.diff)

    @property
    def summary_text(self) -> str:
        return str(self.query_one("#compare-summary", Label).content)

    def action_close(self) -> None:
        self.dismiss(None)
