"""Issue 11 fault-matrix findings on `workbench devices` exit codes, through main():

- a top-level listing with a part missing (a page that failed next to one that listed)
  exits 4 and names what is missing, still printing what it got (before: exit 0);
- IoTConnect answering a foreign JSON document: "not an IoTConnect device list", exit 4
  (before: ~54,000 devices with blank labels, exit 0);
- a refresh refused while listing, with no secret to log in again unattended: exit 3
  with words saying how to log in (before: error nodes, exit 0).
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx

from tests.hostile_server import HostileServer
from workbench.cli import main

DEVICES = json.dumps([{"device": "fine-1", "name": "Fine 1"}, {"device": "fine-2"}])
REPO = Path(__file__).resolve().parents[2]


def _thinger_without_buckets(conn: socket.socket, request: bytes) -> None:
    path = request.split(b"\r\n", 1)[0].decode("latin-1").split(" ")[1]
    status, body = "200 OK", b"[]"
    if path.startswith("/v1/users/demo/devices?"):
        body = DEVICES.encode()
    elif path.startswith("/v1/users/demo/buckets"):
        status, body = "500 Internal Server Error", b'{"error":{"message":"bucket store down"}}'
    conn.sendall(
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n".encode()
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )


def test_a_listing_with_a_failed_part_exits_4_naming_it(tmp_path: Path, capsys) -> None:
    with HostileServer(_thinger_without_buckets) as server:
        profiles = tmp_path / "profiles"
        profiles.mkdir()
        (profiles / "fake.toml").write_text(
            f'version = 1\nplatform = "thinger"\n[urls]\napi = "{server.url}"\n'
            '[auth]\nflow = "none"\n[variables]\nuser = "demo"\n',
            encoding="utf-8",
        )
        code = main(["devices", "fake", "--profiles", str(profiles)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "fine-1" in out and "fine-2" in out  # what could be listed is printed
    assert code == 4, out + err
    assert "incomplete" in err and "buckets" in err and "500" in err


def test_iotconnect_foreign_document_is_not_a_device_list(fresh_emulator, monkeypatch, capsys):
    monkeypatch.setenv("WORKBENCH_DEMO_URL", fresh_emulator.base_url)
    assert main(["login", "demo-iotconnect"]) == 0
    httpx.post(f"{fresh_emulator.base_url}/_emulator/faults/iotconnect", json={"huge_body_mb": 1})
    code = main(["devices", "demo-iotconnect"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert code == 4, out + err
    assert "not an IoTConnect device list" in out + err
    assert len(out.splitlines()) < 50  # not thousands of blank devices
    assert not [line for line in out.splitlines() if not line.strip()]


def test_a_refused_refresh_that_needs_a_person_exits_3(
    tmp_path: Path, fresh_emulator, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("WORKBENCH_DEMO_URL", fresh_emulator.base_url)
    folder = tmp_path / "profiles"
    folder.mkdir()
    text = (REPO / "profiles" / "demo-thinger.toml").read_text(encoding="utf-8")
    lines = [
        'password = { env = "DEVICES_TEST_SECRET" }' if line.startswith("password = ") else line
        for line in text.splitlines()
    ]
    (folder / "env-thinger.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("DEVICES_TEST_SECRET", "thinger-demo-pass-1157")
    assert main(["login", "env-thinger", "--profiles", str(folder)]) == 0
    monkeypatch.delenv("DEVICES_TEST_SECRET")
    for action in ("tokens/revoke-refresh", "tokens/expire"):
        r = httpx.post(
            f"{fresh_emulator.base_url}/_emulator/{action}", json={"platform": "thinger"}
        )
        r.raise_for_status()
    capsys.readouterr()
    code = main(["devices", "env-thinger", "--profiles", str(folder)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert code == 3, out + err
    assert "could not be renewed without a person" in err
    assert "workbench login" in out + err or "DEVICES_TEST_SECRET" in err
