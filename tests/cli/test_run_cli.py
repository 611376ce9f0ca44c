"""`workbench run` against the emulator over real HTTP: exit codes, reports, captures, secrets."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

from workbench.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "thinger-smoke.toml"

FAILING = """version = 1
[collection]
name = "failing"
profile = "demo-thinger"

[[requests]]
name = "wrong status"
method = "GET"
url = "{{urls.api}}/v1/users/demo/devices"
query = [["count", "1"]]
[requests.expect]
status = 404

[[requests]]
name = "never runs with --bail"
method = "GET"
url = "{{urls.api}}/v1/users/demo/devices"
"""

BAD_PROFILE = """version = 1
platform = "thinger"
[urls]
api = "{{demo_url}}/thinger"
[auth]
flow = "oauth2_password"
token_url = "{{urls.api}}/oauth/token"
username = { demo = "demo" }
password = { demo = "wrong-password-42" }
"""


def test_example_collection_passes_with_reports(demo_env, tmp_path, capsys) -> None:
    junit = tmp_path / "report.xml"
    code = main(["run", str(EXAMPLE), "--json", "--junit", str(junit)])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["version"] == 1 and data["ok"] is True
    assert data["passed"] == 3 and data["failed"] == 0 and data["total"] == 3
    first = data["requests"][0]
    assert set(first) >= {
        "index",
        "name",
        "method",
        "url",
        "status",
        "elapsed_ms",
        "checks",
        "captures",
        "passed",
    }
    assert first["captures"][0]["name"] == "first_device" and first["captures"][0]["ok"]
    # the captured device id was used in the next request's URL
    assert "/devices/nodemcu/temperature" in data["requests"][1]["url"]
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "3" and suite.get("failures") == "0"
    assert [c.get("name") for c in suite.findall("testcase")] == [
        "list devices",
        "read temperature",
        "io sum and mult",
    ]
    assert "✓" in err and "3 passed" in err


def test_failed_expectation_exits_1_and_bail_skips(demo_env, tmp_path, capsys) -> None:
    path = tmp_path / "failing.toml"
    path.write_text(FAILING)
    assert main(["run", str(path), "--json", "--bail"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["failed"] == 1 and data["skipped"] == 1 and data["bailed"] is True
    assert "expected 404" in data["requests"][0]["checks"][0]["message"]
    junit = tmp_path / "j.xml"
    assert main(["run", str(path), "--junit", str(junit)]) == 1
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("failures") == "1" and suite.find("testcase/failure") is not None


def test_malformed_collection_is_a_usage_error_naming_the_line(tmp_path, capsys) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(
        'version = 1\n[collection]\nname = "x"\n[[requests]]\nname = "a"\nmethod = "GET"\nurl = "http://127.0.0.1:1/"\nbogus = 1\n'
    )
    before = path.read_bytes()
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert "broken.toml:8" in err and "bogus" in err and "Traceback" not in err
    assert path.read_bytes() == before


def test_unknown_profile_and_bad_var_are_usage_errors(tmp_path, capsys) -> None:
    assert main(["run", str(EXAMPLE), "--profile", "nope"]) == 2
    assert "no profile named 'nope'" in capsys.readouterr().err
    assert main(["run", str(EXAMPLE), "--var", "novalue"]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err


def test_auth_failure_exits_3(demo_env, tmp_path, capsys) -> None:
    (tmp_path / "wrong-thinger.toml").write_text(BAD_PROFILE)
    assert (
        main(["run", str(EXAMPLE), "--profile", "wrong-thinger", "--profiles", str(tmp_path)]) == 3
    )
    err = capsys.readouterr().err
    assert "login failed" in err and "invalid username or password" in err


def test_var_overrides_and_no_secret_in_reports(demo_env, tmp_path, capsys) -> None:
    junit = tmp_path / "r.xml"
    assert main(["run", str(EXAMPLE), "--var", "user=demo", "--json", "--junit", str(junit)]) == 0
    out = capsys.readouterr().out
    from workbench.core.profiles import get_profile
    from workbench.core.store import TokenStore

    tokens = TokenStore().get("demo-thinger", get_profile("demo-thinger"))
    assert tokens is not None
    for secret in (tokens.access_token, tokens.refresh_token, "thinger-demo-pass-1157"):
        assert secret not in out
        assert secret not in junit.read_text()
