"""ExpiryBar: the token inspector's one-line bar of a token's lifetime used."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.widget import Widget


class ExpiryBar(Widget):
    """A one-line bar of the lifetime used: green, yellow in the refresh window, red expired."""

    DEFAULT_CSS = "ExpiryBar { height: 1; width: 1fr; }"
    STYLES: ClassVar[dict[str, str]] = {"ok": "green", "refresh": "yellow", "expired": "red"}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fraction = 0.0
        self.state = "ok"
        self.words = ""

    def set(self, fraction: float, state: str, words: str) -> None:
        if (fraction, state, words) != (self.fraction, self.state, self.words):
            self.fraction, self.state, self.words = fraction, state, words
            self.refresh()

    def render(self) -> Text:
        label = f" {self.words}"
        width = max(10, self.size.width - len(label) - 12)
        filled = round(self.fraction * width)
        style = self.STYLES.get(self.state, "green")
        out = Text()
        out.append(f"{'Used':<12}", style="bold")
        out.append("━" * filled, style=style)
        out.append("─" * (width - filled), style="dim")
        out.append(label, style=style if self.state != "ok" else "")
        return out
