"""`workbench import curl -F name=@file --into FILE` follows the rule of every save into a
collection: the file is written relative to the collection's folder (the same file curl
read from the working directory), and a file outside that folder is refused in words,
exit 2, nothing written (before, a ``../`` path was written that `workbench run` refuses)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from workbench.cli import main


def curl(form: str) -> str:
    return f"curl https://h.example/up -F '{form}' -F version=1"


def test_a_file_outside_the_collections_folder_is_refused(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    work = tmp_path / "work"
    (work / "build").mkdir(parents=True)
    (work / "build" / "fw.bin").write_bytes(b"fw")
    (work / "colls").mkdir()
    monkeypatch.chdir(work)
    target = work / "colls" / "c.toml"
    code = main(["import", "curl", curl("firmware=@build/fw.bin"), "--into", str(target)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "the file 'build/fw.bin' of part 'firmware'" in err
    assert "outside the folder of the collection it is saved into" in err
    assert "copy the file into" in err and "Traceback" not in err
    assert not target.exists()


def test_a_file_inside_is_written_relative_to_the_collection(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    work = tmp_path / "work"
    (work / "build").mkdir(parents=True)
    (work / "build" / "fw.bin").write_bytes(b"fw")
    monkeypatch.chdir(work / "build")
    target = tmp_path / "c.toml"
    assert main(["import", "curl", curl("firmware=@fw.bin"), "--into", str(target)]) == 0
    err = capsys.readouterr().err
    (firmware, _) = tomllib.loads(target.read_text())["requests"][0]["body"]["multipart"]
    assert firmware["file"] == "work/build/fw.bin"
    assert "written as 'work/build/fw.bin'" in err
