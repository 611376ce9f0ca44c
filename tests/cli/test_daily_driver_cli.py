"""Issue 13 ("daily driver"), the CLI's consistency bugs: `logout` of an unknown profile,
`token inspect --session`, and `run` counting a refused (401/403) request as passed."""

from __future__ import annotations

import json
from pathlib import Path

from workbench.cli import main
from workbench.core.store import TokenStore

UNSIGNED = """version = 1
[collection]
name = "unsigned"

[[requests]]
name = "list devices"
method = "GET"
url = "{demo}/thinger/v1/users/demo/devices"
"""

ALLOWED = """version = 1
[collection]
name = "allowed"

[[requests]]
name = "refused on purpose"
method = "GET"
url = "{demo}/thinger/v1/users/demo/devices"
[requests.expect]
status = 401
"""


# --- logout ---------------------------------------------------------------------------------


def test_logout_unknown_profile_exits_2_with_words(capsys) -> None:
    assert main(["logout", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "no profile named 'nosuch'" in err and "nothing to log out of" in err


def test_logout_unknown_profile_json(capsys) -> None:
    assert main(["logout", "nosuch", "--json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["forgotten"] is False
    assert data["error"]["type"] == "ConfigError"


def test_logout_of_a_removed_profile_still_forgets_its_tokens(capsys) -> None:
    from workbench.core.auth.base import TokenSet

    TokenStore().put("gone-profile", TokenSet(access_token="x" * 30), [])
    assert main(["logout", "gone-profile"]) == 0
    assert "Logged out of gone-profile" in capsys.readouterr().out
    assert main(["logout", "gone-profile"]) == 2  # now nothing is left under that name


# --- token inspect --session ----------------------------------------------------------------


def test_token_inspect_session_without_login_says_so(capsys) -> None:
    assert main(["token", "inspect", "--session", "demo-thinger"]) == 3
    err = capsys.readouterr().err
    assert "no token is stored for 'demo-thinger'" in err
    assert "workbench login demo-thinger" in err
    assert "empty input" not in err


def test_token_inspect_session_unknown_profile_exits_2(capsys) -> None:
    assert main(["token", "inspect", "--session", "nosuch"]) == 2
    assert "no profile named 'nosuch'" in capsys.readouterr().err


def test_token_inspect_session_with_a_token_argument_is_usage(capsys) -> None:
    assert main(["token", "inspect", "abc", "--session", "demo-thinger"]) == 2
    assert "not both" in capsys.readouterr().err


def _stored_access_token(profile: str) -> str:
    from workbench.core.profiles import get_profile

    tokens = TokenStore().get(profile, get_profile(profile))
    assert tokens is not None
    return tokens.access_token


def test_token_inspect_session_shows_claims_masked(demo_env, capsys) -> None:
    assert main(["login", "demo-thinger"]) == 0
    capsys.readouterr()
    token = _stored_access_token("demo-thinger")
    assert main(["token", "inspect", "--session", "demo-thinger"]) == 0
    out = capsys.readouterr().out
    assert token not in out  # never the whole token
    assert f"{token[:8]}…{token[-4:]}" in out
    assert "Claims:" in out and "Expires:" in out and "expires in" in out
    assert main(["token", "inspect", "--session", "demo-thinger", "--json"]) == 0
    raw = capsys.readouterr().out
    assert token not in raw
    data = json.loads(raw)
    assert data["kind"] == "jwt" and data["expired"] is False
    assert data["claims"] and data["remaining_seconds"] > 0
    assert data["session"]["profile"] == "demo-thinger"
    assert data["session"]["masked"] == f"{token[:8]}…{token[-4:]}"


def test_token_inspect_session_with_profile_verification(demo_env, capsys) -> None:
    # --profile keeps its meaning (verify with that profile's keys) next to --session
    assert main(["login", "demo-plgd-m2m"]) == 0
    capsys.readouterr()
    code = main(
        ["token", "inspect", "--session", "demo-plgd-m2m", "--profile", "demo-plgd-m2m", "--json"]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["session"]["profile"] == "demo-plgd-m2m"
    # (the demo plgd realm's JWKS is not found this way today: "not checked", with the reason)
    assert data["signature"]["status"] in ("valid", "not-checked")
    assert data["signature"]["reason"] is None or "demo-plgd-m2m" in data["signature"]["reason"]


def test_token_inspect_session_opaque_token_expiry_from_the_store(demo_env, capsys) -> None:
    # Ioto's CloudAPI token is opaque: its expiry comes from what the store kept
    assert main(["login", "demo-ioto-cloudapi"]) == 0
    capsys.readouterr()
    token = _stored_access_token("demo-ioto-cloudapi")
    assert main(["token", "inspect", "--session", "demo-ioto-cloudapi", "--json"]) == 0
    raw = capsys.readouterr().out
    assert token not in raw
    data = json.loads(raw)
    assert data["session"]["profile"] == "demo-ioto-cloudapi"


# --- run: 401 / 403 are failures unless expected --------------------------------------------


def test_run_counts_401_as_failed_with_words(demo_env, tmp_path: Path, capsys) -> None:
    path = tmp_path / "unsigned.toml"
    path.write_text(UNSIGNED.format(demo=demo_env.base_url))
    assert main(["run", str(path), "--json"]) == 1
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["passed"] == 0 and data["failed"] == 1
    (check,) = data["requests"][0]["checks"]
    assert check["passed"] is False and "status 401" in check["message"]
    assert "no profile" in check["message"] and "status = 401" in check["message"]
    assert "0 passed, 1 failed" in captured.err


def test_run_401_passes_when_expected(demo_env, tmp_path: Path, capsys) -> None:
    path = tmp_path / "allowed.toml"
    path.write_text(ALLOWED.format(demo=demo_env.base_url))
    assert main(["run", str(path)]) == 0
    assert "1 passed, 0 failed" in capsys.readouterr().err
