"""`workbench token inspect`: argument / stdin input, text and --json output, exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time

import jwt
import pytest

from workbench.cli import main

SECRET = "cli-test-secret-that-is-long-enough-0123456789"


def make_token(ttl: int = 7200, **claims) -> str:
    now = int(time.time())
    body = {"sub": "demo", "iat": now, "exp": now + ttl, **claims}
    return jwt.encode(body, SECRET, algorithm="HS256")


def run_cli(
    *args: str, stdin: str | bytes = "", env: dict | None = None
) -> subprocess.CompletedProcess:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run(
        [sys.executable, "-m", "workbench", "token", "inspect", *args],
        input=data,
        capture_output=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


class FakeStdin(io.TextIOWrapper):
    def __init__(self, data: bytes, tty: bool) -> None:
        super().__init__(io.BytesIO(data), encoding="utf-8")
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


# --------------------------------------------------------------------------- subprocess


def test_subprocess_text_output_expires_in():
    proc = run_cli(make_token())
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr
    assert "expires in 1 h 59 min" in out or "expires in 2 h" in out
    assert "UTC" in out and "Claims:" in out
    assert b"Traceback" not in proc.stderr


def test_subprocess_expired_and_stdin_dash():
    proc = run_cli("-", stdin=make_token(ttl=-3 * 86400) + "\n")
    out = proc.stdout.decode()
    assert proc.returncode == 0  # an inspection: expired is still exit 0
    assert "expired 3 days ago" in out
    assert "[expired]" in out


def test_subprocess_stdin_without_argument():
    proc = run_cli(stdin="Bearer " + make_token())
    assert proc.returncode == 0, proc.stderr
    assert "expires in" in proc.stdout.decode()


def test_subprocess_json_shape():
    proc = run_cli(make_token(), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) >= {
        "kind",
        "header",
        "claims",
        "issued_at",
        "not_before",
        "expires_at",
        "lifetime_seconds",
        "remaining_seconds",
        "expired",
        "not_yet_valid",
        "exp_in_milliseconds",
        "signature",
        "warnings",
        "error",
    }
    assert data["kind"] == "jwt" and data["claims"]["sub"] == "demo"
    assert data["lifetime_seconds"] == 7200 and data["expired"] is False
    assert data["expires_at"].endswith("Z")
    assert set(data["signature"]) == {"status", "reason", "algorithm", "kid"}
    assert data["signature"]["status"] == "not-checked"


@pytest.mark.parametrize(
    ("arg", "stdin", "words"),
    [
        ("a.b.c.d.e", "", "encrypted JWE"),
        ("eyJhbGciOiJIUzI1NiJ9.e+J.c2ln", "", "not valid base64url"),
        ("-", b"\x00\x01\xff\xfe garbage", "cannot appear in a token"),
        ("-", "", "empty input"),
    ],
)
def test_subprocess_malformed_exits_2_without_traceback(arg, stdin, words):
    proc = run_cli(arg, stdin=stdin)
    err = proc.stderr.decode()
    assert proc.returncode == 2
    assert words in err
    assert "Traceback" not in err and "Traceback" not in proc.stdout.decode()


def test_subprocess_malformed_json_still_prints_json():
    proc = run_cli("--json", stdin="eyJhbGciOiJIUzI1NiJ9.W10.c2ln")
    assert proc.returncode == 2
    data = json.loads(proc.stdout)
    assert data["kind"] == "malformed" and "JSON array" in data["error"]
    assert data["header"] == {"alg": "HS256"}


def test_subprocess_secret_env_verifies():
    token = make_token()
    proc = run_cli(
        token, "--json", "--secret-env", "WB_TEST_SECRET", env={"WB_TEST_SECRET": SECRET}
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["signature"]["status"] == "valid"
    proc = run_cli(
        token,
        "--json",
        "--secret-env",
        "WB_TEST_SECRET",
        env={"WB_TEST_SECRET": "wrong-secret-but-long-enough-0123456789"},
    )
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["signature"]["status"] == "invalid"


def test_subprocess_control_characters_never_reach_the_terminal():
    token = make_token(msg="\x1b]0;owned\x07\x1b[31mred\u202e")
    proc = run_cli(token)
    assert proc.returncode == 0
    assert b"\x1b" not in proc.stdout and b"\x07" not in proc.stdout
    assert "\u202e".encode() not in proc.stdout
    proc = run_cli("abc\x1b[2Jdef")
    assert proc.returncode == 2 and b"\x1b" not in proc.stderr


# --------------------------------------------------------------------------- in-process


def test_main_text(capsys):
    assert main(["token", "inspect", make_token()]) == 0
    out = capsys.readouterr().out
    assert "expires in" in out and "Principal:  demo" in out


def test_main_json_and_expired(capsys):
    assert main(["token", "inspect", make_token(ttl=-120), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["expired"] is True and data["remaining_seconds"] < 0
    assert any(w["code"] == "expired" for w in data["warnings"])


def test_main_stdin_dash(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", FakeStdin(make_token().encode() + b"\n", tty=False))
    assert main(["token", "inspect", "-"]) == 0
    assert "expires in" in capsys.readouterr().out


def test_main_tty_without_token_prints_usage(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", FakeStdin(b"", tty=True))
    assert main(["token", "inspect"]) == 2
    err = capsys.readouterr().err
    assert "usage: workbench token inspect" in err and "no token given" in err


def test_main_malformed(capsys):
    assert main(["token", "inspect", "eyJhbGciOiJIUzI1NiJ9.eyJ"]) == 2
    err = capsys.readouterr().err
    assert "expected 3 dot-separated segments, got 2" in err


def test_main_secret_env(capsys, monkeypatch):
    monkeypatch.setenv("WB_SECRET", SECRET)
    assert main(["token", "inspect", make_token(), "--secret-env", "WB_SECRET"]) == 0
    assert "Signature:  valid" in capsys.readouterr().out


def test_main_secret_env_problems(capsys, monkeypatch):
    monkeypatch.delenv("WB_UNSET_SECRET", raising=False)
    assert main(["token", "inspect", make_token(), "--secret-env", "WB_UNSET_SECRET"]) == 2
    assert "WB_UNSET_SECRET is not set" in capsys.readouterr().err
    # a secret passed by mistake instead of a variable name is refused and not echoed
    assert main(["token", "inspect", make_token(), "--secret-env", "s3cr3t/with=chars"]) == 2
    err = capsys.readouterr().err
    assert "NAME of an environment variable" in err and "s3cr3t" not in err


def test_main_opaque(capsys):
    assert main(["token", "inspect", "ioto-cloudapi-demo-token-9d2f6a"]) == 0
    out = capsys.readouterr().out
    assert "opaque" in out and "expiry unknown" in out


def test_main_profile_without_jwks_says_not_checked(capsys):
    assert main(["token", "inspect", make_token(), "--profile", "no-such-profile-xyz"]) == 0
    captured = capsys.readouterr()
    assert "signature not checked:" in captured.err
    assert "not checked" in captured.out


def test_main_profile_verifies_with_the_profiles_jwks(capsys, demo_env):
    """--profile finds the JWKS from the token's iss (an origin of the profile) and verifies."""
    from workbench.core.profiles import get_profile
    from workbench.core.session import Session

    session = Session(get_profile("demo-iotspot"))
    token = session.login().access_token
    assert main(["token", "inspect", token, "--profile", "demo-iotspot", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["signature"]["status"] == "valid"
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert main(["token", "inspect", tampered, "--profile", "demo-iotspot", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["signature"]["status"] == "invalid"


def test_main_profile_never_trusts_a_foreign_issuer(capsys, demo_env):
    from workbench.emulator import jwt_keys

    now = int(time.time())
    token = jwt_keys.sign_rs256({"sub": "c", "iss": "https://evil.example/pool", "exp": now + 60})
    assert main(["token", "inspect", token, "--profile", "demo-iotspot", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["signature"]["status"] == "not-checked"
    assert "not one of the profile's origins" in captured.err


def test_main_no_action(capsys):
    assert main(["token"]) == 2
    assert "usage: workbench token inspect" in capsys.readouterr().err
