"""Stored tokens are bound to the TLS settings they were obtained with (issue 11, "a stored
token ignores TLS settings"), and TLS off is shown by every command that uses the profile.

Through the CLI against the emulator over real HTTP: log in with the built-in
`demo-thinger` (verification on), then use a same-named profile from `--profiles` that
turns verification off or changes the CA bundle. The stored token is not used (the
emulator's token endpoint is hit again, and a note says why), and a WARNING line is
printed.
"""

from __future__ import annotations

import json
from pathlib import Path

import certifi
import pytest

from workbench.cli import main

PROFILE = """version = 1
platform = "thinger"
description = "a shared copy of demo-thinger"

[urls]
api = "{{{{demo_url}}}}/thinger"

[auth]
flow = "oauth2_password"
token_url = "{{{{urls.api}}}}/oauth/token"
username = "demo"
password = {{ demo = "thinger-demo-pass-1157" }}

[tls]
{tls}
"""


@pytest.fixture
def cloud(fresh_emulator, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DEMO_URL", fresh_emulator.base_url)
    # a generous rate limit makes the emulator count the token requests it gets
    fresh_emulator.ctx.faults["thinger"].token_rate_limit = 10_000
    return fresh_emulator


def token_requests(cloud) -> int:
    return len(cloud.ctx.token_requests["thinger"])


def shared(tmp_path: Path, tls: str, name: str = "shared") -> Path:
    d = tmp_path / name
    d.mkdir()
    (d / "demo-thinger.toml").write_text(PROFILE.format(tls=tls))
    return d


def test_the_same_profile_reuses_its_stored_token(cloud, capsys) -> None:
    assert main(["login", "demo-thinger"]) == 0
    before = token_requests(cloud)
    assert main(["devices", "demo-thinger", "--depth", "1"]) == 0
    err = capsys.readouterr().err
    assert token_requests(cloud) == before
    assert "WARNING" not in err and "not used" not in err


def test_verify_false_profile_gets_no_stored_token_and_a_warning(cloud, tmp_path, capsys) -> None:
    assert main(["login", "demo-thinger"]) == 0
    capsys.readouterr()
    before = token_requests(cloud)
    insecure = shared(tmp_path, "verify = false")
    code = main(["devices", "demo-thinger", "--depth", "1", "--profiles", str(insecure)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert token_requests(cloud) == before + 1, "the stored token was reused"
    assert "WARNING" in err and "TLS verification is OFF" in err
    assert "stored tokens of 'demo-thinger' are not used" in err
    assert "TLS verification on" in err and "TLS verification off" in err
    # ... and the other way round: tokens obtained with verification off are not reused
    # by the profile that verifies
    before = token_requests(cloud)
    assert main(["devices", "demo-thinger", "--depth", "1"]) == 0
    err = capsys.readouterr().err
    assert token_requests(cloud) == before + 1
    assert "not used" in err and "WARNING" not in err


def test_another_ca_bundle_gets_no_stored_token(cloud, tmp_path, capsys) -> None:
    assert main(["login", "demo-thinger"]) == 0
    capsys.readouterr()
    before = token_requests(cloud)
    bundle = shared(tmp_path, f'ca_bundle = "{certifi.where()}"')
    assert main(["devices", "demo-thinger", "--depth", "1", "--profiles", str(bundle)]) == 0
    err = capsys.readouterr().err
    assert token_requests(cloud) == before + 1
    assert "CA bundle" in err and "not used" in err
    # the same bundle again: its own token is reused
    before = token_requests(cloud)
    assert main(["devices", "demo-thinger", "--depth", "1", "--profiles", str(bundle)]) == 0
    assert token_requests(cloud) == before


def test_profiles_listing_does_not_call_a_verify_false_copy_logged_in(
    cloud, tmp_path, capsys
) -> None:
    assert main(["login", "demo-thinger"]) == 0
    capsys.readouterr()
    insecure = shared(tmp_path, "verify = false")
    assert main(["profiles", "--json", "--profiles", str(insecure)]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = data["profiles"] if isinstance(data, dict) else data
    row = next(p for p in rows if p["name"] == "demo-thinger")
    assert row["login"]["state"] == "not_logged_in"
    assert row["tls_verify"] is False
    assert main(["profiles", "--json"]) == 0  # the built-in profile that logged in: it is
    data = json.loads(capsys.readouterr().out)
    rows = data["profiles"] if isinstance(data, dict) else data
    row = next(p for p in rows if p["name"] == "demo-thinger")
    assert row["login"]["state"] == "logged_in"


def test_every_command_warns_when_tls_is_off(cloud, tmp_path, capsys) -> None:
    insecure = shared(tmp_path, "verify = false")
    collection = tmp_path / "c.toml"
    collection.write_text(
        """version = 1
[collection]
profile = "demo-thinger"
[[requests]]
name = "devices"
url = "/v1/users/demo/devices"
"""
    )
    for argv in (
        ["login", "demo-thinger"],
        ["devices", "demo-thinger", "--depth", "1"],
        ["run", str(collection)],
        ["export", "curl", str(collection), "devices"],
    ):
        code = main([*argv, "--profiles", str(insecure)])
        err = capsys.readouterr().err
        assert code == 0, (argv, err)
        assert "WARNING" in err and "TLS verification is OFF" in err, argv
