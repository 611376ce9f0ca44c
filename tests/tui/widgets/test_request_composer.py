"""The request composer, driven with Pilot against the emulated cloud over real HTTP
(demo-thinger): send, JSON bodies, refused sends, unknown variables, cancel, transport
errors, a 10 MB body, Server-Sent Events, curl import and saving to a collection."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Label, Static, TextArea

from tests.tui.helpers import ComposerHost as Host
from tests.tui.helpers import logged_in, until
from workbench.core.profiles import Profile, get_profile
from workbench.core.requests import RequestSpec
from workbench.core.session import Session
from workbench.tui.widgets.request_composer.dialogs import (
    CurlScreen,
    SaveRequestScreen,
    templated_url,
)
from workbench.tui.widgets.request_composer.request_composer import RequestComposer

RESOURCE = "/v2/users/demo/devices/nodemcu/{}"


def api(profile: Profile, resource: str) -> str:
    return profile.urls["api"] + RESOURCE.format(resource)


def body_text(composer: RequestComposer) -> str:
    return "\n".join(composer.response.body.lines)


async def send_and_wait(pilot: Pilot, composer: RequestComposer, state: str = "done") -> None:
    await pilot.press("ctrl+s")
    await until(pilot, lambda: composer.response.state == state)


# --- sending -----------------------------------------------------------------------------


async def test_get_shows_status_headers_and_body(thinger) -> None:
    profile, session = thinger
    app = Host(profile, session)
    async with app.run_test(size=(100, 32)) as pilot:
        composer = app.composer
        composer.load(RequestSpec(url=api(profile, "temperature")))
        await pilot.pause()
        assert "auth applied automatically from the session (OAuth2 password grant" in str(
            composer.query_one("#composer-hint", Static).content
        )
        composer.query_one("#composer-url", Input).focus()
        await send_and_wait(pilot, composer)
        view = composer.response
        assert view.status_text.startswith("200 OK")
        assert "application/json" in view.status_text and " ms" in view.status_text
        assert '"out"' in body_text(composer)
        assert view.record is not None and view.record.json()["out"] == pytest.approx(21.0, abs=30)
        table = view.query_one("#response-headers", DataTable)
        names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert "content-type" in names
        # the spec never carries the token: the session signed the request
        assert not any(k.lower() == "authorization" for k, _ in composer.spec.headers)


async def test_post_json_to_an_input_resource(thinger) -> None:
    profile, session = thinger
    app = Host(profile, session)
    async with app.run_test(size=(100, 32)) as pilot:
        composer = app.composer
        composer.load(
            RequestSpec(
                method="POST",
                url=api(profile, "command"),
                body_kind="json",
                body='{"in": "blink twice"}',
            )
        )
        await pilot.pause()
        assert "valid JSON" in str(composer.query_one("#composer-body-error", Label).content)
        await send_and_wait(pilot, composer)
        assert composer.response.status_text.startswith("200")
        composer.load(RequestSpec(url=api(profile, "command")))
        await send_and_wait(pilot, composer)
        assert composer.response.record is not None
        assert composer.response.record.json() == {"in": "blink twice"}
        assert "blink twice" in body_text(composer)


async def test_invalid_json_is_shown_and_not_sent(thinger) -> None:
    profile, session = thinger
    app = Host(profile, session)
    async with app.run_test(size=(100, 32)) as pilot:
        composer = app.composer
        composer.load(
            RequestSpec(method="POST", url=api(profile, "relay"), body_kind="json", body="{")
        )
        await pilot.pause()
        area = composer.query_one("#composer-body", TextArea)
        area.focus()
        area.load_text('{"in": tru')  # typing goes through the same Changed path
        await pilot.press("e")
        await pilot.pause()
        error = str(composer.query_one("#composer-body-error", Label).content)
        assert "invalid JSON at line 1" in error
        await pilot.press("ctrl+s")
        await pilot.pause()
        view = composer.response
        assert view.state == "failed" and "not sent" in view.status_text
        assert "invalid JSON" in view.message_text
        assert composer._worker is None  # nothing went out
        # fixing it makes the label say so, and the request goes
        area.load_text('{"in": true}')
        await pilot.pause()
        assert "valid JSON" in str(composer.query_one("#composer-body-error", Label).content)
        await send_and_wait(pilot, composer)
        assert view.status_text.startswith("200")


async def test_unknown_variables_are_named_before_sending(thinger) -> None:
    profile, session = thinger
    app = Host(profile, session)
    async with app.run_test(size=(100, 32)) as pilot:
        composer = app.composer
        url = "{{urls.api}}/v2/users/{{user}}/devices/{{device}}/temperature"
        composer.load(RequestSpec(url=url))
        await pilot.pause()
        hint = str(composer.query_one("#composer-hint", Static).content)
        assert "{{user}}" in hint and "{{device}}" in hint and "urls.api" not in hint
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert composer.response.state == "failed"
        assert "{{user}}, {{device}}" in composer.response.message_text
        composer.variables = {"user": "demo", "device": "nodemcu"}
        await send_and_wait(pilot, composer)
        assert composer.response.status_text.startswith("200")
        assert composer.response.record is not None
        assert composer.response.record.url == api(profile, "temperature")


async def test_relative_url_joins_the_profile_base(thinger) -> None:
    profile, session = thinger
    app = Host(profile, session)
    async with app.run_test(size=(100, 32)) as pilot:
        composer = app.composer
        composer.load(RequestSpec(url=RESOURCE.format("temperature")))
        await send_and_wait(pilot, composer)
        assert composer.response.record is not None
        assert composer.response.record.url == api(profile, "temperature")


async def test_slow_request_is_cancelled_with_escape(fresh_emulator, monkeypatch) -> None:
    profile, session = logged_in(fresh_emulator.base_url, monkeypatch)
    httpx.post(f"{fresh_emulator.base_url}/_emulator/faults/thinger", json={"latency_ms": 3000})
    app = Host(profile, session)
    async with app.run_test(size=(100, 32)) as pilot:
        composer = app.composer
        composer.load(RequestSpec(url=api(profile, "temperature")))
        await pilot.press("ctrl+s")
        view = composer.response
        await until(pilot, lambda: view.state == "sending")
        first = view.status_text
        await pilot.pause(0.35)
        assert view.status_text != first  # the clock ticks: the UI keeps working while waiting
        started = time.monotonic()
        await pilot.press("escape")
        await until(pilot, lambda: view.state == "cancelled", timeout=1.0)
        assert time.monotonic() - started < 1.0
        assert "cancelled" in view.status_text
        assert composer._worker is not None and composer._worker.is_cancelled
        # still responsive: typing goes into the URL
        composer.query_one("#composer-url", Input).focus()
        await pilot.press("end", "x")
        assert composer.query_one("#composer-url", Input).value.endswith("temperaturex")
        await pilot.pause(0.1)
        assert view.state == "cancelled"
    session.close()


async def test_stale_answer_is_dropped_when_a_newer_send_starts(
    fresh_emulator, monkeypatch
) -> None:
    profile, session = logged_in(fresh_emulator.base_url, monkeypatch)
    httpx.post(f"{fresh_emulator.base_url}/_emulator/faults/thinger", json={"latency_ms": 600})
    app = Host(profile, session)
    async with app.run_test(size=(100, 32)) as pilot:
        composer = app.composer
        composer.load(RequestSpec(url=api(profile, "temperature")))
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        composer.load(RequestSpec(url=api(profile, "location")))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: composer.response.state == "done")
        await pilot.pause(0.8)
        record = composer.response.record
        assert record is not None and record.url.endswith("/location")
    session.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_transport_error_is_shown_in_words(monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_DEMO_URL", f"http://127.0.0.1:{closed_port()}")
    profile = get_profile("demo-thinger")
    session = Session(profile)
    app = Host(profile, session)
    async with app.run_test(size=(100, 32)) as pilot:
        composer = app.composer
        composer.load(RequestSpec(url=api(profile, "temperature")))
        await send_and_wait(pilot, composer, "failed")
        message = composer.response.message_text.lower()
        assert "refused" in message
        assert "hint:" in message
    session.close()


async def test_ten_megabyte_body_first_lines_quickly(thinger) -> None:
    profile, session = thinger
    base = profile.urls["api"].rsplit("/thinger", 1)[0]
    app = Host(profile, session)
    gaps: list[float] = []
    async with app.run_test(size=(100, 32)) as pilot:
        composer = app.composer
        view = composer.response
        composer.load(RequestSpec(url=f"{base}/_emulator/big?mb=10"))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: view.state == "done", timeout=20)
        body = view.body
        assert body.line_count > 20  # the first screen is there at once
        assert '"count"' in body.lines[1]
        assert "MiB" in view.status_text
        last = time.perf_counter()

        def beat() -> None:
            nonlocal last
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

        timer = app.set_interval(0.01, beat)
        await until(pilot, lambda: body.first_render_elapsed is not None, timeout=2)
        assert body.first_render_elapsed < 0.5
        await until(pilot, lambda: body.complete, timeout=30)
        timer.stop()
        assert body.line_count > 100_000
        assert max(gaps, default=0) < 0.5, f"the UI stalled {max(gaps):.3f} s"
        assert view.record is not None
        assert body.raw == view.record.body
        assert len(body.raw) >= 10 * 1024 * 1024


async def test_server_sent_events_stream_live_until_escape(thinger) -> None:
    profile, session = thinger
    app = Host(profile, session)
    async with app.run_test(size=(100, 32)) as pilot:
        composer = app.composer
        view = composer.response
        stats = profile.urls["api"] + "/v1/users/demo/devices/nodemcu/stats"
        composer.load(
            RequestSpec(
                url=stats, params=[("interval", "50")], headers=[("Accept", "text/event-stream")]
            )
        )
        await pilot.press("ctrl+s")
        await until(pilot, lambda: view.state == "streaming" and view.events >= 2)
        data = [line for line in view.body.lines if line.startswith("data:")]
        assert len(data) >= 2 and '"rx_bytes"' in data[0]
        assert "streaming" in view.status_text and "text/event-stream" in view.status_text
        await until(pilot, lambda: view.events >= 4)  # still coming in, live
        view.body.focus()  # Esc reaches the composer from inside the response view too
        await pilot.press("escape")
        await until(pilot, lambda: view.state == "cancelled", timeout=2)
        assert "stream cancelled after" in view.status_text
        count = view.events
        await pilot.pause(0.3)
        assert view.events == count  # nothing more once cancelled


# --- curl and collections --------------------------------------------------------------------


async def test_paste_curl_loads_the_request(thinger) -> None:
    profile, session = thinger
    app = Host(profile, session)
    command = (
        f"curl -X POST '{api(profile, 'command')}?verbose=1' \\\n"
        "  -H 'Authorization: Bearer abc.def.ghi' \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        '  -d \'{"in": "from curl"}\''
    )
    async with app.run_test(size=(100, 32)) as pilot:
        composer = app.composer
        await pilot.press("ctrl+o")
        screen = await until(pilot, lambda: isinstance(app.screen, CurlScreen) and app.screen)
        area = screen.query_one("#curl-text", TextArea)
        area.load_text("curl --frobnicate http://x")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "frobnicate" in str(screen.query_one("#curl-error", Static).content)
        assert isinstance(app.screen, CurlScreen)  # still open, error in words
        area.load_text(command)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, CurlScreen))
        spec = composer.spec
        assert spec.method == "POST"
        assert spec.url == api(profile, "command")
        assert spec.params == [("verbose", "1")]
        assert spec.body_kind == "json" and spec.body == '{"in": "from curl"}'
        assert not any(k.lower() == "authorization" for k, _ in spec.headers)
        await send_and_wait(pilot, composer)
        assert composer.response.status_text.startswith("200")


async def test_save_request_to_a_collection_writes_no_token(thinger, tmp_path: Path) -> None:
    from workbench.core.collection.collection import load_collection

    profile, session = thinger
    app = Host(profile, session)
    target = tmp_path / "mine.toml"
    async with app.run_test(size=(100, 32)) as pilot:
        composer = app.composer
        composer.load(
            RequestSpec(
                method="POST",
                url=api(profile, "command"),
                headers=[("X-Trace", "1")],
                body_kind="json",
                body='{"in": "saved"}',
            )
        )
        await pilot.press("ctrl+b")
        screen = await until(
            pilot, lambda: isinstance(app.screen, SaveRequestScreen) and app.screen
        )
        screen.query_one("#save-collection", Input).value = str(target)
        screen.query_one("#save-name", Input).value = "set command"
        screen.query_one("#save-name", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, SaveRequestScreen))
    coll = load_collection(target)
    req = coll.request("set command")
    # the profile's base URL is saved as {{urls.api}}: the file follows the profile anywhere
    assert req.spec.method == "POST" and req.spec.url == "{{urls.api}}" + RESOURCE.format("command")
    assert req.spec.body == '{"in": "saved"}' and req.spec.headers == [("X-Trace", "1")]
    assert coll.profile == "demo-thinger"
    data = target.read_bytes()
    assert session.tokens is not None
    for secret in session.tokens.secrets():
        assert secret.encode() not in data


async def test_empty_and_schemeless_urls_are_explained(thinger) -> None:
    profile, session = thinger
    app = Host(profile, session)
    async with app.run_test(size=(100, 32)) as pilot:
        composer = app.composer
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert (
            composer.response.state == "failed"
            and "the URL is empty" in composer.response.message_text
        )
        composer.load(RequestSpec(url="nodemcu/temperature"))
        await send_and_wait(pilot, composer, "failed")
        assert "http://" in composer.response.message_text


def test_templated_url() -> None:
    urls = {"api": "http://h:1/thinger", "root": "http://h:1"}
    assert templated_url("http://h:1/thinger/v1/x?a=1", urls) == "{{urls.api}}/v1/x?a=1"
    assert templated_url("http://h:1/thinger", urls) == "{{urls.api}}"
    assert templated_url("http://h:1/thingers", urls) == "{{urls.root}}/thingers"
    assert templated_url("http://other/x", urls) == "http://other/x"
    assert templated_url("{{urls.api}}/x", urls) == "{{urls.api}}/x"
