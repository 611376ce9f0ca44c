"""Issue 11 "Tracebacks from hostile input": device ids a request cannot carry.

A server (here a loopback fake of Thinger's device list) sends a 100,000-character device
id and one with a lone surrogate (JSON allows ``"\\ud800"``). Before: the surrogate made
`quote()` raise UnicodeEncodeError (a traceback, the whole listing lost) and the long id
became a node whose 100 KB request would be sent on expand. Now the long id is an error
node that says why (its request is never sent), the surrogate is quoted as its bytes and
shown escaped, and the other devices are listed.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

from tests.hostile_server import HostileServer
from workbench.cli import main

LONG = "d" * 100_000
DEVICES = json.dumps([{"device": LONG}, {"device": "bad\ud800id"}, {"device": "fine-1"}])


def _fake_thinger(seen: list[str]):
    def handler(conn: socket.socket, request: bytes) -> None:
        line = request.split(b"\r\n", 1)[0].decode("latin-1")
        seen.append(line)
        path = line.split(" ")[1]
        body = DEVICES.encode() if path.startswith("/v1/users/demo/devices?") else b"[]"
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )

    return handler


def test_devices_turns_unusable_ids_into_error_nodes(tmp_path: Path, capsys) -> None:
    seen: list[str] = []
    with HostileServer(_fake_thinger(seen)) as server:
        profiles = tmp_path / "profiles"
        profiles.mkdir()
        (profiles / "fake.toml").write_text(
            f'version = 1\nplatform = "thinger"\n[urls]\napi = "{server.url}"\n'
            '[auth]\nflow = "none"\n[variables]\nuser = "demo"\n',
            encoding="utf-8",
        )
        code = main(["devices", "fake", "--json", "--depth", "3", "--profiles", str(profiles)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert code == 0, err  # fine-1 was listed
    data = json.loads(out)
    devices = next(n for n in data["nodes"] if n["label"] == "devices")["children"]
    labels = [d["label"] for d in devices]
    assert any(d["label"].startswith("fine-1") and d["kind"] == "device" for d in devices)
    errors = [d for d in devices if d["kind"] == "error"]
    assert len(errors) == 1, labels
    assert "an id of 100,015 characters (at most 1,024): not requested" in errors[0]["label"]
    assert errors[0]["request"] is None and len(errors[0]["label"]) < 200
    assert "bad\\ud800id" in labels  # shown escaped
    # fine-1 and the surrogate one were expanded (depth 3); the long one never requested
    assert any("/devices/fine-1" in s for s in seen)
    assert any("/devices/bad%ED%A0%80id" in s for s in seen)
    assert not any(LONG[:100] in s for s in seen)
