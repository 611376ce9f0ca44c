"""Bodies kept on disk: the files the helper writes (text, mmap-backed line starts, widths),
the lines read back from them, the private files' modes and removal, and search over them."""

from __future__ import annotations

import gc
import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.core.bodies import file_prepare
from workbench.core.bodies.file_lines import BodyFiles, FileLines, map_widths, sweep_stale
from workbench.core.bodies.file_prepare import FileMeta, prepare_to_files, search_file
from workbench.core.bodies.prepare import prepare_body
from workbench.core.errors import ResponseError


def prepared(
    files: BodyFiles, body: bytes, kind: str, charset: str | None = None
) -> tuple[FileMeta, FileLines]:
    """``body`` written to ``files`` and prepared into them as ``kind``; the lines opened."""
    if os.path.exists(files.raw):
        os.unlink(files.raw)
    files.write_raw(body)
    meta = prepare_to_files(
        files.raw,
        kind,
        charset=charset,
        text_path=files.text,
        starts_path=files.starts,
        widths_path=files.widths,
    )
    return meta, FileLines(files.text, files.starts)


@pytest.fixture
def files():
    made = BodyFiles()
    yield made
    made.remove()


def assert_same_as_in_memory(files: BodyFiles, body: bytes, kind: str) -> None:
    meta, lines = prepared(files, body, kind)
    expected = prepare_body(body, kind)
    assert list(lines) == list(expected.lines)
    assert (meta.kind, meta.notice, meta.count) == (expected.kind, expected.notice, len(lines))
    assert list(map_widths(files.widths)) == list(expected.widths)
    assert meta.max_width == expected.max_width
    lines.close()


def test_lines_are_read_through_the_offset_index(files: BodyFiles) -> None:
    body = "".join(f"line {i} é\n" for i in range(5000)).encode()
    meta, lines = prepared(files, body, "text")
    assert meta.count == len(lines) == 5000
    assert lines[0] == "line 0 é" and lines[4999] == "line 4999 é" and lines[-1] == lines[4999]
    assert lines[10:13] == ["line 10 é", "line 11 é", "line 12 é"]
    with pytest.raises(IndexError):
        lines[5000]
    # the starts file is the byte offset of every line, then the size of the text
    raw_starts = Path(files.starts).read_bytes()
    assert len(raw_starts) == 8 * 5001
    assert int.from_bytes(raw_starts[-8:], "little") == os.path.getsize(files.text) == lines.size
    assert list(map_widths(files.widths))[:2] == [8, 8]
    lines.close()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"one\r\ntwo\r\n", ["one", "two"]),
        (b"one\ntwo", ["one", "two"]),  # no newline at the end
        (b"one\n\n", ["one", ""]),
        (b"tab\there\n", ["tab here"]),
        (b"ok\n\xff\xfe bad\n", ["ok", "\ufffd\ufffd bad"]),  # invalid UTF-8 is replaced
        (b"\x1b[31mred\n", ["\\x1b[31mred"]),  # display safe
    ],
)
def test_text_edge_cases_match_the_in_memory_preparation(
    files: BodyFiles, body: bytes, expected: list[str]
) -> None:
    meta, lines = prepared(files, body, "text")
    assert list(lines) == expected == prepare_body(body, "text").lines
    assert meta.notice is None
    lines.close()


def test_crlf_split_across_read_blocks_is_still_one_line_end(
    files: BodyFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(file_prepare, "BLOCK", 4)
    body = b"abc\r\nde\r\nfghij\r\n" * 3
    _, lines = prepared(files, body, "text")
    assert list(lines) == ["abc", "de", "fghij"] * 3
    lines.close()


def test_a_line_longer_than_any_buffer(files: BodyFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_prepare, "BLOCK", 64)
    long_line = "x" * 10_000 + "NEEDLE" + "y" * 500
    body = f"short\n{long_line}\nend".encode()
    meta, lines = prepared(files, body, "text")
    assert list(lines) == ["short", long_line, "end"]
    assert meta.max_width == len(long_line)
    found = [m for batch in search_file(files.text, "needle", block=64) for m in batch]
    assert found == [(1, 10_000)]
    lines.close()


def test_invalid_utf8_in_json_is_shown_as_text_with_the_same_notice(files: BodyFiles) -> None:
    body = b'{"a": "\xff"}\n'
    meta, lines = prepared(files, body, "json")
    expected = prepare_body(body, "json")
    assert (meta.kind, meta.notice) == ("text", expected.notice) == ("text", expected.notice)
    assert "not valid UTF-8 at byte 7" in (meta.notice or "")
    assert list(lines) == list(expected.lines)
    lines.close()


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": [1, 2, {"b": null, "c": "x\\u007f"}], "d": {}, "e": [], "f": "\xc3\xa9\x1b"}',
        b"[1, 2, 3]",
        b'"just a string"',
        b" 12.50 ",
        b'{"a": 1, "b": [true, false, null, 1e5, -0.0, 1E400, 123456789012345678901234]}',
        b'{"a": 1,}',
        b'{"a": 1} trailing',
        b"[1, 2",
        b'{\n  "a": [1,\n 2, x]}',
        b"[[[[]]]]",
        b'{"a": 1, "b": 2, "a": 3}',  # a repeated key: json.loads keeps the last value
        b"[" * 5000 + b"]" * 5000,  # nested too deeply
        b"",
    ],
)
@pytest.mark.parametrize("whole_limit", [8, 1 << 20])
def test_json_equals_the_in_memory_pretty_form(
    files: BodyFiles, monkeypatch: pytest.MonkeyPatch, body: bytes, whole_limit: int
) -> None:
    """Walked member by member (tiny limit) or parsed whole: the same lines and notices."""
    monkeypatch.setattr(file_prepare, "WHOLE_LIMIT", whole_limit)
    assert_same_as_in_memory(files, body, "json")


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=JSON_VALUES, compact=st.booleans())
def test_json_property_walked_or_whole(
    files: BodyFiles, monkeypatch: pytest.MonkeyPatch, value: object, compact: bool
) -> None:
    monkeypatch.setattr(file_prepare, "WHOLE_LIMIT", 16)
    monkeypatch.setattr(file_prepare, "BATCH", 2)  # members written a few at a time
    separators = (",", ":") if compact else (", ", ": ")
    body = json.dumps(value, separators=separators, ensure_ascii=compact).encode()
    assert_same_as_in_memory(files, body, "json")


def test_ndjson_and_binary_match_the_in_memory_preparation(files: BodyFiles) -> None:
    assert_same_as_in_memory(files, b'{"a":1}\n{bad\n\n[1,2]\n', "ndjson")
    assert_same_as_in_memory(files, bytes(range(256)) * 300, "binary")


def test_files_are_private_and_removed(files: BodyFiles) -> None:
    _, lines = prepared(files, b"secret token\n" * 10, "text")
    assert stat.S_IMODE(os.stat(files.directory).st_mode) == 0o700
    for path in (files.raw, files.text, files.starts, files.widths):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    files.remove()
    assert not os.path.exists(files.directory) and not files.exists
    files.remove()  # again: nothing happens
    lines.close()


def test_files_are_removed_when_forgotten() -> None:
    made = BodyFiles()
    made.write_raw(b"x")
    directory = made.directory
    del made
    gc.collect()
    assert not os.path.exists(directory)


def test_lines_stay_readable_when_the_files_are_deleted_under_them(files: BodyFiles) -> None:
    _, lines = prepared(files, b"alpha\nbeta\ngamma\n", "text")
    assert lines[0] == "alpha"
    files.remove()
    assert not os.path.exists(files.text)
    assert lines[2] == "gamma" and lines[1] == "beta"  # the open file and the map remain
    lines.close()
    assert len(lines) == 0 and list(lines) == []


def test_a_damaged_or_missing_index_is_an_error_in_words(files: BodyFiles) -> None:
    _, lines = prepared(files, b"alpha\nbeta\n", "text")
    lines.close()
    with open(files.starts, "ab") as handle:
        handle.write(b"\x01")
    with pytest.raises(ResponseError, match="damaged"):
        FileLines(files.text, files.starts)
    with pytest.raises(ResponseError, match="could not read the prepared body"):
        FileLines(files.text, os.path.join(files.directory, "missing"))


def test_search_smart_case_columns_and_limit(files: BodyFiles) -> None:
    body = "Alpha beta\nBETA gamma beta\nİstanbul beta\n".encode()
    prepared(files, body, "text")[1].close()

    def found(needle: str, **kwargs: object) -> list[tuple[int, int]]:
        return [m for batch in search_file(files.text, needle, **kwargs) for m in batch]  # type: ignore[arg-type]

    assert found("beta") == [(0, 6), (1, 0), (1, 11), (2, 9)]  # lower case: any case
    assert found("BETA") == [(1, 0)]  # a capital: exact case
    assert found("beta", case_sensitive=True) == [(0, 6), (1, 11), (2, 9)]
    assert found("beta", limit=2) == [(0, 6), (1, 0)]
    assert found("") == [] and found("a\nb") == []


@pytest.mark.parametrize("needle", ["k", "i", "beta", "Beta", "é", "É", "ßeta"])
def test_search_in_bytes_agrees_with_searching_the_text(files: BodyFiles, needle: str) -> None:
    """ASCII needles are searched in the UTF-8 bytes: same matches and character columns
    as the in-memory search, also next to the characters whose lower case is ASCII."""
    from workbench.core.bodies.lines import search

    text = "é Beta k\n\u212a and \u0130i beta\nÉtÉ ßeta BETA\n" * 3
    lines, _ = prepared(files, text.encode(), "text")[1], None
    expected = search(text.rstrip("\n").split("\n"), needle)
    found = [m for batch in search_file(files.text, needle, block=16) for m in batch]
    assert found == expected
    lines.close()


def test_directories_left_by_a_killed_process_are_swept(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = int(done.stdout)
    stale = tmp_path / f"{BodyFiles.PREFIX}{dead}-abc"
    stale.mkdir()
    (stale / "body.txt").write_text("left over")
    alive = tmp_path / f"{BodyFiles.PREFIX}{os.getpid()}-def"
    alive.mkdir()
    other = tmp_path / "something-else"
    other.mkdir()
    assert sweep_stale(str(tmp_path)) == [str(stale)]
    assert not stale.exists() and alive.exists() and other.exists()


LOCATE_DOCUMENTS = [
    b'{"a": [1, {"b": [true, null], "c": {}}, []], "d": "x\\u001by", "e": {"f": {"g": 1.5}}}',
    b'[{"id": 1, "tags": ["a", "b"]}, {"id": 2, "tags": []}, 3]',
    b'"scalar"',
]


@pytest.mark.parametrize("body", LOCATE_DOCUMENTS)
@pytest.mark.parametrize("whole_limit", [8, 1 << 20])
def test_locating_a_line_in_the_file_agrees_with_parsing_it_whole(
    files: BodyFiles, monkeypatch: pytest.MonkeyPatch, body: bytes, whole_limit: int
) -> None:
    """Every pretty line: the same JSONPath and value; a container too big to parse whole
    keeps its path and says in words that its value is too big to copy."""
    from workbench.core.bodies.file_prepare import locate_in_file
    from workbench.core.bodies.json_path import locate_in_body

    monkeypatch.setattr(file_prepare, "WHOLE_LIMIT", whole_limit)
    count = len(prepare_body(body, "json").lines)
    files.write_raw(body)
    too_big = 0
    for line in range(count + 1):
        expected = locate_in_body(body, line)
        found = locate_in_file(files.raw, line)
        if found.error and "too big" in found.error:
            too_big += 1
            assert found.path == expected.path and not expected.error
            continue
        assert found == expected, line
    assert (too_big > 0) == (whole_limit == 8 and body.startswith((b"{", b"[")))


def test_locating_in_a_file_that_is_not_json_or_is_gone(files: BodyFiles) -> None:
    from workbench.core.bodies.file_prepare import locate_in_file

    files.write_raw(b'{"a": }')
    assert locate_in_file(files.raw, 0).error == "the body is not valid JSON"
    assert "could not read the body" in locate_in_file(files.raw + ".gone", 0).error
