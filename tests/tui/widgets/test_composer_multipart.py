"""Issue 13 in the TUI: the paste-curl dialog drops credentials through the same core
function as `workbench import curl` (with the composer's profile), a browser's $'...' command
pastes, and the composer sends a multipart firmware upload (form lines in curl's -F syntax)
to the demo cloud."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from textual.widgets import Select, TextArea

from tests.tui.helpers import ComposerHost as Host
from tests.tui.helpers import until
from workbench.core.requests import BodyPart, RequestSpec
from workbench.tui.widgets.request_composer.dialogs import CurlScreen

FIRMWARE = b"\x7fELF" + bytes(range(200))


def upload_url(base: str) -> str:
    return base + "/v1/users/demo/devices/nodemcu/firmware"


async def test_paste_browser_curl_with_dollar_quotes_drops_the_session_headers(thinger) -> None:
    profile, session = thinger
    app = Host(profile, session)
    command = (
        f"curl '{profile.urls['api']}/v2/users/demo/devices/nodemcu/command' \\\n"
        "  -H 'authorization: Bearer abc.def.ghi' \\\n"
        "  -b 'session=1' \\\n"
        "  -H 'content-type: application/json' \\\n"
        '  --data-raw $\'{"in":"it\\\'s"}\''
    )
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("ctrl+o")
        screen = await until(pilot, lambda: isinstance(app.screen, CurlScreen) and app.screen)
        assert screen.profile is profile
        screen.query_one("#curl-text", TextArea).load_text(command)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, CurlScreen))
        spec = app.composer.spec
        assert spec.body == '{"in":"it\'s"}'
        assert not any(k.lower() in ("authorization", "cookie") for k, _ in spec.headers)


async def test_composer_sends_a_multipart_upload(thinger, tmp_path: Path) -> None:
    profile, session = thinger
    firmware = tmp_path / "fw.bin"
    firmware.write_bytes(FIRMWARE)
    app = Host(profile, session)
    spec = RequestSpec(
        method="POST",
        url=upload_url(profile.urls["api"]),
        body_kind="multipart",
        parts=[
            BodyPart("firmware", file=str(firmware), content_type="application/octet-stream"),
            BodyPart("version", value="2.0"),
        ],
    )
    async with app.run_test(size=(100, 32)) as pilot:
        composer = app.composer
        composer.load(spec)
        await pilot.pause()
        assert composer.query_one("#composer-body-kind", Select).value == "multipart"
        assert composer.spec.parts == spec.parts  # the form lines read back as the parts
        await pilot.press("ctrl+s")
        await until(pilot, lambda: composer.response.state == "done")
        assert composer.response.status_text.startswith("200")
        data = json.loads("\n".join(composer.response.body.lines))
        first, second = data["parts"]
        assert first["sha256"] == hashlib.sha256(FIRMWARE).hexdigest()
        assert first["filename"] == "fw.bin" and first["content_type"] == "application/octet-stream"
        assert second == {
            "name": "version",
            "filename": None,
            "content_type": None,
            "size": 3,
            "sha256": hashlib.sha256(b"2.0").hexdigest(),
            "value": "2.0",
        }


async def test_composer_missing_file_is_shown_in_words(thinger, tmp_path: Path) -> None:
    profile, session = thinger
    app = Host(profile, session)
    spec = RequestSpec(
        method="POST",
        url=upload_url(profile.urls["api"]),
        body_kind="multipart",
        parts=[BodyPart("firmware", file=str(tmp_path / "missing.bin"))],
    )
    async with app.run_test(size=(100, 32)) as pilot:
        composer = app.composer
        composer.load(spec)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: composer.response.state == "failed")
        message = composer.response.message_text
        assert "multipart part 'firmware' cannot be read" in message
        assert "there is no such file" in message
