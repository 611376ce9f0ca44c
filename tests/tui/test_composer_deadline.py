"""Issue 11 "Hangs": the composer shows a request's total deadline while it waits, and a
server that trickles its body is stopped at that deadline with words (before: the send
worker waited as long as the trickle lasted; only Esc ended it).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from textual.widgets import Label, Static

from tests.hostile_server import HostileServer, trickle
from tests.tui.helpers import ComposerHost as Host
from tests.tui.helpers import until
from workbench.core.profiles import load_profile
from workbench.core.requests import RequestSpec
from workbench.core.session import Session


async def test_composer_shows_the_deadline_and_stops_a_trickle_at_it(tmp_path: Path) -> None:
    with HostileServer(trickle(threading.Event())) as server:
        path = tmp_path / "slow.toml"
        path.write_text(
            f'version = 1\nplatform = "generic"\n[urls]\napi = "{server.url}"\n'
            '[auth]\nflow = "none"\n[limits]\ndeadline = 1.5\n',
            encoding="utf-8",
        )
        profile = load_profile(path)
        session = Session(profile, persist=False)
        app = Host(profile, session)
        async with app.run_test(size=(120, 32)) as pilot:
            composer = app.composer
            composer.load(RequestSpec(url=f"{server.url}/slow"))
            await pilot.press("ctrl+s")
            view = composer.response
            await until(pilot, lambda: view.state == "sending")
            started = time.monotonic()
            meta = str(view.query_one("#response-meta", Label).render())
            assert "deadline 1.5 s, Esc cancels" in meta, meta
            await until(pilot, lambda: view.state == "failed", timeout=4.0)
            assert time.monotonic() - started < 3.5
            shown = str(view.query_one("#response-message", Static).render())
            assert "within the deadline of 1.5 s" in shown, shown
        session.close()
