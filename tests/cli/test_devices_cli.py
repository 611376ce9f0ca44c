"""`workbench devices` against the emulator over real HTTP."""

from __future__ import annotations

import json

from workbench.cli import main


def test_devices_text_tree_thinger(demo_env, capsys) -> None:
    assert main(["devices", "demo-thinger", "--depth", "3"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert any(line.startswith("  ● nodemcu") for line in lines)
    # nodemcu's resources at depth 3, indented under it
    i = next(n for n, line in enumerate(lines) if "nodemcu" in line)
    below = "\n".join(lines[i + 1 : i + 12])
    assert "temperature" in below and "[output]" in below
    assert "relay" in below and "[input]" in below


def test_devices_json_shape_and_filter(demo_env, capsys) -> None:
    assert main(["devices", "demo-thinger", "--json", "--depth", "2", "--filter", "nodemcu"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["version"] == 1 and data["platform"] == "thinger" and data["filter"] == "nodemcu"
    devices = next(n for n in data["nodes"] if n["label"] == "devices")
    labels = [c["label"] for c in devices["children"]]
    assert labels and all("nodemcu" in label for label in labels)
    node = devices["children"][0]
    assert set(node) >= {"id", "kind", "label", "status", "badge", "error", "hint", "request"}
    assert node["request"]["url"].endswith("/v1/users/demo/devices/nodemcu")
    assert data["count"] >= 2


def test_devices_depth_one_has_no_children(demo_env, capsys) -> None:
    assert main(["devices", "demo-iotspot", "--json", "--depth", "1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["nodes"] and all("children" not in n for n in data["nodes"])
    assert any("model" in (n["badge"] or "") or "model" in n["label"] for n in data["nodes"])


def test_devices_unknown_profile_is_a_usage_error(capsys) -> None:
    assert main(["devices", "no-such-profile"]) == 2
    err = capsys.readouterr().err
    assert "no profile named 'no-such-profile'" in err and "Traceback" not in err


def test_devices_auth_failure_exit_3(demo_env, capsys, monkeypatch, tmp_path) -> None:
    bad = tmp_path / "bad-thinger.toml"
    bad.write_text(
        'version = 1\nplatform = "thinger"\n[urls]\napi = "{{demo_url}}/thinger"\n'
        '[auth]\nflow = "oauth2_password"\ntoken_url = "{{urls.api}}/oauth/token"\n'
        'username = { demo = "demo" }\npassword = { demo = "not-the-password" }\n'
    )
    assert main(["devices", "bad-thinger", "--profiles", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "invalid username or password" in err and "Traceback" not in err
