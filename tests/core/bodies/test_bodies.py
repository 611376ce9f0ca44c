"""Body preparation for display: quick head, full pretty text, escaping, search, child process."""

from __future__ import annotations

import json
import re
import threading
import time
from array import array

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.core.bodies import lines as bodies
from workbench.core.bodies.child import CHUNK_BYTES
from workbench.core.bodies.json_pretty import pretty_json_lines, quick_pretty_head
from workbench.core.bodies.kind import KINDS, detect_kind
from workbench.core.bodies.lines import ChildPreparation, TextLines, prepare_in_child, search
from workbench.core.bodies.prepare import prepare_body, pretty_lines, quick_head
from workbench.core.text import escape_control

# The policy of core/text.py, written out independently: C0/C1, DEL, zero-width, bidi, BOM, surrogates.
UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ud800-\udfff]"
)


def expected_pretty(value: object) -> list[str]:
    return [
        escape_control(line) for line in json.dumps(value, indent=2, ensure_ascii=False).split("\n")
    ]


DOCS: list[object] = [
    {},
    [],
    {"a": {}, "b": [], "c": [{}], "d": [[]], "e": {"f": {}}},
    {"nested": {"deeper": {"list": [1, [2, [3, [4, {"x": None}]]]]}}},
    {
        "unicode": "h\u00e9llo \u4e2d\u6587 \U0001f600",
        "key \u00fc": "\u0627\u0644\u0639\u0631\u0628\u064a\u0629",
    },
    {"escapes": 'quote " backslash \\ slash / nl \n tab \t cr \r bell \x07 esc \x1b nul \x00'},
    {"c1 and bidi": "csi \x9b del \x7f override \u202e iso \u2066 ls \u2028"},
    {"numbers": [0, -0.0, 1.5, -2, 1e100, 1.0e-7, 12345678901234567890, 3.14159]},
    {"literals": [True, False, None]},
    "just a string",
    12,
    None,
    [{"id": i, "tags": ["x"] * (i % 3), "meta": {}} for i in range(40)],
]


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: json.dumps(d)[:30])
@pytest.mark.parametrize(
    "encode",
    [
        lambda d: json.dumps(d),
        lambda d: json.dumps(d, ensure_ascii=False),
        lambda d: json.dumps(d, separators=(",", ":")),
        lambda d: json.dumps(d, indent="\t"),
        lambda d: json.dumps(d, indent=7, ensure_ascii=False).replace("\n", "\r\n"),
    ],
    ids=["default", "utf8", "compact", "tabs", "crlf-indent7"],
)
def test_quick_head_equals_start_of_full_pretty_text(doc: object, encode) -> None:
    body = encode(doc).encode("utf-8")
    full = prepare_body(body, "json")
    assert full.kind == "json" and full.notice is None
    assert full.lines == expected_pretty(doc)
    for n in (1, 2, 3, 7, len(full.lines), len(full.lines) + 5):
        assert quick_pretty_head(body, n) == full.lines[:n]


def test_quick_head_normalises_escapes_and_numbers_like_json_dumps() -> None:
    body = rb'{"s": "caf\u00e9 \/ \ud83d\ude00 \u001b", "n": [1E5, -0, 1.50, 2e-3, 1E400]}'
    head = quick_pretty_head(body, 50)
    assert head == expected_pretty(json.loads(body))
    assert head[1] == '  "s": "café / \U0001f600 \\u001b",'
    assert (
        "    100000.0," in head
        and "    0," in head
        and "    1.5," in head
        and "    Infinity" in head
    )


def test_quick_head_is_fast_and_stops_early_on_a_big_body() -> None:
    body = json.dumps({"items": [{"i": i, "name": f"n{i}"} for i in range(200_000)]}).encode()
    started = time.perf_counter()
    head = quick_pretty_head(body, 100)
    elapsed = time.perf_counter() - started
    assert len(head) == 100
    assert head[:4] == ["{", '  "items": [', "    {", '      "i": 0,']
    assert elapsed < 0.1  # the whole body would take ~100x longer


def test_quick_head_handles_a_value_bigger_than_the_first_decoded_piece() -> None:
    big = "x" * 300_000 + "\u00e9"
    body = json.dumps({"big": big, "after": 1}, ensure_ascii=False).encode()
    assert quick_pretty_head(body, 3) == ["{", f'  "big": "{big}",', '  "after": 1']


def test_quick_head_ndjson_gives_records_one_after_another() -> None:
    records = [{"n": i, "v": [i]} for i in range(5)]
    body = "\n".join(json.dumps(r) for r in records).encode()
    full = prepare_body(body, "ndjson")
    assert full.kind == "ndjson"
    assert full.lines == [line for r in records for line in expected_pretty(r)]
    assert quick_head(body, "ndjson", 12) == full.lines[:12]


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": [1, 2,, 3]}',
        b'{"a": "unterminated',
        b"}}]]{{[[",
        b'{"a" 1 "b": 2}',
        b"not json at all",
        b'{"a": "bad \\escape"}',
        b"\xff\xfe\x00garbage\x1b[31m",
        b"[1, 2] trailing",
        b'{"a": "raw control \x1b[2J in string"}',
    ],
)
def test_invalid_json_never_crashes_and_is_shown_as_text_with_a_notice(body: bytes) -> None:
    head = quick_pretty_head(body, 50)
    assert isinstance(head, list) and len(head) <= 50
    assert not any(UNSAFE.search(line) for line in head)
    prepared = prepare_body(body, "json")
    assert prepared.kind == "text"
    assert prepared.notice is not None and prepared.notice.startswith("invalid JSON")
    assert not any(UNSAFE.search(line) for line in prepared.lines)


def test_invalid_json_notice_names_line_and_column() -> None:
    prepared = prepare_body(b'{\n  "a": 1,\n  "b": ,\n}', "json")
    assert prepared.notice == "invalid JSON at line 3 col 8: Expecting value"
    assert prepared.lines == ["{", '  "a": 1,', '  "b": ,', "}"]


def test_invalid_utf8_and_too_deep_json_are_notices_not_crashes() -> None:
    assert (
        prepare_body(b'{"a": "\xff"}', "json").notice == "invalid JSON: not valid UTF-8 at byte 7"
    )
    deep = b"[" * 100_000 + b"]" * 100_000
    prepared = prepare_body(deep, "json")
    assert prepared.kind == "text" and prepared.notice is not None
    assert len(quick_pretty_head(deep, 5)) == 5


def test_pretty_lines_matches_json_dumps_for_special_floats() -> None:
    body = b'{"a": NaN, "b": Infinity, "c": -Infinity, "d": 1e999}'
    assert pretty_lines(body, "json") == expected_pretty(json.loads(body))
    assert quick_pretty_head(body, 10) == expected_pretty(json.loads(body))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=json_values,
    ensure_ascii=st.booleans(),
    compact=st.booleans(),
    n=st.integers(min_value=1, max_value=80),
)
def test_property_quick_head_matches_json_dumps(value, ensure_ascii, compact, n) -> None:
    separators = (",", ":") if compact else None
    body = json.dumps(value, ensure_ascii=ensure_ascii, separators=separators).encode()
    expected = expected_pretty(value)
    assert quick_pretty_head(body, n) == expected[:n]
    assert pretty_json_lines(json.loads(body)) == json.dumps(
        value, indent=2, ensure_ascii=False
    ).split("\n")
    assert prepare_body(body, "json").lines == expected


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=1, max_value=30))
def test_property_quick_head_never_raises_and_is_display_safe(body: bytes, n: int) -> None:
    for kind in ("json", "text", "binary", "ndjson"):
        head = quick_head(body, kind, n)
        assert len(head) <= n
        assert not any(UNSAFE.search(line) for line in head)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_property_escape_control_is_safe_and_keeps_safe_text(text: str) -> None:
    escaped = escape_control(text)
    assert UNSAFE.search(escaped) is None
    assert "\n" not in escaped
    if UNSAFE.search(text) is None and "\n" not in text:
        assert escaped == text


def test_escape_control_stand_ins() -> None:
    assert escape_control("a\x1b[31mred\x07") == "a\\x1b[31mred\\x07"
    assert escape_control("tab\tnl\ndel\x7f") == "tab\\tnl\\ndel\\x7f"
    assert escape_control("csi\x9bbidi\u202eend") == "csi\\x9bbidi\\u202eend"
    assert escape_control("zw\u200bbom\ufeffsur\ud800") == "zw\\u200bbom\\ufeffsur\\ud800"
    assert escape_control("plain text é 中") == "plain text é 中"


def test_text_bodies_are_escaped_and_tidied() -> None:
    body = b"line1\r\n\ttabbed\r\nansi \x1b[2J\x1b]0;title\x07 clear\n"
    prepared = prepare_body(body, "text")
    assert prepared.lines == ["line1", "    tabbed", "ansi \\x1b[2J\\x1b]0;title\\x07 clear"]
    assert quick_head(body, "text", 2) == prepared.lines[:2]


def test_ndjson_invalid_lines_are_escaped_too() -> None:
    prepared = prepare_body(b'{"a": "\x7f"}\n\x1b[2J not json \x9b\n', "ndjson")
    assert prepared.notice is not None and prepared.notice.startswith("invalid JSON on line 2")
    assert prepared.lines == ["{", '  "a": "\\x7f"', "}", "\\x1b[2J not json \ufffd"]


def test_json_string_with_c1_and_bidi_controls_is_escaped() -> None:
    body = json.dumps({"x": "\x9b31m\u202e\x7f\x1b"}).encode()
    lines = prepare_body(body, "json").lines
    assert lines[1] == '  "x": "\\x9b31m\\u202e\\x7f\\u001b"'
    assert quick_pretty_head(body, 5) == lines


def test_binary_is_a_hexdump() -> None:
    body = bytes(range(20))
    prepared = prepare_body(body, "binary")
    assert prepared.lines[0] == (
        "00000000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|"
    )
    assert prepared.lines[1].startswith("00000010  10 11 12 13") and prepared.lines[1].endswith(
        "|....|"
    )
    assert quick_head(body, "binary", 1) == prepared.lines[:1]


def test_empty_body() -> None:
    for kind in KINDS:
        assert prepare_body(b"", kind).lines == []
        assert quick_head(b"", kind, 10) == []


def test_widths_count_wide_characters() -> None:
    prepared = prepare_body("ab\n中文\né\n".encode(), "text")
    assert list(prepared.widths) == [2, 4, 1]
    assert prepared.max_width == 4


@pytest.mark.parametrize(
    ("content_type", "body", "kind"),
    [
        ("application/json", b"{}", "json"),
        ("application/json; charset=utf-8", b"garbage", "json"),
        ("application/problem+json", b"{}", "json"),
        ("application/vnd.api+json", b"{}", "json"),
        ("application/x-ndjson", b"{}\n{}", "ndjson"),
        ("text/event-stream", b"data: 1\n\n", "sse"),
        ("application/xml", b"<a/>", "xml"),
        ("application/atom+xml", b"<a/>", "xml"),
        ("text/html; charset=utf-8", b"<html>", "html"),
        ("text/plain", b"hello", "text"),
        ("image/png", b"\x89PNG", "binary"),
        ("application/octet-stream", b"\x00\x01\x02", "binary"),
        ("application/octet-stream", b"plain words", "text"),
        (None, b'  {"a": 1}', "json"),
        (None, b'{"a": 1}\n{"a": 2}\n', "ndjson"),
        (None, b"<?xml version='1.0'?><a/>", "xml"),
        (None, b"<!DOCTYPE html><html></html>", "html"),
        (None, b"data: hello\n\n", "sse"),
        (None, b"\x00\x00\x01\xff", "binary"),
        (None, b"hello world", "text"),
        ("", b"", "text"),
    ],
)
def test_detect_kind(content_type: str | None, body: bytes, kind: str) -> None:
    assert detect_kind(content_type, body) == kind


def test_search_smart_case_and_positions() -> None:
    lines = ["Alpha beta alpha", "nothing", "ALPHA", "alphaalpha"]
    assert search(lines, "alpha") == [(0, 0), (0, 11), (2, 0), (3, 0), (3, 5)]
    assert search(lines, "Alpha") == [(0, 0)]
    assert search(lines, "alpha", case_sensitive=True) == [(0, 11), (3, 0), (3, 5)]
    assert search(lines, "aa") == [(3, 4)]
    assert search(lines, "") == []
    assert search(lines, "zzz") == []
    assert search(lines, "alpha", limit=2) == [(0, 0), (0, 11)]


def test_search_columns_stay_true_when_lowercasing_changes_length() -> None:
    lines = ["\u0130stanbul needle"]  # 'İ'.lower() is two characters
    assert lines[0].lower().find("needle") == 10  # the naive column would be off by one
    assert search(lines, "needle") == [(0, 9)]
    assert lines[0][9:15] == "needle"


def test_chunk_spans_reassemble_exactly() -> None:
    samples = [
        b"",
        b"a",
        b"\n",
        b"\n\n",
        b"abc\ndef\n",
        b"0123456789\n0123456789",
        "x" * 25 + "\u00e9\u4e2d" * 7 + "\nshort\n\n" + "y" * 40,
    ]
    for sample in samples:
        data = sample if isinstance(sample, bytes) else sample.encode()
        for size in (4, 7, 10, 11, 64):
            lines: list[str] = []
            partial: list[str] = []
            for tag, start, end in bodies._chunk_spans(data, size):
                assert end - start <= size
                text = data[start:end].decode()  # every piece decodes on its own
                if tag == b"P":
                    partial.append(text)
                    continue
                pieces = text.split("\n")
                if partial:
                    pieces[0] = "".join([*partial, pieces[0]])
                    partial = []
                lines.extend(pieces)
            assert lines == data.decode().split("\n"), (data, size)


def test_child_process_gives_the_same_result_as_in_process() -> None:
    docs = {
        "devices": [
            {"id": f"d{i}", "name": f"Sensor \u00e9 {i}", "v": i * 1.5} for i in range(20_000)
        ]
    }
    body = json.dumps(docs).encode()
    assert len(body) > CHUNK_BYTES  # several chunks
    in_process = prepare_body(body, "json")
    in_child = prepare_in_child(body, "json")
    assert in_child.lines == in_process.lines
    assert list(in_child.widths) == list(in_process.widths)
    assert (in_child.kind, in_child.notice, in_child.max_width) == (
        "json",
        None,
        in_process.max_width,
    )


def test_child_process_long_lines_notices_and_text() -> None:
    long_line = ("z" * (CHUNK_BYTES + 10) + "\u4e2d") * 2
    for body, kind in [
        (f"start\n{long_line}\nend\n".encode(), "text"),
        (b'{"broken": [1,,]}', "json"),
        (b"", "json"),
        (bytes(range(256)), "binary"),
    ]:
        expected = prepare_body(body, kind)
        got = prepare_in_child(body, kind)
        assert (got.lines, got.kind, got.notice) == (expected.lines, expected.kind, expected.notice)


def test_child_process_can_be_cancelled() -> None:
    body = json.dumps([{"i": i, "s": "x" * 20} for i in range(300_000)]).encode()
    job = ChildPreparation(body, "json")
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(job.run()))
    thread.start()
    deadline = time.monotonic() + 10
    while job.pid is None and time.monotonic() < deadline:
        time.sleep(0.005)
    job.cancel()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert result == [None]
    assert job.cancelled


def test_text_lines_behaves_like_a_list() -> None:
    lines = ["first", "", "third \u4e2d", "", ""]
    store = TextLines.from_lines(lines)
    assert len(store) == 5 and list(store) == lines and store == lines
    assert [store[i] for i in range(-5, 5)] == lines + lines
    assert store[1:4] == lines[1:4] and store[::2] == lines[::2]
    with pytest.raises(IndexError):
        store[5]
    assert len(TextLines.from_lines([])) == 0 and list(TextLines.from_lines([""])) == [""]
    chunked = TextLines.from_lines(lines, chunk_chars=3)  # several chunks of whole lines
    assert list(chunked) == lines and [chunked[i] for i in range(5)] == lines
    assert chunked.text == "\n".join(lines)
    with pytest.raises(ValueError):
        TextLines("abc", array("Q", [0, 2]))


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(st.text(alphabet="abAB \u0130\u4e2dx", max_size=12), max_size=30),
    needle=st.text(alphabet="abAB\u0130x", min_size=1, max_size=3),
    window=st.integers(min_value=1, max_value=40),
)
def test_property_text_lines_search_equals_list_search(lines, needle, window) -> None:
    store = TextLines.from_lines(lines, chunk_chars=window)
    assert store == lines and list(store) == lines
    saved = bodies._SEARCH_WINDOW
    bodies._SEARCH_WINDOW = window  # windows of a few characters: many window edges
    try:
        for case_sensitive in (None, True, False):
            assert search(store, needle, case_sensitive=case_sensitive) == search(
                list(lines), needle, case_sensitive=case_sensitive
            )
    finally:
        bodies._SEARCH_WINDOW = saved
