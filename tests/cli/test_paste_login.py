"""Paste-back login (issue 12): `workbench login PROFILE --paste` against the demo cloud's
plgd realm, as a person over SSH does it — the test drives the authorization page over
HTTP, takes the redirect's Location WITHOUT following it (the page would fail to load on
the laptop) and pastes it into the command's stdin. Also: the checks (state, RFC 9207
`iss`, `error=`), and the fail-fast of a browser login with no browser and no terminal
(`login`, `login --json`, `run --json`)."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from tests.authkit import PLGD_PASSWORD, PLGD_USER, write_profile
from workbench.core.auth.callback import parse_pasted, pasted_problem

HEADLESS = {"BROWSER": "", "DISPLAY": "", "WAYLAND_DISPLAY": ""}


def authorize(url: str, action: str = "allow") -> str:
    """Log in on the realm's page (like a browser) and return the redirect's Location."""
    with httpx.Client(timeout=10) as b:
        page = b.get(url)
        assert page.status_code == 200, page.text
        fields = {
            k: html.unescape(v) for k, v in re.findall(r'name="([^"]+)" value="([^"]*)"', page.text)
        }
        fields.update(username=PLGD_USER, password=PLGD_PASSWORD, action=action)
        answer = b.post(str(page.url).split("?")[0], data=fields)
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]


def with_params(url: str, **changes: str | None) -> str:
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return parts._replace(query=urlencode(params)).geturl()


def paste_login(
    *args: str,
    paste: Callable[[str], str],
    profiles: Path | None = None,
    env: dict[str, str] | None = None,
) -> tuple[int, str, str]:
    """`workbench login ... --paste`: read the authorization URL from stderr, log in on the
    page, write what `paste(location)` gives to stdin."""
    cmd = [sys.executable, "-m", "workbench"]
    if profiles is not None:
        cmd += ["--profiles", str(profiles)]
    proc = subprocess.Popen(
        [*cmd, "login", *args, "--paste"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **HEADLESS, **(env or {})},
    )
    assert proc.stderr is not None and proc.stdin is not None and proc.stdout is not None
    seen: list[str] = []
    try:
        for line in proc.stderr:
            seen.append(line)
            if line.startswith("  http") and "/protocol/openid-connect/auth?" in line:
                proc.stdin.write(paste(authorize(line.strip())))
                proc.stdin.close()  # (mixing the line iterator with communicate() loses text)
                break
        err = proc.stderr.read()
        out = proc.stdout.read()
        proc.wait(timeout=60)
    finally:
        proc.kill()
    return proc.returncode, out, "".join(seen) + err


# --- pasting it back ----------------------------------------------------------------------


def test_paste_back_completes_and_the_loopback_is_not_needed(demo_env) -> None:
    # a URL broken over two lines by the terminal, with spaces around it: still read whole
    pasted: list[str] = []

    def paste(location: str) -> str:
        pasted.append(location)
        cut = location.index("code=") + 8
        return f"  {location[:cut]}\n{location[cut:]}  \n"

    code, out, err = paste_login("demo-plgd", "--json", "--trace", paste=paste)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["ok"] is True and doc["principal"] == "demo@plgd.example"
    notes = [n for t in doc["trace"] for n in t["notes"]]
    assert any(
        n.startswith("pasted redirect URL received: state matched, iss matched") for n in notes
    )
    assert any("RFC 9207" in n for n in notes)
    # the URL was printed once, with the ssh -L command for the loopback listener
    assert sum(line.startswith("  http") for line in err.splitlines()) == 1
    assert re.search(r"ssh -N -L (\d+):127\.0\.0\.1:\1 ", err)
    # the authorization code is never printed (nor the PKCE verifier: see the trace tests)
    the_code = dict(parse_qsl(urlsplit(pasted[0]).query))["code"]
    assert the_code not in out and the_code not in err


def test_just_the_query_string_is_enough(demo_env) -> None:
    code, out, err = paste_login("demo-plgd", paste=lambda loc: urlsplit(loc).query + "\n")
    assert code == 0, err
    assert "Logged in to demo-plgd" in out


def test_something_else_pasted_first_is_explained_and_asked_again(demo_env) -> None:
    code, out, err = paste_login(
        "demo-plgd", paste=lambda loc: "hello\nhttps://example.com/elsewhere?x=1\n" + loc + "\n"
    )
    assert code == 0, err
    assert "that is not the redirect URL" in err


def test_a_redirect_uri_off_this_machine_is_paste_only(demo_env, tmp_path) -> None:
    """A client registered only for a portal's https page: no listener, pasting is the way."""
    write_profile(
        tmp_path,
        "portal",
        f'''version = 1
platform = "plgd"
[urls]
hub = "{demo_env.base_url}/plgd"
[auth]
flow = "plgd_hub"
client_id = "workbench-demo-portal"
redirect_uri = "https://portal.plgd.example/devices"
''',
    )
    code, out, err = paste_login(
        "portal", "--trace", profiles=tmp_path, paste=lambda loc: loc + "\n"
    )
    assert code == 0, err
    assert "Logged in to portal" in out
    assert "is not on this machine" in err and "ssh -N -L" not in err


# --- what is refused ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tamper", "words"),
    [
        (lambda loc: with_params(loc, state="x" * 43), "state does not match"),
        (lambda loc: with_params(loc, iss=None), "carries no `iss`"),
        (lambda loc: with_params(loc, iss="https://evil.example/realm"), "RFC 9207"),
    ],
    ids=["wrong-state", "missing-iss", "wrong-iss"],
)
def test_a_tampered_redirect_is_refused(demo_env, tamper, words) -> None:
    code, out, err = paste_login("demo-plgd", paste=lambda loc: tamper(loc) + "\n")
    assert code == 3, err
    assert words in err and "login failed at step 'callback'" in err
    assert "Traceback" not in err


def test_a_pasted_error_is_explained(demo_env) -> None:
    def deny(location: str) -> str:
        # the person pressed Deny: the realm redirects with error=access_denied
        return location + "\n"

    proc_env = dict(HEADLESS)
    cmd = [sys.executable, "-m", "workbench", "login", "demo-plgd", "--paste", "--json"]
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **proc_env},
    )
    assert proc.stderr is not None and proc.stdin is not None
    for line in proc.stderr:
        if line.startswith("  http"):
            proc.stdin.write(deny(authorize(line.strip(), action="deny")))
            proc.stdin.flush()
            break
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    doc = json.loads(out)
    assert doc["ok"] is False and doc["error"]["step"] == "callback"
    assert "declined the login" in doc["error"]["message"]
    assert doc["error"]["hint"] == "run the login again and choose Allow"


# --- no browser, no terminal: at once ----------------------------------------------------


def headless(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    r = subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **HEADLESS},
    )
    return r, time.monotonic() - start


def test_headless_login_fails_fast(demo_env) -> None:
    r, took = headless("login", "demo-plgd")
    assert r.returncode == 3, r.stderr
    assert took < 10  # not the profile's 300 s (about 1 s of it is starting Python)
    assert "none could be opened" in r.stderr and "no callback could ever come" in r.stderr
    assert "openid-connect/auth?" not in r.stderr  # no URL nobody can open


def test_headless_login_json_fails_fast(demo_env) -> None:
    r, took = headless("login", "demo-plgd", "--json", "--no-browser")
    assert r.returncode == 3 and took < 10
    doc = json.loads(r.stdout)
    assert doc["ok"] is False and doc["error"]["step"] == "authorize"
    assert "no callback could ever come" in doc["error"]["message"]


def test_headless_run_json_fails_fast_with_json(demo_env, tmp_path) -> None:
    collection = tmp_path / "plgd.toml"
    collection.write_text(
        'version = 1\n[collection]\nname = "plgd smoke"\nprofile = "demo-plgd"\n'
        '[[requests]]\nname = "devices"\nmethod = "GET"\nurl = "{{urls.hub}}/api/v1/devices"\n'
    )
    r, took = headless("run", str(collection), "--json")
    assert r.returncode == 3, r.stderr
    assert took < 10
    doc = json.loads(r.stdout)
    assert doc["ok"] is False and doc["collection"] == "plgd smoke" and doc["requests"] == []
    assert doc["error"]["step"] == "authorize"
    # the URL is not printed (twice or at all): nobody could open it
    assert "openid-connect/auth?" not in r.stderr


# --- reading what is pasted ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "http://127.0.0.1:8400/callback?code=abc&state=S&iss=https%3A%2F%2Fi.example",
        "  http://127.0.0.1:8400/callback?code=abc&st\nate=S&iss=https%3A%2F%2Fi.example \n",
        "?code=abc&state=S&iss=https%3A%2F%2Fi.example",
        "code=abc&state=S&iss=https%3A%2F%2Fi.example",
        "https://portal.example/devices#code=abc&state=S&iss=https%3A%2F%2Fi.example",
        "'http://127.0.0.1:8400/callback?code=abc&state=S&iss=https%3A%2F%2Fi.example'",
    ],
)
def test_parse_pasted(text: str) -> None:
    assert parse_pasted(text) == {"code": "abc", "state": "S", "iss": "https://i.example"}


def test_pasted_problems() -> None:
    redirect = "http://127.0.0.1:8400/callback"
    url = "https://idp.example/auth?response_type=code&client_id=c&state=S"
    assert "authorization URL itself" in (pasted_problem(url, parse_pasted(url), redirect) or "")
    assert pasted_problem("  ", {}, redirect) == "nothing was pasted"
    other = "https://elsewhere.example/callback?code=a&state=S"
    assert "not this login's redirect URI" in (
        pasted_problem(other, parse_pasted(other), redirect) or ""
    )
    # localhost and 127.0.0.1 name the same listener
    same = "http://localhost:8400/callback?code=a&state=S"
    assert pasted_problem(same, parse_pasted(same), redirect) is None
