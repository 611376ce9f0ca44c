"""Paste-back login against a real, independently written provider (node-oidc-provider 9.x on
loopback), as over SSH: no browser (BROWSER unset, no display), stdin a pipe. `workbench login
--paste` prints the authorization URL; the test plays the person on another machine (logs in
on the provider's pages, stops at the redirect without loading it: play_browser with
load_callback=False) and pastes the address into stdin. RFC 9207: the provider advertises
`authorization_response_iss_parameter_supported`; a pasted redirect whose `iss` is missing
or another issuer's (even by a trailing slash) is refused and ends the login (a mix-up is
not retried); the provider's own is accepted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from tests.authkit import write_profile
from tests.oidc.oidckit import RESOURCE, BrowserRun, OidcServer, play_browser

OVER_SSH = {"BROWSER": "", "DISPLAY": "", "WAYLAND_DISPLAY": "", "SSH_CONNECTION": "x 1 y 22"}


def browser_profile(server: OidcServer, directory: Path, name: str) -> None:
    write_profile(
        directory,
        name,
        f'version = 1\nplatform = "generic"\n[urls]\napi = "{server.issuer}"\n'
        f'[auth]\nflow = "oauth2_authorization_code"\nissuer = "{server.issuer}"\n'
        'client_id = "wb-public"\nclient_auth = "none"\n'
        f'scope = "openid offline_access api:read"\nresource = "{RESOURCE}"\n'
        '[auth.authorize_params]\nprompt = "consent"\n',
    )


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
    server: OidcServer, directory: Path, name: str, paste: Callable[[str], str]
) -> tuple[int, dict[str, object], str, BrowserRun]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench", "login", "--profiles", str(directory)]
        + ["--paste", "--json", "--trace", name],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **OVER_SSH},
    )
    assert proc.stderr is not None and proc.stdin is not None and proc.stdout is not None
    run = BrowserRun()
    seen: list[str] = []
    try:
        for line in proc.stderr:
            seen.append(line)
            if line.startswith("  " + server.issuer + "/auth?"):
                play_browser(line.strip(), run, load_callback=False)  # on the laptop
                assert run.error is None and run.callback_url, (run.error, run.pages)
                proc.stdin.write(paste(run.callback_url))
                proc.stdin.close()
                break
        err = proc.stderr.read()
        out = proc.stdout.read()
        proc.wait(timeout=60)
    finally:
        proc.kill()
    return proc.returncode, json.loads(out), "".join(seen) + err, run


def notes(doc: dict[str, object]) -> list[str]:
    trace = doc["trace"]
    assert isinstance(trace, list)
    return [n for t in trace for n in t["notes"]]


def test_paste_back_over_ssh_logs_in(oidc_server: OidcServer, tmp_path: Path) -> None:
    assert oidc_server.metadata["authorization_response_iss_parameter_supported"] is True
    browser_profile(oidc_server, tmp_path, "op-paste")
    code, doc, err, run = paste_login(
        oidc_server, tmp_path, "op-paste", lambda url: "  " + url + "  \n"
    )
    assert code == 0, err
    assert doc["ok"] is True and doc["principal"] == "alice" and doc["refreshable"] is True
    said = notes(doc)
    assert any(
        n.startswith("pasted redirect URL received: state matched, iss matched") for n in said
    ), said
    assert any("RFC 9207" in n for n in said)
    # the redirect went to the loopback listener's address, which nobody loaded
    assert run.callback_status is None and run.callback_url.startswith("http://127.0.0.1:")
    # printed once, whole, with the ssh -L command for the listener
    assert sum(line.startswith("  http") for line in err.splitlines()) == 1
    assert "ssh -N -L" in err
    the_code = dict(parse_qsl(urlsplit(run.callback_url).query))["code"]
    assert the_code not in err and the_code not in json.dumps(doc)


@pytest.mark.parametrize(
    ("iss", "words"),
    [
        (None, "carries no `iss`"),
        ("http://127.0.0.1:1/another-issuer", "RFC 9207"),
        ("{issuer}/", "RFC 9207"),  # RFC 9207 §2.4: compared as strings, no normalising
    ],
    ids=["iss-missing", "iss-another-issuer", "iss-trailing-slash"],
)
def test_a_pasted_redirect_with_a_wrong_iss_is_refused(
    oidc_server: OidcServer, tmp_path: Path, iss: str | None, words: str
) -> None:
    browser_profile(oidc_server, tmp_path, "op-paste-iss")
    # a mix-up (RFC 9207) ends the login: the code is never exchanged
    wrong = iss.format(issuer=oidc_server.issuer) if iss else None
    code, doc, err, run = paste_login(
        oidc_server, tmp_path, "op-paste-iss", lambda url: with_params(url, iss=wrong) + "\n"
    )
    assert code == 3, err
    error = doc["error"]
    assert isinstance(error, dict) and error["step"] == "callback"
    assert words in error["message"] and "Traceback" not in err
    assert not any(
        ex["step"] == "code-exchange"
        for t in doc["trace"]  # type: ignore[union-attr]
        for ex in t["exchanges"]
    )


def test_a_failing_browser_and_no_terminal_fails_fast_with_json(
    oidc_server: OidcServer, tmp_path: Path
) -> None:
    """Issue 12: a headless `run` on a browser-flow profile with no stored tokens printed the
    URL twice and blocked for the profile's timeout, and `run --json` printed no JSON. Here
    the browser command exists but fails (BROWSER=false) and stdin is not a terminal."""
    browser_profile(oidc_server, tmp_path, "op-headless")
    collection = tmp_path / "smoke.toml"
    collection.write_text(
        'version = 1\n[collection]\nname = "op smoke"\nprofile = "op-headless"\n'
        '[[requests]]\nname = "me"\nmethod = "GET"\nurl = "{{urls.api}}/me"\n'
    )
    env = {**os.environ, **OVER_SSH, "BROWSER": "false"}
    for args in (["run", str(collection), "--json"], ["login", "op-headless", "--json"]):
        started = time.monotonic()
        r = subprocess.run(
            [sys.executable, "-m", "workbench", "--profiles", str(tmp_path), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        took = time.monotonic() - started
        assert r.returncode == 3 and took < 10, (args, r.stdout, r.stderr)
        doc = json.loads(r.stdout)
        assert doc["ok"] is False and doc["error"]["step"] == "authorize"
        assert "no callback could ever come" in doc["error"]["message"]
        assert "/auth?" not in r.stderr and "Traceback" not in r.stderr
