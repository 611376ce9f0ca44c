"""The dialogs that edit a saved request's captures and expectations (``e`` in the
Collections tab): :class:`ChecksScreen` lists them (a add, Enter edit, d delete, Ctrl+S
save, Esc cancel) and :class:`CheckScreen` edits one (kind, name/path/header, operator,
value). The rules are the file's: every edit goes through
:func:`workbench.core.collection.expectations.edit_checks`, and a mistake is said in words
in the dialog, which stays open. Nothing is written here: ChecksScreen returns the new
captures and expectations, and the browser saves them (format-preserving)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from workbench.core.collection.expectations import (
    CHECK_KINDS,
    HEADER_OPS,
    JSON_OPS,
    CheckItem,
    Expect,
    check_items,
    edit_checks,
    remove_check,
)
from workbench.core.errors import WorkbenchError
from workbench.core.text import escape_control, escape_keep_newlines
from workbench.tui.widgets.dialogs import DIALOG_CSS

KIND_HINTS = {
    "capture": ("variable", "source: $.json.path or header:Name"),
    "status": ("", "status: 200, several (200, 204) or a class (2xx)"),
    "header": ("header name", "value (exists: true / false)"),
    "json": ("JSON path ($.a.b)", 'value as JSON: 30, "on", true, [1, 2] (exists: true / false)'),
    "exists": ("", "a JSON path ($.a) or header:Name that must be there"),
    "time": ("", "the most milliseconds the answer may take (500)"),
}

Checks = tuple[dict[str, str], Expect]


def check_problem(
    captures: Mapping[str, str], expect: Expect, item: CheckItem, replacing: CheckItem | None
) -> str | None:
    """Why `item` cannot be saved (None: it can), in words."""
    try:
        edit_checks(captures, expect, item, replacing=replacing)
    except WorkbenchError as err:
        return err.describe()
    return None


class CheckScreen(ModalScreen[CheckItem | None]):
    """One capture or expectation: kind, name / path / header, operator, value."""

    DEFAULT_CSS = DIALOG_CSS.replace("{name}", "CheckScreen") + (
        "CheckScreen Select { width: 1fr; } CheckScreen .row { height: auto; }"
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="check.cancel"),
    ]

    def __init__(self, item: CheckItem | None, problem: Callable[[CheckItem], str | None]) -> None:
        super().__init__()
        self.item = item
        self.problem = problem

    def compose(self) -> ComposeResult:
        item = self.item or CheckItem("json", "$", "equals", "")
        with Vertical(id="dialog"):
            yield Label(
                "Edit the check" if self.item is not None else "Add a capture or a check",
                classes="title",
            )
            with Horizontal(classes="row"):
                yield Select(
                    [(k, k) for k in CHECK_KINDS],
                    value=item.kind,
                    allow_blank=False,
                    id="check-kind",
                    compact=True,
                )
                yield Select(
                    [(o, o) for o in JSON_OPS],
                    value=item.op or "equals",
                    allow_blank=False,
                    id="check-op",
                    compact=True,
                )
            yield Label("", id="check-target-label")
            yield Input(item.target, id="check-target")
            yield Label("", id="check-value-label")
            yield Input(item.value, id="check-value")
            yield Static("", id="check-error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("OK (Enter)", id="check-ok", variant="primary", compact=True)
                yield Button("Cancel (Esc)", id="check-cancel", compact=True)

    def on_mount(self) -> None:
        self._kind_changed(self.query_one("#check-kind", Select).value)
        self.query_one("#check-value", Input).focus()

    @on(Select.Changed, "#check-kind")
    def _kind_select(self, event: Select.Changed) -> None:
        self._kind_changed(event.value)

    def _kind_changed(self, kind: Any) -> None:
        kind = str(kind)
        target_hint, value_hint = KIND_HINTS.get(kind, ("", ""))
        op = self.query_one("#check-op", Select)
        ops = HEADER_OPS if kind == "header" else JSON_OPS
        if kind in ("header", "json"):
            current = op.value if op.value in ops else "equals"
            op.set_options([(o, o) for o in ops])
            op.value = current
        op.display = kind in ("header", "json")
        for wid in ("#check-target", "#check-target-label"):
            self.query_one(wid).display = bool(target_hint)
        self.query_one("#check-target-label", Label).update(target_hint)
        self.query_one("#check-value-label", Label).update(value_hint)

    def current(self) -> CheckItem:
        kind = str(self.query_one("#check-kind", Select).value)
        op = str(self.query_one("#check-op", Select).value) if kind in ("header", "json") else ""
        target = self.query_one("#check-target", Input).value if KIND_HINTS[kind][0] else ""
        return CheckItem(kind, target.strip(), op, self.query_one("#check-value", Input).value)

    @on(Button.Pressed, "#check-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    @on(Button.Pressed, "#check-ok")
    def _ok(self, event: Input.Submitted | Button.Pressed) -> None:
        event.stop()
        item = self.current()
        problem = self.problem(item)
        if problem:
            self.query_one("#check-error", Static).update(escape_keep_newlines(problem))
            return
        self.dismiss(item)


class ChecksScreen(ModalScreen[Checks | None]):
    """The captures and expectations of one request; Ctrl+S returns them, Esc drops the edits."""

    DEFAULT_CSS = DIALOG_CSS.replace("{name}", "ChecksScreen") + (
        "ChecksScreen > #dialog { max-width: 110; } "
        "ChecksScreen #checks-table { height: auto; max-height: 16; } "
        "ChecksScreen #checks-keys { color: $text-muted; }"
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add", id="checks.add"),
        Binding("d,delete", "remove", "Delete", id="checks.delete"),
        Binding("ctrl+s", "save", "Save", id="checks.save"),
        Binding("escape", "cancel", "Cancel", id="checks.cancel"),
    ]

    def __init__(self, request_name: str, captures: Mapping[str, str], expect: Expect) -> None:
        super().__init__()
        self.request_name = request_name
        self.captures = dict(captures)
        self.expect = expect
        self.changed = False

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(
                f"Captures and expectations of '{escape_control(self.request_name)}'",
                classes="title",
                markup=False,
            )
            table: DataTable[str] = DataTable(id="checks-table", cursor_type="row")
            table.add_column("kind", key="kind", width=8)
            table.add_column("name / path / header", key="target")
            table.add_column("check", key="check")
            yield table
            yield Static(
                "a add · Enter edit · d delete · Ctrl+S save · Esc cancel",
                id="checks-keys",
                markup=False,
            )
            yield Static("", id="checks-error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save (Ctrl+S)", id="checks-save", variant="primary", compact=True)
                yield Button("Cancel (Esc)", id="checks-cancel", compact=True)

    def on_mount(self) -> None:
        self.refresh_rows()
        self.query_one("#checks-table", DataTable).focus()

    def items(self) -> list[CheckItem]:
        return check_items(self.captures, self.expect)

    def refresh_rows(self, row: int | None = None) -> None:
        table: DataTable[str] = self.query_one("#checks-table", DataTable)
        table.clear()
        for item in self.items():
            if item.kind in ("header", "json"):
                what = f"{item.op} {item.value}"
            elif item.kind == "capture":
                what = f"= {item.value}"
            else:
                what = item.value
            table.add_row(
                escape_control(item.kind), escape_control(item.target), escape_control(what)
            )
        if not table.row_count:
            self.query_one("#checks-error", Static).update(
                "no captures or expectations: any answer passes (a adds one)"
            )
        else:
            self.query_one("#checks-error", Static).update("")
        if row is not None and table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))

    def selected_item(self) -> CheckItem | None:
        table: DataTable[str] = self.query_one("#checks-table", DataTable)
        items = self.items()
        row = table.cursor_row
        return items[row] if table.row_count and 0 <= row < len(items) else None

    def _apply(self, item: CheckItem, replacing: CheckItem | None) -> None:
        self.captures, self.expect = edit_checks(
            self.captures, self.expect, item, replacing=replacing
        )
        self.changed = True
        self.refresh_rows(self.items().index(item) if item in self.items() else None)

    def action_add(self) -> None:
        def added(item: CheckItem | None) -> None:
            if item is not None:
                self._apply(item, None)

        self.app.push_screen(
            CheckScreen(None, lambda i: check_problem(self.captures, self.expect, i, None)), added
        )

    @on(DataTable.RowSelected, "#checks-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.edit_selected()

    def edit_selected(self) -> None:
        old = self.selected_item()
        if old is None:
            self.action_add()
            return

        def edited(item: CheckItem | None) -> None:
            if item is not None:
                self._apply(item, old)

        self.app.push_screen(
            CheckScreen(old, lambda i: check_problem(self.captures, self.expect, i, old)), edited
        )

    def action_remove(self) -> None:
        item = self.selected_item()
        if item is None:
            self.notify("nothing to delete", severity="warning")
            return
        row = self.query_one("#checks-table", DataTable).cursor_row
        self.captures, self.expect = remove_check(self.captures, self.expect, item)
        self.changed = True
        self.refresh_rows(row)

    @on(Button.Pressed, "#checks-save")
    def action_save(self) -> None:
        self.dismiss((self.captures, self.expect) if self.changed else None)

    @on(Button.Pressed, "#checks-cancel")
    def action_cancel(self) -> None:
        if self.changed:
            self.notify("the edits were dropped (Ctrl+S saves them)", severity="warning")
        self.dismiss(None)
