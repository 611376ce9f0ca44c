"""diff_bodies: the JSON-aware unified diff of two response bodies (issue 13)."""

from __future__ import annotations

import json

from workbench.core.bodies import diff as body_diff
from workbench.core.bodies.diff import BodyDiff, DiffLine, diff_bodies, unified_lines
from workbench.core.text import escape_control

UNSAFE = set(
    [chr(c) for c in range(0x20) if c != 0x0A] + ["\x7f", "\x9b", "\u202e", "\u200b", "\ufeff"]
)


def kinds(diff: BodyDiff, kind: str) -> list[str]:
    return [line.text for line in diff.lines if line.kind == kind]


def test_json_with_keys_reordered_and_spaced_differently_is_identical() -> None:
    left = b'{"id": "dev-1", "temp": 21.5, "tags": ["a", "b"], "meta": {"x": 1, "y": 2}}'
    right = b'{\n "meta": {"y": 2, "x": 1},\n  "tags":["a","b"],"temp":21.5,"id":"dev-1"}'
    diff = diff_bodies(left, right, content_type="application/json")
    assert diff.json and diff.identical
    assert (diff.added, diff.removed) == (0, 0)
    assert diff.summary == "JSON-aware · identical"
    assert not kinds(diff, "added") and not kinds(diff, "removed")
    # sniffed as JSON without a content type, too
    assert diff_bodies(left, right).identical


def test_a_changed_value_is_one_line_removed_and_one_added_with_context() -> None:
    before = {"devices": [{"id": f"d{i}", "temp": i} for i in range(10)], "count": 10}
    after = json.loads(json.dumps(before))
    after["devices"][4]["temp"] = 99
    after["alpha"] = True  # sorted first: the other lines keep their commas
    diff = diff_bodies(
        json.dumps(before).encode(),
        json.dumps(after, indent=4).encode(),
        left_label="#12 GET /devices",
        right_label="#15 GET /devices",
    )
    assert diff.json and not diff.identical
    assert kinds(diff, "removed") == ['-      "temp": 4']
    assert kinds(diff, "added") == ['+  "alpha": true,', '+      "temp": 99']
    assert (diff.added, diff.removed) == (2, 1)
    assert diff.summary == "JSON-aware · 2 added, 1 removed"
    assert diff.lines[0] == DiffLine("header", "--- #12 GET /devices")
    assert diff.lines[1] == DiffLine("header", "+++ #15 GET /devices")
    assert kinds(diff, "hunk") and all(h.startswith("@@ -") for h in kinds(diff, "hunk"))
    assert kinds(diff, "context")  # unchanged lines around the change


def test_non_json_text_is_compared_line_by_line() -> None:
    diff = diff_bodies(
        b"alpha\nbeta\ngamma\n", b"alpha\nBETA\ngamma\ndelta\n", content_type="text/plain"
    )
    assert not diff.json and not diff.identical
    assert kinds(diff, "removed") == ["-beta"]
    assert kinds(diff, "added") == ["+BETA", "+delta"]
    assert diff.summary == "text · 2 added, 1 removed"


def test_invalid_json_falls_back_to_text_and_says_why() -> None:
    diff = diff_bodies(b'{"a": 1}', b'{"a": 1,}', content_type="application/json")
    assert not diff.json
    notes = kinds(diff, "header")
    assert any(
        "after: not valid JSON at line 1" in note and "compared as text" in note for note in notes
    )
    assert kinds(diff, "added") == ['+{"a": 1,}']


def test_identical_text_and_empty_bodies() -> None:
    assert diff_bodies(b"same\n", b"same\n").identical
    empty = diff_bodies(b"", b"")
    assert empty.identical and not empty.json
    assert diff_bodies(b"", b"x").added == 1


def test_a_huge_input_is_capped_and_the_header_says_so(monkeypatch) -> None:
    monkeypatch.setattr(body_diff, "MAX_LINES", 1000)
    left = "\n".join(f"line {i}" for i in range(50_000)).encode()
    right = left.replace(b"line 10\n", b"line ten\n").replace(b"line 40000\n", b"x\n")
    diff = diff_bodies(left, right, content_type="text/plain")
    notes = kinds(diff, "header")
    assert any("before: only the first 1,000 of 50,000 lines compared" in n for n in notes)
    assert any("after: only the first 1,000 of 50,000 lines compared" in n for n in notes)
    assert kinds(diff, "added") == ["+line ten"]  # the change past the cap is not shown
    assert not diff.identical  # but the bodies are known to differ


def test_the_default_caps_bound_a_ten_megabyte_text_body() -> None:
    big = b"0123456789abcdef" * (10 * 1024 * 1024 // 16)
    diff = diff_bodies(big, big + b"!", content_type="application/octet-stream")
    assert any("compared" in n for n in kinds(diff, "header"))
    assert len(diff.lines) < body_diff.MAX_LINES * 2 + 20


def test_hostile_control_characters_never_reach_the_lines() -> None:
    nasty = "\x1b]52;c;SGVsbG8=\x07\x1b[2J\u202eevil\x9b31m\u200b\ufeff\r"
    left = json.dumps({"name": "ok"}).encode()
    right = json.dumps({"name": nasty, nasty: 1}, ensure_ascii=False).encode()
    for a, b, ct in (
        (left, right, "application/json"),
        (b"plain\n", ("plain\n" + nasty + "\n").encode(), "text/plain"),
    ):
        diff = diff_bodies(a, b, left_label="x\x1b[31m", right_label=nasty, content_type=ct)
        for line in diff.lines:
            assert not (set(line.text) & UNSAFE), line
            assert escape_control(line.text) == line.text
        assert diff.added >= 1


def test_binary_bodies_are_compared_as_hexdumps() -> None:
    diff = diff_bodies(
        bytes(range(64)),
        bytes(range(32)) + b"\xff" + bytes(range(33, 64)),
        content_type="application/octet-stream",
    )
    assert not diff.json
    assert diff.added == diff.removed == 1
    assert kinds(diff, "added")[0].startswith("+00000020  ff 21")


def test_the_hunks_always_rebuild_both_sides_and_many_changes_stay_fast() -> None:
    import random
    import re
    import time

    def rebuild(a: list[str], b: list[str]) -> None:
        ai = bi = 0
        ra: list[str] = []
        rb: list[str] = []
        for line in unified_lines(a, b, 3):
            if line.kind == "hunk":
                m = re.match(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", line.text)
                assert m is not None
                s1, n1, s2, n2 = (int(g) if g else 1 for g in m.groups())
                st1, st2 = (s1 - 1 if n1 else s1), (s2 - 1 if n2 else s2)
                assert st1 - ai == st2 - bi
                ra += a[ai:st1]
                rb += b[bi:st2]
                ai, bi = st1, st2
            elif line.kind == "context":
                assert a[ai] == b[bi] == line.text[1:]
                ra.append(a[ai])
                rb.append(b[bi])
                ai, bi = ai + 1, bi + 1
            elif line.kind == "removed":
                assert a[ai] == line.text[1:]
                ra.append(a[ai])
                ai += 1
            else:
                assert b[bi] == line.text[1:]
                rb.append(b[bi])
                bi += 1
        assert a[ai:] == b[bi:]
        assert ra + a[ai:] == a and rb + b[bi:] == b

    rng = random.Random(13)
    for _ in range(500):
        a = [rng.choice("abcdefg") for _ in range(rng.randint(0, 30))]
        b = list(a)
        for _ in range(rng.randint(0, 6)):
            op = rng.random()
            if op < 0.4 and b:
                b[rng.randrange(len(b))] = rng.choice("abcxyz")
            elif op < 0.7:
                b.insert(rng.randint(0, len(b)), rng.choice("abcxyz"))
            elif b:
                del b[rng.randrange(len(b))]
        rebuild(a, b)
    left = [f"line {i}" for i in range(20_000)]
    right = [f"LINE {i}" if i % 10 == 0 else line for i, line in enumerate(left)]
    started = time.perf_counter()
    rebuild(left, right)
    assert time.perf_counter() - started < 10  # difflib alone: ~50 s here
    rebuild(["x", "y"] * 5000, ["y", "x"] * 5000)  # no anchors, too big for difflib: bounded
