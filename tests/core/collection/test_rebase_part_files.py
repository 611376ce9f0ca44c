"""A multipart request saved into a collection in ANOTHER folder keeps naming the same
files: each file part's path is rewritten relative to the new folder, and a file outside
that folder is refused with a clear message (workbench.core.collection.model
.rebase_part_files; docs/collections.md, "Saving into another collection")."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.core.collection.collection import load_collection, new_collection
from workbench.core.collection.model import CollectionRequest, part_files, rebase_part_files
from workbench.core.errors import CollectionError
from workbench.core.requests import BodyPart, RequestSpec


def tree(tmp_path: Path) -> tuple[Path, Path]:
    """root/a holds collection A's files (fw.bin, build/fw-1.bin); returns (root, root/a)."""
    root = tmp_path / "root"
    a = root / "a"
    (a / "build").mkdir(parents=True)
    (a / "fw.bin").write_bytes(b"A's firmware")
    (a / "build" / "fw-1.bin").write_bytes(b"A's build")
    return root, a


def parts(*files: str) -> list[BodyPart]:
    return [
        BodyPart("version", value="1"),
        *(BodyPart(f"f{n}", file=f, content_type="x/y") for n, f in enumerate(files)),
    ]


def test_saved_into_a_parent_folder_the_paths_name_the_same_files(tmp_path: Path) -> None:
    root, a = tree(tmp_path)
    new, notes = rebase_part_files("up", parts("fw.bin", "build/fw-{{v}}.bin"), a, root)
    assert new[0] == BodyPart("version", value="1")
    assert [p.file for p in new[1:]] == ["a/fw.bin", "a/build/fw-{{v}}.bin"]
    assert new[1].content_type == "x/y" and new[1].name == "f0"
    assert any("'a/fw.bin'" in n and "the same file as 'fw.bin'" in n for n in notes), notes
    # the same absolute file, by the rule `workbench run` uses
    before = part_files("up", parts("fw.bin"), a)[1].file
    after = part_files("up", new[:2], root)[1].file
    assert before == after == str((a / "fw.bin").resolve())


def test_saved_into_a_subfolder_holding_the_file(tmp_path: Path) -> None:
    _, a = tree(tmp_path)
    new, _ = rebase_part_files("up", parts("build/fw-1.bin"), a, a / "build")
    assert new[1].file == "fw-1.bin"


def test_a_file_outside_the_new_folder_is_refused_in_words(tmp_path: Path) -> None:
    root, a = tree(tmp_path)
    b = root / "b"
    b.mkdir()
    with pytest.raises(CollectionError) as info:
        rebase_part_files("upload", parts("fw.bin"), a, b)
    err = info.value
    assert "request 'upload'" in err.message
    assert "the file 'fw.bin' of part 'f0'" in err.message
    assert str((a / "fw.bin").resolve()) in err.message
    assert f"outside the folder of the collection it is saved into ({b.resolve()})" in err.message
    assert "nothing was saved" in err.message
    assert err.hint is not None
    assert f"copy the file into {b.resolve()}" in err.hint


def test_a_symlink_leading_out_is_refused(tmp_path: Path) -> None:
    root, a = tree(tmp_path)
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"elsewhere")
    (a / "link.bin").symlink_to(outside)
    with pytest.raises(CollectionError, match="outside the folder"):
        rebase_part_files("up", parts("link.bin"), a, root)


def test_the_same_folder_keeps_relative_paths_as_written(tmp_path: Path) -> None:
    _, a = tree(tmp_path)
    given = parts("fw.bin", "./build/../fw.bin", "{{dir}}/fw.bin")
    new, notes = rebase_part_files("up", given, a, a)
    assert new == given and notes == []


def test_the_same_folder_still_refuses_a_file_leading_out(tmp_path: Path) -> None:
    root, a = tree(tmp_path)
    (root / "secret.txt").write_text("not for upload")
    with pytest.raises(CollectionError, match="outside the folder"):
        rebase_part_files("up", parts("../secret.txt"), a, a)


def test_an_absolute_path_becomes_relative(tmp_path: Path) -> None:
    """A request reopened from the history names its files by absolute paths."""
    root, a = tree(tmp_path)
    new, _ = rebase_part_files("up", parts(str(a / "fw.bin")), tmp_path / "cwd", root)
    assert new[1].file == "a/fw.bin"
    with pytest.raises(CollectionError, match="outside the folder"):
        rebase_part_files("up", parts(str(a / "fw.bin")), root, root / "b")


def test_a_path_starting_with_a_variable_is_kept_with_a_note(tmp_path: Path) -> None:
    root, a = tree(tmp_path)
    new, notes = rebase_part_files("up", parts("{{fw_path}}"), a, root)
    assert new[1].file == "{{fw_path}}"
    assert any("starts with a variable" in n for n in notes)


def test_a_missing_file_is_rewritten_with_a_note(tmp_path: Path) -> None:
    root, a = tree(tmp_path)
    new, notes = rebase_part_files("up", parts("later.bin"), a, root)
    assert new[1].file == "a/later.bin"
    assert any("does not exist (yet)" in n for n in notes)


def test_saved_and_loaded_the_collection_reads_the_same_file(tmp_path: Path) -> None:
    root, a = tree(tmp_path)
    spec = RequestSpec(
        method="POST", url="/up", body_kind="multipart", parts=parts("fw.bin"), name="up"
    )
    new, _ = rebase_part_files("up", spec.parts, a, root)
    spec.parts = new
    target = new_collection(root / "b.toml")
    target.add_request(CollectionRequest(spec=spec))
    target.save()
    loaded = load_collection(root / "b.toml")
    sent = loaded.request("up").prepare({}, "http://h", files_dir=root)
    assert Path(sent.parts[1].file or "").read_bytes() == b"A's firmware"


def test_a_hostile_path_is_an_error_in_words(tmp_path: Path) -> None:
    root, a = tree(tmp_path)
    with pytest.raises(CollectionError, match="is not a usable path"):
        rebase_part_files("up", parts("fw\x00.bin"), a, root)
