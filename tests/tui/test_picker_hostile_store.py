"""The profile picker keeps working after a hostile token endpoint: a login that got
`expires_in: NaN` stores no NaN (the picker says "logged in (no expiry)"), and a store entry
with a non-finite expiry written by an older version reads as "not logged in"."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.authkit import RecordingServer, Seen, write_profile
from tests.tui.helpers import until
from workbench.core import paths
from workbench.core.auth.base import TokenSet
from workbench.core.profiles import get_profile
from workbench.core.store import TokenStore
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.profile_picker import ProfilePicker

SECRET = "picker-hostile-secret-5521"


def _handler(seen: Seen) -> tuple[int, dict[str, str], bytes]:
    body = b'{"access_token": "picker-hostile-access-1", "expires_in": NaN}'
    return 200, {"Content-Type": "application/json"}, body


@pytest.mark.parametrize("older_store", [False, True], ids=["login-got-nan", "store-has-nan"])
async def test_picker_survives_a_nan_expiry(older_store: bool) -> None:
    with RecordingServer(_handler) as server:
        write_profile(
            paths.user_profiles_dir(),
            "hostile",
            f"""version = 1
platform = "generic"
[urls]
api = "{server.base_url}/api"
[auth]
flow = "oauth2_client_credentials"
token_url = "{server.base_url}/token"
client_id = "c1"
client_secret = {{ env = "PICKER_HOSTILE_SECRET" }}
client_auth = "post"
""",
        )
        if older_store:  # what an older version stored: the expiry as NaN
            store = TokenStore()
            store.put("hostile", TokenSet("picker-hostile-access-1"), get_profile("hostile"))
            data = json.loads(store.path.read_text())
            data["profiles"]["hostile"]["tokens"]["expires_at"] = float("nan")
            store.path.write_text(json.dumps(data))
        else:
            login = subprocess.run(
                [sys.executable, "-m", "workbench", "login", "hostile"],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=60,
                env={**os.environ, "PICKER_HOSTILE_SECRET": SECRET},
            )
            assert login.returncode == 0, login.stderr
    app = WorkbenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        picker = await until(pilot, lambda: isinstance(app.screen, ProfilePicker) and app.screen)
        await until(pilot, lambda: "hostile" in picker.states, what="the states")
        expected = "not logged in" if older_store else "logged in (no expiry)"
        assert picker.states["hostile"] == expected
