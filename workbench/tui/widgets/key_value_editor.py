"""KeyValueEditor: query parameters, headers and form fields as small editable text.

One pair a line, ``name: value`` (headers) or ``name=value`` (query, form): the first
separator splits, so values may contain it. Blank lines are ignored and a line starting
with ``#`` is switched off (kept in the text, not sent). Typing is plain text editing, so
the editor needs no mouse and copy/paste of many headers at once just works.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.widgets import TextArea


def parse_pairs(text: str, sep: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(pairs, problems) from ``text``: one ``name<sep>value`` a line."""
    pairs: list[tuple[str, str]] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, found, value = line.partition(sep)
        if not found:
            problems.append(
                f"line {number}: '{_short(line)}' has no '{sep}' between name and value"
            )
            continue
        name = name.strip()
        if not name:
            problems.append(f"line {number}: the name before '{sep}' is empty")
            continue
        pairs.append((name, value.strip()))
    return pairs, problems


def format_pairs(pairs: Iterable[tuple[str, str]], sep: str) -> str:
    space = " " if sep == ":" else ""
    return "\n".join(f"{name}{sep}{space}{value}" for name, value in pairs)


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class KeyValueEditor(TextArea):
    """A TextArea holding ``name<sep>value`` lines; ``pairs`` reads them, ``set_pairs`` writes."""

    DEFAULT_CSS = """
    KeyValueEditor { height: 1fr; min-height: 3; }
    """

    def __init__(
        self,
        sep: str = ":",
        *,
        placeholder: str = "",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(
            soft_wrap=False,
            tab_behavior="focus",
            show_line_numbers=False,
            placeholder=placeholder,
            id=id,
            classes=classes,
        )
        self.sep = sep

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return parse_pairs(self.text, self.sep)[0]

    @property
    def problems(self) -> list[str]:
        return parse_pairs(self.text, self.sep)[1]

    def set_pairs(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.load_text(format_pairs(pairs, self.sep))
