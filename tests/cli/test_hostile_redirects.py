"""Issue 11 "Tracebacks from hostile input": redirects to targets that are not URLs.

Before: ``Location: javascript:...`` / ``https:evil.test`` escaped as httpx.InvalidURL (a
traceback) and port 99999 was tried. Now each is a TransportError naming the target, for
collection runs and for a login's token request alike.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.hostile_server import HostileServer, answer
from workbench.cli import main

TARGETS = [
    ("javascript:alert(1)", "a javascript: URL"),
    ("https:evil.test", "no host"),
    ("http://127.0.0.1:99999/x", "port 99999 is out of range"),
    ("http://[::1/x", "Invalid port"),
]


@pytest.mark.parametrize(("location", "why"), TARGETS)
def test_run_names_an_invalid_redirect_target(location, why, tmp_path: Path, capsys) -> None:
    with HostileServer(answer(302, {"Location": location})) as server:
        coll = tmp_path / "c.toml"
        coll.write_text(
            f'version = 1\n[[requests]]\nname = "r"\nurl = "{server.url}/start"\n',
            encoding="utf-8",
        )
        code = main(["run", str(coll), "--json"])
    out, err = capsys.readouterr()
    assert code == 1  # the request got no answer
    error = json.loads(out)["requests"][0]["error"]
    assert "redirected to an invalid target" in error and why in error, error
    assert "Traceback" not in out + err


def test_login_names_an_invalid_redirect_of_the_token_url(tmp_path: Path, capsys) -> None:
    with HostileServer(answer(307, {"Location": "https:evil.test"})) as server:
        profiles = tmp_path / "profiles"
        profiles.mkdir()
        (profiles / "redir.toml").write_text(
            f'version = 1\nplatform = "generic"\n[urls]\napi = "{server.url}"\n[auth]\n'
            'flow = "oauth2_password"\ntoken_url = "{{urls.api}}/oauth/token"\n'
            'client_id = "x"\nusername = { demo = "u" }\npassword = { demo = "p" }\n',
            encoding="utf-8",
        )
        code = main(["login", "redir", "--profiles", str(profiles)])
    out, err = capsys.readouterr()
    assert code == 4, out + err
    assert "redirected to an invalid target 'https:evil.test' (no host)" in err
    assert "Traceback" not in out + err


@pytest.mark.parametrize("url", ["http://[::1/x", "http://127.0.0.1:99x/"])
def test_run_names_a_collection_url_that_is_not_a_url(url: str, tmp_path: Path, capsys) -> None:
    # before: httpx.InvalidURL escaped from `run` as a traceback
    coll = tmp_path / "c.toml"
    coll.write_text(f'version = 1\n[[requests]]\nname = "r"\nurl = "{url}"\n', encoding="utf-8")
    code = main(["run", str(coll), "--json"])
    out, err = capsys.readouterr()
    assert code == 1
    error = json.loads(out)["requests"][0]["error"]
    assert "the request could not be built, nothing was sent" in error, error
    assert "Traceback" not in out + err
