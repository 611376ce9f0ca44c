"""`workbench token inspect --verify-with P` (check the signature with P's keys) and its
deprecated old name `--profile P`: same result and same --json, plus a note on stderr;
`--session P` (which token) combines with it; --help says which is which."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from workbench.cli import main


@pytest.fixture
def iotspot_token(demo_env) -> str:
    """An RS256 access token of demo-iotspot (its JWKS is served by the emulator)."""
    from workbench.core.profiles import get_profile
    from workbench.core.session import Session

    session = Session(get_profile("demo-iotspot"))
    try:
        return str(session.login().access_token)
    finally:
        session.close()


def stable(out: str) -> dict[str, Any]:
    """The --json report without what moves with the clock."""
    data = json.loads(out)
    data.pop("remaining_seconds", None)
    return data


def test_verify_with_verifies_and_says_nothing_more(iotspot_token: str, capsys) -> None:
    assert main(["token", "inspect", iotspot_token, "--verify-with", "demo-iotspot", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["signature"]["status"] == "valid"
    assert "deprecated" not in captured.err
    tampered = iotspot_token[:-4] + ("AAAA" if not iotspot_token.endswith("AAAA") else "BBBB")
    assert main(["token", "inspect", tampered, "--verify-with", "demo-iotspot", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["signature"]["status"] == "invalid"


def test_the_old_profile_spelling_still_works_with_a_note(iotspot_token: str, capsys) -> None:
    assert main(["token", "inspect", iotspot_token, "--verify-with", "demo-iotspot", "--json"]) == 0
    new = capsys.readouterr()
    assert main(["token", "inspect", iotspot_token, "--profile", "demo-iotspot", "--json"]) == 0
    old = capsys.readouterr()
    assert stable(old.out) == stable(new.out)  # the JSON is the same, on stdout only
    assert json.loads(old.out)["signature"]["status"] == "valid"
    assert "--profile P` is deprecated" in old.err and "--verify-with P" in old.err
    assert "next release" in old.err


def test_the_note_goes_to_stderr_in_text_mode_too(iotspot_token: str, capsys) -> None:
    assert main(["token", "inspect", iotspot_token, "--profile", "demo-iotspot"]) == 0
    captured = capsys.readouterr()
    assert "deprecated" in captured.err and "deprecated" not in captured.out
    assert "valid" in captured.out


def test_both_spellings_naming_one_profile_are_fine(iotspot_token: str, capsys) -> None:
    args = ["--verify-with", "demo-iotspot", "--profile", "demo-iotspot", "--json"]
    assert main(["token", "inspect", iotspot_token, *args]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["signature"]["status"] == "valid"
    assert "deprecated" in captured.err


def test_both_spellings_naming_two_profiles_are_refused(capsys) -> None:
    args = ["--verify-with", "demo-iotspot", "--profile", "demo-thinger"]
    assert main(["token", "inspect", "abc.def.ghi", *args]) == 2
    err = capsys.readouterr().err
    assert "old name of --verify-with" in err and "usage: workbench token inspect" in err


def test_an_unknown_verify_profile_is_a_not_checked_report(iotspot_token: str, capsys) -> None:
    args = ["--verify-with", "no-such-profile-xyz", "--json"]
    assert main(["token", "inspect", iotspot_token, *args]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["signature"]["status"] == "not-checked"
    assert "signature not checked: profile 'no-such-profile-xyz'" in captured.err


def test_session_and_verify_with_combine(demo_env, capsys) -> None:
    """--session P picks the token (stored for P), --verify-with P checks it with P's keys."""
    assert main(["login", "demo-iotspot"]) == 0
    capsys.readouterr()
    args = ["--session", "demo-iotspot", "--verify-with", "demo-iotspot", "--json"]
    assert main(["token", "inspect", *args]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["signature"]["status"] == "valid"
    assert data["session"]["profile"] == "demo-iotspot"
    assert "deprecated" not in captured.err


def test_help_names_verify_with_and_the_deprecated_alias() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "token", "inspect", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "--verify-with PROFILE verify the signature with PROFILE's keys" in text
    assert "--profile PROFILE deprecated: the old name of --verify-with" in text
    assert "--session PROFILE" in text
