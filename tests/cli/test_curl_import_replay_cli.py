"""Issue 13: a request copied from a browser, imported with `workbench import curl`, replays
with `workbench run` (the profile found from the URL, the URL relative, the browser's token
dropped for the session's own), and a multipart firmware upload goes round trip to the demo
cloud (its modelled Thinger upload endpoint answers what arrived)."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.core.profiles import get_profile
from workbench.core.store import TokenStore

FIRMWARE = bytes(range(256)) * 8 + b"\x00end"


def chrome_curl(base: str, token: str) -> str:
    return (
        f"curl '{base}/thinger/v1/users/demo/devices?count=2' \\\n"
        "  -H 'accept: application/json, text/plain, */*' \\\n"
        f"  -H 'authorization: Bearer {token}' \\\n"
        "  -b 'session=abc; theme=dark' \\\n"
        "  -H $'x-note: it\\'s me' \\\n"
        "  -H 'user-agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36'"
    )


def stored_token(profile: str) -> str:
    tokens = TokenStore().get(profile, get_profile(profile))
    assert tokens is not None
    return tokens.access_token


def test_imported_browser_request_replays(demo_env, tmp_path: Path, capsys) -> None:
    assert main(["login", "demo-thinger"]) == 0
    token = stored_token("demo-thinger")
    target = tmp_path / "mine.toml"
    assert (
        main(["import", "curl", chrome_curl(demo_env.base_url, token), "--into", str(target)]) == 0
    )
    err = capsys.readouterr().err
    text = target.read_text()
    assert token not in text and token not in err
    req = tomllib.loads(text)["requests"][0]
    assert req["url"] == "/v1/users/demo/devices" and req["profile"] == "demo-thinger"
    assert req["query"] == [["count", "2"]]
    names = [k.lower() for k, _ in req["headers"]]
    assert "authorization" not in names and "cookie" not in names
    assert ["x-note", "it's me"] in req["headers"]
    assert "the URL is on the profile 'demo-thinger'" in err
    assert "dropped authorization, Cookie: the session of 'demo-thinger' signs" in err
    assert "also on demo-thinger-device" in err
    # the replay is signed by the session and passes
    assert main(["run", str(target), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] == 1 and data["requests"][0]["status"] == 200


def test_import_profile_forced_and_no_profile(demo_env, tmp_path: Path, capsys) -> None:
    url = f"{demo_env.base_url}/thinger/v1/users/demo/devices"
    assert (
        main(
            [
                "import",
                "curl",
                f"curl {url} -H 'Authorization: Bearer x'",
                "--profile",
                "demo-thinger-device",
            ]
        )
        == 0
    )
    out, err = capsys.readouterr()
    req = tomllib.loads(out)["requests"][0]
    assert req["profile"] == "demo-thinger-device" and req["url"] == "/v1/users/demo/devices"
    assert "also on" not in err
    # a server no profile has: nothing dropped (no session would sign), the credential a reference
    assert (
        main(
            ["import", "curl", "curl https://nowhere.example/a -H 'Authorization: Bearer xyz12345'"]
        )
        == 0
    )
    out, err = capsys.readouterr()
    req = tomllib.loads(out)["requests"][0]
    assert "profile" not in req and req["url"] == "https://nowhere.example/a"
    assert req["headers"] == [["Authorization", "Bearer {{token}}"]]
    assert "no profile has this URL's server" in err
    # --profile of another server: kept absolute, said so
    assert (
        main(["import", "curl", "curl https://nowhere.example/a", "--profile", "demo-thinger"]) == 0
    )
    out, err = capsys.readouterr()
    assert tomllib.loads(out)["requests"][0]["profile"] == "demo-thinger"
    assert "none of the servers of 'demo-thinger'" in err
    assert main(["import", "curl", "curl https://h/a", "--profile", "nosuch"]) == 2
    assert "no profile named 'nosuch'" in capsys.readouterr().err


def test_import_of_a_dollar_quoted_command_no_longer_fails(capsys) -> None:
    assert (
        main(["import", "curl", "curl 'https://h.example/a' --data-raw $'{\"a\":\"it\\'s\"}'"]) == 0
    )
    req = tomllib.loads(capsys.readouterr().out)["requests"][0]
    assert req["body"] == {"json": '{"a":"it\'s"}'}


# --- multipart ------------------------------------------------------------------------------


def firmware_expect(size: int, digest: str) -> str:
    return (
        "\n[requests.expect]\nstatus = 200\n"
        f'json."$.parts[0].name" = "firmware"\n'
        f'json."$.parts[0].filename" = "fw.bin"\n'
        f'json."$.parts[0].content_type" = "application/octet-stream"\n'
        f'json."$.parts[0].size" = {size}\n'
        f'json."$.parts[0].sha256" = "{digest}"\n'
        'json."$.parts[1].value" = "1.2.3"\n'
    )


def test_multipart_upload_round_trip(demo_env, tmp_path: Path, monkeypatch, capsys) -> None:
    work = tmp_path / "work"
    (work / "build").mkdir(parents=True)
    (work / "build" / "fw.bin").write_bytes(FIRMWARE)
    monkeypatch.chdir(work)
    url = f"{demo_env.base_url}/thinger/v1/users/demo/devices/nodemcu/firmware"
    curl = (
        f"curl '{url}' -H 'Authorization: Bearer abc' "
        "-F 'firmware=@build/fw.bin;type=application/octet-stream' -F version=1.2.3"
    )
    assert main(["import", "curl", curl, "--into", "uploads.toml", "--name", "upload"]) == 0
    capsys.readouterr()
    path = work / "uploads.toml"
    req = tomllib.loads(path.read_text())["requests"][0]
    assert req["body"] == {
        "multipart": [
            {
                "name": "firmware",
                "file": "build/fw.bin",
                "content_type": "application/octet-stream",
            },
            {"name": "version", "value": "1.2.3"},
        ]
    }
    path.write_text(
        path.read_text() + firmware_expect(len(FIRMWARE), hashlib.sha256(FIRMWARE).hexdigest())
    )
    monkeypatch.chdir(tmp_path)  # the file is found next to the collection, not in the cwd
    assert main(["run", str(path), "--json"]) == 0, capsys.readouterr().err
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] == 1 and all(c["passed"] for c in data["requests"][0]["checks"])


OUTSIDE = """version = 1
[collection]
profile = "demo-thinger"

[[requests]]
name = "upload"
method = "POST"
url = "/v1/users/demo/devices/nodemcu/firmware"
body = {{ multipart = [{{ name = "firmware", file = "{file}" }}] }}
"""


@pytest.mark.parametrize("where", ["../secret.txt", "ABSOLUTE"])
def test_a_file_outside_the_collection_folder_is_refused(
    demo_env, tmp_path: Path, capsys, where: str
) -> None:
    (tmp_path / "secret.txt").write_text("do not upload me")
    folder = tmp_path / "coll"
    folder.mkdir()
    file = str(tmp_path / "secret.txt") if where == "ABSOLUTE" else where
    path = folder / "c.toml"
    path.write_text(OUTSIDE.format(file=file))
    assert main(["run", str(path)]) == 1
    err = capsys.readouterr().err
    assert "outside the collection's folder" in err and "--allow-outside-files" in err
    assert "Traceback" not in err
    assert main(["run", str(path), "--allow-outside-files"]) == 0
    assert "1 passed" in capsys.readouterr().err


def test_a_missing_file_is_a_failed_request_in_words(demo_env, tmp_path: Path, capsys) -> None:
    path = tmp_path / "c.toml"
    path.write_text(OUTSIDE.format(file="missing.bin"))
    assert main(["run", str(path)]) == 1
    err = capsys.readouterr().err
    assert "the file of the multipart part 'firmware' cannot be read" in err
    assert "there is no such file" in err and "Traceback" not in err


def test_export_curl_of_a_multipart_request(demo_env, tmp_path: Path, monkeypatch, capsys) -> None:
    path = tmp_path / "c.toml"
    path.write_text(OUTSIDE.format(file="fw.bin"))
    monkeypatch.chdir(tmp_path)
    assert main(["export", "curl", str(path), "upload"]) == 0
    assert "--form firmware=@fw.bin" in capsys.readouterr().out
    # the path is written as curl, run here, finds the file next to the collection
    monkeypatch.chdir(tmp_path.parent)
    assert main(["export", "curl", str(path), "upload"]) == 0
    assert f"--form firmware=@{tmp_path.name}/fw.bin" in capsys.readouterr().out
