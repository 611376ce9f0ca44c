"""F1 names every key a user needs: the response's and the body's keys, the history, the
API view, the collections sidebar, jump mode (each with what it does)."""

from __future__ import annotations

import re

from textual.widgets import Static

from tests.tui.helpers import until
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.help import HelpScreen

NEEDED = [
    # the response view
    r"\be\b +Sent",
    r"\bf or / +search",
    r"\bn / N +next / previous match",
    r"\bw +wrap",
    r"\bs +save the body",
    r"\bh +headers / body",
    # the body
    r"\bv +select lines",
    r"\by or c +copy",
    r"\bp +copy the line's JSONPath",
    r"\bP +copy its JSON value",
    r"\bY +the selection to a private file",
    # history, compare
    r"F4 / H +request history",
    r"\[b\]History\[/b\]",
    r"space +mark",
    r"\bd +compare the two marked",
    # the API view, the sidebar, jump mode, curl
    r"\ba +API view",
    r"\[b\]API view\[/b\]",
    r"F3 +collections sidebar",
    r"Ctrl\+G +jump mode",
    r"Ctrl\+O +paste a curl",
]


async def test_f1_lists_the_keys_of_every_view() -> None:
    app = WorkbenchApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f1")
        screen = await until(
            pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen, what="help"
        )
        prose = screen.query(Static).first()
        text = str(prose.content)
        missing = [pattern for pattern in NEEDED if not re.search(pattern, text)]
        assert not missing
