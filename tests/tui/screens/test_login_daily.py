"""Issue 13 bugs of the TUI login screen: the person at the keyboard is asked for a missing
value (never told to set an environment variable or to run on a terminal); a private_key_jwt
profile shows where its key comes from and no client-secret field; demo profiles show their
demo credentials (secrets masked until asked for)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Static

from tests.tui.helpers import until
from tests.tui.test_app_e2e import SIZE, landed, static_text
from workbench.core.profiles import get_profile, load_profile
from workbench.emulator.app import describe
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.login import DEMO_SIGN_IN, LoginScreen
from workbench.tui.widgets.dialogs import AskScreen

THINGER_NO_PASSWORD = """version = 1
platform = "thinger"
[urls]
api = "{{demo_url}}/thinger"
[auth]
flow = "oauth2_password"
token_url = "{{urls.api}}/oauth/token"
username = "demo"
password = { env = "LOGIN_DAILY_UNSET_PASSWORD", prompt = "Thinger password" }
"""


PRIVATE_KEY_JWT = """version = 1
platform = "iotspot"
[urls]
api = "{{demo_url}}/iotspot/api/v1"
[auth]
flow = "oauth2_client_credentials"
token_url = "{{demo_url}}/iotspot/auth/oauth2/token"
client_id = "iotspot-demo-client"
client_auth = "private_key_jwt"
private_key_file = "~/keys/iotspot-client.pem"
private_key_kid = "kid-7"
"""

PRIVATE_KEY_PROMPT = PRIVATE_KEY_JWT.replace(
    'private_key_file = "~/keys/iotspot-client.pem"',
    'private_key = { env = "LOGIN_DAILY_UNSET_KEY", prompt = "Client private key" }',
)


def profile_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def screen_words(app: WorkbenchApp) -> str:
    return "\n".join(
        static_text(w) for w in app.screen.query(Static) if w.display and w.id != "login-timeline"
    )


async def open_login(pilot, app: WorkbenchApp, profile) -> LoginScreen:
    screen = LoginScreen(profile)
    await app.push_screen(screen)
    await until(pilot, lambda: screen._prefilled, what="the prefill")
    return screen


async def test_an_empty_password_is_asked_for_in_the_form(
    demo_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOGIN_DAILY_UNSET_PASSWORD", raising=False)
    profile = load_profile(profile_file(tmp_path, "thinger-nopass", THINGER_NO_PASSWORD))
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_login(pilot, app, profile)
        await pilot.click("#login-go")
        await pilot.pause()
        words = screen_words(app)
        assert "Type the password in its field above" in words
        assert "environment variable" not in words and "run on a terminal" not in words
        assert app.focused is screen.query_one("#field-password", Input)
        await pilot.press(*"thinger-demo-pass-1157")
        await pilot.press("enter")
        await landed(pilot, "thinger-nopass")


async def test_a_secret_the_form_has_no_field_for_is_asked_in_a_dialog(
    demo_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOGIN_DAILY_UNSET_KEY", raising=False)
    profile = load_profile(profile_file(tmp_path, "iotspot-key", PRIVATE_KEY_PROMPT))
    assert "private_key" not in LoginScreen(profile).fields
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_login(pilot, app, profile)
        await pilot.click("#login-go")
        dialog = await until(
            pilot, lambda: isinstance(app.screen, AskScreen) and app.screen, what="the dialog"
        )
        assert "Client private key" in dialog.label
        await pilot.press("escape")  # nothing given
        await until(pilot, lambda: "no value for the secret" in screen_words(app))
        words = screen_words(app)
        assert "type it in its field above, or when the login asks for it" in words
        assert "environment variable" not in words and "run on a terminal" not in words
        assert app.screen is screen


async def test_private_key_jwt_shows_the_key_source_and_no_secret_field(
    demo_env, tmp_path: Path
) -> None:
    profile = load_profile(profile_file(tmp_path, "iotspot-pkjwt", PRIVATE_KEY_JWT))
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_login(pilot, app, profile)
        assert not screen.query("#field-client_secret")
        assert screen.query_one("#field-client_id", Input).value == "iotspot-demo-client"
        key = static_text(screen.query_one("#login-key", Static))
        assert "private_key_jwt" in key and "~/keys/iotspot-client.pem" in key
        assert "kid-7" in key
        assert "client secret —" not in screen_words(app)


@pytest.mark.parametrize(
    ("name", "shown", "secret", "where"),
    [
        ("demo-plgd", "user demo", "plgd-demo-pass-6604", "the browser"),
        ("demo-plgd-device", "user demo", "plgd-demo-pass-6604", "approval page"),
        ("demo-thinger", "username demo", "thinger-demo-pass-1157", "pre-filled below"),
        ("demo-iotspot", "client id iotspot-demo-client", "iotspot+demo/secret=8852", "pre-filled"),
    ],
)
async def test_demo_profiles_show_their_credentials_masked_until_asked(
    demo_env, name: str, shown: str, secret: str, where: str
) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_login(pilot, app, get_profile(name))
        text = static_text(screen.query_one("#login-demo-text", Static))
        assert shown in text and where in text and "●" in text
        assert secret not in screen_words(app)
        await pilot.click("#login-demo-show")
        await pilot.pause()
        assert secret in static_text(screen.query_one("#login-demo-text", Static))
        assert "pre-filled" not in text or not get_profile(name).auth.spec.interactive


async def test_a_real_profile_shows_no_demo_credentials(demo_env) -> None:
    app = WorkbenchApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_login(pilot, app, get_profile("thinger"))
        assert not screen.query("#login-demo")
        assert "Demo" not in screen_words(app)


def test_demo_sign_in_users_are_the_demo_clouds() -> None:
    creds = describe("http://127.0.0.1:8765")
    for platform, items in DEMO_SIGN_IN.items():
        assert dict(items) == {
            "user": creds[platform]["credentials"]["user"],
            "password": creds[platform]["credentials"]["password"],
        }
