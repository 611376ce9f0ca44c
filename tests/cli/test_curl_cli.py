"""`workbench import curl` and `workbench export curl`: output, --into, placeholders, a real
session with --with-secrets, the exported command run by the real curl, exit codes."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.core.collection.collection import load_collection

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJ1c3IiOiJkZW1vIn0.c2lnbmF0dXJlLXNlY3JldA"
CURL = (
    f"curl -X POST 'https://api.thinger.io/v2/users/demo/devices/nodemcu/relay?x=1' "
    f"-H 'Authorization: Bearer {TOKEN}' -H 'Content-Type: application/json' -d '{{\"in\": true}}'"
)


def test_import_prints_a_requests_table_without_the_token(capsys) -> None:
    assert main(["import", "curl", CURL, "--name", "relay on"]) == 0
    out, err = capsys.readouterr()
    assert TOKEN not in out and TOKEN not in err
    data = tomllib.loads(out)
    (req,) = data["requests"]
    # issue 13: on the profile's server, relative, the session's header dropped (as the TUI does)
    assert req == {
        "name": "relay on",
        "method": "POST",
        "url": "/v2/users/demo/devices/nodemcu/relay",
        "profile": "thinger",
        "query": [["x", "1"]],
        "body": {"json": '{"in": true}'},
    }
    assert "dropped Authorization: the session of 'thinger' signs the request itself" in err


def test_import_reads_stdin_and_words_after_double_dash(capsys, monkeypatch) -> None:
    monkeypatch.setattr(
        sys,
        "stdin",
        io.StringIO("curl \\\n  --url https://h.example/a/b \\\n  -H 'Accept: text/plain'\n"),
    )
    assert main(["import", "curl"]) == 0
    req = tomllib.loads(capsys.readouterr().out)["requests"][0]
    assert (req["name"], req["url"], req["headers"]) == (
        "GET a/b",
        "https://h.example/a/b",
        [["Accept", "text/plain"]],
    )
    assert (
        main(["import", "curl", "--", "curl", "-H", "X-Two: words here", "https://h.example/"]) == 0
    )
    req = tomllib.loads(capsys.readouterr().out)["requests"][0]
    assert req["headers"] == [["X-Two", "words here"]] and req["name"] == "GET h.example"


def test_import_into_a_collection_keeps_the_file(tmp_path: Path, capsys) -> None:
    target = tmp_path / "mine.toml"
    original = (
        '# my requests\nversion = 1\n\n[collection]\nname = "mine"  # keep me\n\n'
        '[[requests]]\nname = "first"\nurl = "https://h/1"  # first one\n'
    )
    target.write_text(original)
    assert main(["import", "curl", CURL, "--into", str(target)]) == 0
    assert (
        main(["import", "curl", "curl https://h/2 -u demo:s3cret-pass", "--into", str(target)]) == 0
    )
    err = capsys.readouterr().err
    assert "added request 'POST nodemcu/relay'" in err
    text = target.read_text()
    variables = (  # the Bearer token was dropped (the thinger session signs, issue 13)
        "[variables]\n"
        'basic_auth = { env = "BASIC_AUTH", prompt = "Basic credentials (base64 of user:password)" }\n\n'
    )
    assert variables in text
    assert text.replace(variables, "").startswith(
        original
    )  # new variables, new requests, nothing else
    assert TOKEN not in text and "s3cret-pass" not in text
    coll = load_collection(target)
    assert coll.names() == ["first", "POST nodemcu/relay", "GET 2"]
    assert "token" not in coll.variables
    assert coll.request("GET 2").spec.headers == [("Authorization", "Basic {{basic_auth}}")]
    # a clash of names is an error, the file stays as it is
    before = target.read_bytes()
    assert (
        main(["import", "curl", "curl https://h/3", "--into", str(target), "--name", "first"]) == 2
    )
    assert "already exists" in capsys.readouterr().err
    assert target.read_bytes() == before


def test_import_creates_a_new_collection(tmp_path: Path) -> None:
    target = tmp_path / "new" / "api.toml"
    assert main(["import", "curl", "curl https://h/x", "--into", str(target), "--name", "x"]) == 0
    coll = load_collection(target)
    assert coll.name == "api" and coll.names() == ["x"]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["import", "curl", "curl --bogus https://h"], "unknown curl option '--bogus'"),
        (["import", "curl", "curl -d @f.json https://h"], "reads the data from a file"),
        (["import", "curl", "curl 'https://h"], "unclosed quote"),
        (["import", "curl", "curl https://h", "--name", " "], "--name must not be empty"),
        (["export", "curl", "/nonexistent/c.toml", "x"], "no such collection file"),
    ],
)
def test_usage_errors_exit_2_in_words(argv: list[str], words: str, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_a_broken_collection_is_reported_with_its_line(tmp_path: Path, capsys) -> None:
    target = tmp_path / "bad.toml"
    target.write_text('version = 1\n[[requests]]\nname = "a"\nurl = "/x"\nmehtod = "GET"\n')
    assert main(["import", "curl", "curl https://h", "--into", str(target)]) == 2
    assert f"{target}:5:1: unknown key 'mehtod'" in capsys.readouterr().err
    assert main(["export", "curl", str(target), "a"]) == 2


def test_no_traceback_from_a_real_process(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "import", "curl", "curl --nope x"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert proc.returncode == 2 and "unknown curl option '--nope'" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "import", "curl"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert proc.returncode == 2 and "stdin was empty" in proc.stderr


COLLECTION = """version = 1

[collection]
name = "thinger"
profile = "demo-thinger"

[variables]
user = "demo"
token = { session = "access_token" }
password = { env = "MY_THINGER_PASSWORD" }

[[requests]]
name = "devices"
url = "/v1/users/{{user}}/devices"
query = [["count", "2"]]

[[requests]]
name = "login by hand"
method = "POST"
url = "{{urls.api}}/oauth/token"
body = { form = { grant_type = "password", username = "{{user}}", password = "{{password}}" } }

[[requests]]
name = "resource"
method = "GET"
url = "{{urls.api}}/v2/users/{{user}}/devices/{{device}}/temperature"
headers = [["Authorization", "Bearer {{token}}"]]
"""


def test_export_with_placeholders(demo_env, tmp_path: Path, capsys) -> None:
    path = tmp_path / "c.toml"
    path.write_text(COLLECTION)
    assert main(["export", "curl", str(path), "devices"]) == 0
    out, err = capsys.readouterr()
    base = demo_env.base_url + "/thinger"
    assert out.startswith(
        f"curl --request GET \\\n  --url '{base}/v1/users/demo/devices?count=2' \\\n"
    )
    assert "--header 'Accept: application/json'" in out  # the profile's headers
    assert (
        '--header "Authorization: Bearer $TOKEN"' in out
    )  # the session's signature, as a placeholder
    assert "--with-secrets prints real ones" in err
    assert main(["export", "curl", str(path), "2"]) == 0
    out = capsys.readouterr().out
    assert '"password=$MY_THINGER_PASSWORD"' in out and "thinger-demo-pass" not in out
    assert main(["export", "curl", str(path), "resource"]) == 0
    out, err = capsys.readouterr()
    assert "/devices/$DEVICE/temperature" in out and "DEVICE" in err
    assert out.count("Authorization") == 1


def test_export_with_secrets_needs_a_session(demo_env, tmp_path: Path, capsys) -> None:
    path = tmp_path / "c.toml"
    path.write_text(COLLECTION)
    assert main(["export", "curl", str(path), "devices", "--with-secrets"]) == 0
    out, err = capsys.readouterr()
    assert (
        "$TOKEN" in out
        and "not logged in with 'demo-thinger'" in err
        and "workbench login demo-thinger" in err
    )


@pytest.mark.skipif(
    shutil.which("curl") is None or shutil.which("bash") is None, reason="needs curl and bash"
)
def test_exported_commands_run_with_the_real_curl(
    demo_env, tmp_path: Path, capsys, monkeypatch
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(COLLECTION)
    assert main(["login", "demo-thinger", "--json"]) == 0
    token = json.loads(capsys.readouterr().out).get("access_token")
    assert main(["export", "curl", str(path), "devices", "--with-secrets"]) == 0
    out, err = capsys.readouterr()
    assert "$TOKEN" not in out and "not logged in" not in err
    if token:
        assert token in out
    proc = subprocess.run(
        ["bash", "-c", out.strip() + " --silent --show-error --fail"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    devices = json.loads(proc.stdout)
    assert isinstance(devices, list) and len(devices) == 2
    # without secrets the same command needs $TOKEN from the environment
    assert main(["export", "curl", str(path), "devices"]) == 0
    command = (
        capsys.readouterr().out.strip() + " --silent --output /dev/null --write-out '%{http_code}'"
    )
    refused = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin", "TOKEN": "not-a-token"},
    )
    assert refused.stdout == "401"
    secret = out.split("Bearer ", 1)[1].split("'", 1)[0]
    ok = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin", "TOKEN": secret},
    )
    assert ok.stdout == "200"
    # and the form request takes the password from the environment named in the collection
    monkeypatch.setenv("MY_THINGER_PASSWORD", "thinger-demo-pass-1157")
    assert main(["export", "curl", str(path), "login by hand", "--with-secrets"]) == 0
    login = subprocess.run(
        ["bash", "-c", capsys.readouterr().out.strip() + " --silent --fail"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert login.returncode == 0 and "access_token" in json.loads(login.stdout)
