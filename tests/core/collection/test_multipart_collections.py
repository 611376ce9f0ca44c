"""Issue 13: multipart bodies in collections: the format (load, save, round trip), errors
naming file and key, and the file policy (paths relative to the collection's folder; leaving
it is refused unless allowed)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from workbench.core.collection.collection import load_collection, new_collection
from workbench.core.collection.model import CollectionRequest, part_path
from workbench.core.errors import CollectionError, ConfigError
from workbench.core.requests import BodyPart, RequestSpec

UPLOAD = """version = 1

[[requests]]
name = "upload"
method = "POST"
url = "https://h.example/up"
body = { multipart = [
  { name = "firmware", file = "fw/fw.bin", content_type = "application/octet-stream" },
  { name = "version", value = "1.2.3" },
] }

[[requests]]
name = "as tables"
method = "POST"
url = "https://h.example/up"

[[requests.body.multipart]]
name = "a"
value = ""

[[requests.body.multipart]]
name = "b"
file = "b.txt"
filename = "other.txt"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text)
    return path


def test_load_both_layouts(tmp_path: Path) -> None:
    coll = load_collection(write(tmp_path, UPLOAD))
    first = coll.request("upload").spec
    assert first.body_kind == "multipart"
    assert first.parts == [
        BodyPart("firmware", file="fw/fw.bin", content_type="application/octet-stream"),
        BodyPart("version", value="1.2.3"),
    ]
    assert coll.request("as tables").spec.parts == [
        BodyPart("a", value=""),
        BodyPart("b", file="b.txt", filename="other.txt"),
    ]


def test_save_round_trips_one_part_a_line(tmp_path: Path) -> None:
    coll = load_collection(write(tmp_path, UPLOAD))
    spec = RequestSpec(
        method="POST",
        url="/up",
        name="new",
        body_kind="multipart",
        parts=[BodyPart("x", file='we"ird;.bin'), BodyPart("y", value="multi\nline")],
    )
    coll.add_request(CollectionRequest(spec=spec))
    coll.save()
    text = coll.path.read_text()
    assert text.startswith(UPLOAD)  # the rest of the file as it was
    assert """  { name = "x", file = 'we"ird;.bin' },\n""" in text
    again = load_collection(coll.path)
    assert again.request("new").spec.parts == spec.parts
    assert tomllib.loads(text)["requests"][2]["body"]["multipart"][1]["value"] == "multi\nline"


def test_new_collection_text(tmp_path: Path) -> None:
    coll = new_collection(tmp_path / "n.toml", name="n")
    spec = RequestSpec(
        method="POST",
        url="/up",
        name="u",
        body_kind="multipart",
        parts=[BodyPart("f", file="a.bin", content_type="application/octet-stream")],
    )
    coll.add_request(CollectionRequest(spec=spec))
    coll.save()
    assert load_collection(coll.path).request("u").spec.parts == spec.parts


def test_secret_fields_are_saved_as_references(tmp_path: Path) -> None:
    coll = new_collection(tmp_path / "s.toml", name="s")
    spec = RequestSpec(
        method="POST",
        url="/up",
        name="u",
        body_kind="multipart",
        parts=[BodyPart("f", file="a.bin"), BodyPart("password", value="hunter2-hunter2")],
    )
    coll.add_request(CollectionRequest(spec=spec))
    coll.save()
    text = coll.path.read_text()
    assert "hunter2" not in text and '{ name = "password", value = "{{password}}" }' in text


@pytest.mark.parametrize(
    ("body", "words", "key"),
    [
        ('{ multipart = "x" }', "must be an array of parts", "multipart"),
        ("{ multipart = [1] }", "part 1 of 'multipart' must be a table", None),
        ('{ multipart = [{ value = "x" }] }', "has no 'name'", None),
        ('{ multipart = [{ name = "a" }] }', "either 'value'", None),
        ('{ multipart = [{ name = "a", value = "x", file = "f" }] }', "either 'value'", None),
        ('{ multipart = [{ name = "a", value = "x", size = 3 }] }', "unknown key 'size'", "size"),
        ('{ multipart = [{ name = "a", file = 3 }] }', "'file' must be a string", "file"),
        ('{ multipart = [{ name = "a", file = "" }] }', "'file' must not be empty", "file"),
        ('{ multipart = [{ name = "a", file = "x\\ny" }] }', "must be on one line", "file"),
    ],
)
def test_bad_parts_are_clear_errors(tmp_path: Path, body: str, words: str, key: str | None) -> None:
    text = f'version = 1\n[[requests]]\nname = "u"\nurl = "https://h/"\nbody = {body}\n'
    with pytest.raises(CollectionError) as info:
        load_collection(write(tmp_path, text))
    err = info.value
    assert words in err.message and err.line == 5
    if key:
        assert key in (err.key or "")


# --- the file policy ----------------------------------------------------------------------


def test_part_paths_stay_in_the_collection_folder(tmp_path: Path) -> None:
    folder = tmp_path / "coll"
    (folder / "fw").mkdir(parents=True)
    (folder / "fw" / "a.bin").write_bytes(b"x")
    (tmp_path / "secret.txt").write_text("s")
    inside = part_path("r", BodyPart("f", file="fw/a.bin"), folder)
    assert inside == str((folder / "fw" / "a.bin").resolve())
    assert part_path("r", BodyPart("f", file="fw/../fw/a.bin"), folder) == inside
    for outside in ("../secret.txt", str(tmp_path / "secret.txt"), "/etc/passwd", "~/.ssh/id"):
        with pytest.raises(CollectionError, match="outside the collection's folder") as info:
            part_path("r", BodyPart("f", file=outside), folder)
        assert "--allow-outside-files" in (info.value.hint or "")
    assert part_path("r", BodyPart("f", file="../secret.txt"), folder, anywhere=True) == str(
        (tmp_path / "secret.txt").resolve()
    )


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_a_symlink_leading_out_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "coll"
    folder.mkdir()
    (tmp_path / "secret.txt").write_text("s")
    (folder / "link.txt").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(CollectionError, match="outside"):
        part_path("r", BodyPart("f", file="link.txt"), folder)


def test_prepare_resolves_files_and_a_missing_file_is_clear(tmp_path: Path) -> None:
    import httpx

    (tmp_path / "fw.bin").write_bytes(b"\x00\x01firmware")
    req = CollectionRequest(
        spec=RequestSpec(
            method="POST",
            url="https://h.example/{{path}}",
            name="u",
            body_kind="multipart",
            parts=[
                BodyPart("fw", file="{{file}}", content_type="application/octet-stream"),
                BodyPart("v", value="{{version}}"),
            ],
        )
    )
    spec = req.prepare({"path": "up", "file": "fw.bin", "version": "2"}, files_dir=tmp_path)
    assert spec.parts[0].file == str((tmp_path / "fw.bin").resolve())
    assert spec.parts[1].value == "2"
    with httpx.Client() as client:
        request = spec.to_httpx(client)
    body = request.read()
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="fw"; filename="fw.bin"' in body and b"\x00\x01firmware" in body
    assert b"Content-Type: application/octet-stream" in body
    assert b'name="v"\r\n\r\n2\r\n' in body
    missing = req.prepare({"path": "up", "file": "nope.bin", "version": "2"}, files_dir=tmp_path)
    with httpx.Client() as client, pytest.raises(ConfigError) as info:
        missing.to_httpx(client)
    assert "multipart part 'fw' cannot be read" in info.value.message
    assert "no such file" in info.value.message
