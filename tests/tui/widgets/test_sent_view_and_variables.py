"""The composer's Sent tab (the request as it went on the wire, the session's token shown
as present but masked), the history record of each answer, and the Variables tab."""

from __future__ import annotations

from textual.widgets import Input, TabbedContent

from tests.tui.helpers import ComposerHost as Host
from tests.tui.helpers import until
from workbench.core.history.store import HistoryStore, history_path
from workbench.core.requests import RequestSpec
from workbench.tui.widgets.variables_panel.variables_panel import VariablesPanel

RESOURCE = "/v2/users/demo/devices/nodemcu/temperature"


async def test_sent_tab_shows_the_resolved_request_with_auth_masked(thinger) -> None:
    profile, session = thinger
    token = session.tokens.access_token
    app = Host(profile, session)
    async with app.run_test(size=(120, 40)) as pilot:
        composer = app.composer
        composer.variables = {"dev": "nodemcu"}
        composer.load(
            RequestSpec(
                url="{{urls.api}}/v2/users/demo/devices/{{dev}}/temperature",
                params=[("page", "1")],
                headers=[("X-Trace", "abc")],
            )
        )
        composer.query_one("#composer-url", Input).focus()
        await pilot.press("ctrl+s")
        await until(pilot, lambda: composer.response.state == "done")
        view = composer.response
        text = view.sent_text
        assert text.splitlines()[0] == f"GET {profile.urls['api']}{RESOURCE}?page=1"
        assert f"authorization: •••• (Bearer, {len(token)} chars)" in text
        assert "x-trace: abc" in text
        assert "headers after" in text and "body read after" in text
        assert token not in text
        view.body.focus()
        await pilot.press("e")
        assert view.query_one("#response-tabs", TabbedContent).active == "response-sent-tab"

        # recorded in the history, redacted
        await until(pilot, lambda: history_path().exists() and HistoryStore().count() == 1)
        entry = HistoryStore().get(HistoryStore().list()[0].id)
        assert entry is not None and entry.status == 200 and entry.profile == profile.name
        assert entry.request is not None and entry.request.url.startswith("{{urls.api}}")
        assert token.encode() not in history_path().read_bytes()


async def test_variables_tab_masks_secrets_and_says_which_wins(thinger) -> None:
    profile, session = thinger
    app = Host(profile, session)
    async with app.run_test(size=(120, 40)) as pilot:
        composer = app.composer
        composer.variables = {"api_key": "k-" + "9fQ2xLm7" * 4, "demo_url": "http://override"}
        composer.load(RequestSpec(url="{{demo_url}}/x"))
        await pilot.pause()
        panel = composer.query_one(VariablesPanel)
        rows = {(r.name, r.source): r for r in panel.rows_shown}
        key = rows[("api_key", "collection")]
        assert key.secret and key.shown == "•••• (34 chars)"
        assert rows[("demo_url", "collection")].wins
        assert "overrides the profile" in rows[("demo_url", "collection")].note
        assert not rows[("demo_url", "profile")].wins
        assert all("9fQ2xLm7" not in str(cell) for row in panel.rows_shown for cell in (row.shown,))
        token = session.tokens.access_token
        auth = rows[("header authorization", "session")]
        assert auth.shown == f"•••• (Bearer, {len(token)} chars)" and auth.secret


async def test_a_password_typed_into_the_request_never_reaches_the_history(thinger) -> None:
    profile, session = thinger
    password = "thinger-demo-pass-1157"  # the demo profile's own secret (known to the session)
    token = session.tokens.access_token
    app = Host(profile, session)
    async with app.run_test(size=(120, 40)) as pilot:
        composer = app.composer
        composer.load(
            RequestSpec(
                method="POST",
                url="{{urls.api}}/v2/users/demo/devices/nodemcu/command",
                headers=[("X-Echo", f"pw {password}")],
                params=[("note", password)],
                body_kind="json",
                body=f'{{"in": "{password}", "t": "{token}"}}',
            )
        )
        composer.query_one("#composer-url", Input).focus()
        await pilot.press("ctrl+s")
        await until(pilot, lambda: composer.response.state == "done")
        text = composer.response.sent_text
        assert password not in text and token not in text
        assert f"•••• ({len(password)} chars)" in text
        await until(pilot, lambda: history_path().exists() and HistoryStore().count() == 1)
        raw = b"".join(p.read_bytes() for p in history_path().parent.glob("history.sqlite3*"))
        assert password.encode() not in raw and token.encode() not in raw
        entry = HistoryStore().get(HistoryStore().list()[0].id)
        assert entry is not None and entry.request is not None
        assert password not in repr(entry.request)
