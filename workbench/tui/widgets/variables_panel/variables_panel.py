"""VariablesPanel: the variables of the composer as a table (name, value, source, which wins)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rich.text import Text
from textual.widgets import DataTable

from workbench.core.text import escape_control
from workbench.tui.widgets.variables_panel.layers import VariableRow, variable_rows


class VariablesPanel(DataTable[Text]):
    """One row a variable and layer: ``{{name}}``, its value (secrets masked), where it
    comes from and whether it wins."""

    DEFAULT_CSS = """
    VariablesPanel { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.rows_shown: list[VariableRow] = []

    def on_mount(self) -> None:
        self._columns()

    def _columns(self) -> None:
        if self.columns:
            return
        for label, key in (
            ("Name", "name"),
            ("Value", "value"),
            ("Source", "source"),
            ("", "note"),
        ):
            self.add_column(label, key=key)

    def show(
        self,
        profile: Mapping[str, str],
        collection: Mapping[str, str],
        known_secrets: Iterable[str] = (),
        session: Iterable[VariableRow] = (),
    ) -> None:
        """`session`: the rows of what the session's auth adds (layers.session_rows)."""
        self.rows_shown = [*variable_rows(profile, collection, known_secrets), *session]
        self._columns()
        self.clear()
        for row in self.rows_shown:
            style = "" if row.wins else "dim strike"
            self.add_row(
                Text(
                    escape_control(row.name)
                    if row.source == "session"  # not a {{variable}}: what the auth adds
                    else "{{" + escape_control(row.name) + "}}",
                    style=style,
                ),
                Text(escape_control(row.shown), style=style, overflow="ellipsis", no_wrap=True),
                Text(row.source + (" 🔒" if row.secret else ""), style=style),
                Text(row.note, style="dim"),
            )
