"""`workbench token inspect` on a token whose exp is before its nbf: never valid, no lifetime."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import jwt

SECRET = "cli-never-valid-secret-0123456789abcdef"


def inspect(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench", "token", "inspect", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_exp_before_nbf_is_never_valid_in_text_and_json() -> None:
    now = int(time.time())
    token = jwt.encode({"sub": "a", "iat": now, "nbf": now + 1200, "exp": now + 600}, SECRET)
    text = inspect(token)
    assert "Traceback" not in text.stderr
    assert "never valid: exp is before nbf" in text.stdout
    assert "Lifetime:   10 min" not in text.stdout
    data = json.loads(inspect("--json", token).stdout)
    assert data["lifetime_seconds"] is None
    assert data["never_valid"] == "exp is before nbf"
