"""locate_line / json_path: the JSONPath of the value a pretty-printed JSON line shows."""

from __future__ import annotations

import json

import pytest

from workbench.core.bodies import json_path as json_path_module
from workbench.core.bodies.json_path import json_path, line_count, locate_in_body, locate_line
from workbench.core.bodies.json_pretty import pretty_json_lines
from workbench.core.text import escape_control

DOC = {
    "data": [
        {"deviceId": "dev-0", "meta": {}},
        {"deviceId": "dev-1", "tags": ["a", "b"]},
        {},
        {"deviceId": "dev-3", "reading": {"temp": 21.5, "ok": True, "note": None}},
    ],
    "a.b": 1,
    "it's": {"back\\slash": [[]]},
    "温度": 3,
    "sp ace": "x",
    "": "empty key",
    "\u202eevil\x1b[31m": "hostile",
}


def path_of(doc: object, needle: str) -> str:
    """The path of the first pretty line containing ``needle``."""
    lines = pretty_json_lines(doc)
    index = next(i for i, line in enumerate(lines) if needle in line)
    found = locate_line(doc, index)
    assert found is not None
    return found.path


def test_paths_of_members_and_array_items() -> None:
    assert path_of(DOC, '"deviceId": "dev-3"') == "$.data[3].deviceId"
    assert path_of(DOC, '"temp": 21.5') == "$.data[3].reading.temp"
    assert path_of(DOC, '"a",') == "$.data[1].tags[0]"
    assert path_of(DOC, '"b"') == "$.data[1].tags[1]"
    assert path_of(DOC, '"meta": {}') == "$.data[0].meta"
    assert path_of(DOC, '"data": [') == "$.data"


def test_odd_keys_are_quoted_and_escaped() -> None:
    assert path_of(DOC, '"a.b": 1') == "$['a.b']"
    assert path_of(DOC, '"it\'s"') == "$['it\\'s']"
    assert path_of(DOC, "back") == "$['it\\'s']['back\\\\slash']"
    assert path_of(DOC, "温度") == "$['温度']"
    assert path_of(DOC, '"sp ace"') == "$['sp ace']"
    assert path_of(DOC, '"empty key"') == "$['']"
    hostile = path_of(DOC, '"hostile"')
    assert hostile == "$['\\u202eevil\\u001b[31m']"
    assert escape_control(hostile) == hostile  # display safe as it is


def test_json_path_of_parts() -> None:
    assert json_path([]) == "$"
    assert json_path(["data", 3, "deviceId"]) == "$.data[3].deviceId"
    assert json_path(["_x1", "1x", "new\nline", "tab\t"]) == "$._x1['1x']['new\\nline']['tab\\t']"


def test_every_line_maps_to_a_value_and_closing_lines_to_their_container() -> None:
    lines = pretty_json_lines(DOC)
    assert line_count(DOC) == len(lines)
    assert locate_line(DOC, 0).path == "$"  # type: ignore[union-attr]
    assert locate_line(DOC, len(lines) - 1).path == "$"  # type: ignore[union-attr]
    closing = next(i for i, line in enumerate(lines) if line == "  ],")
    assert locate_line(DOC, closing).path == "$.data"  # type: ignore[union-attr]
    assert locate_line(DOC, len(lines)) is None
    assert locate_line(DOC, -1) is None
    for index in range(len(lines)):
        assert locate_line(DOC, index) is not None


def test_the_value_itself() -> None:
    lines = pretty_json_lines(DOC)
    at = lines.index('      "reading": {')
    found = locate_line(DOC, at)
    assert found is not None and found.path == "$.data[3].reading"
    assert json.loads(found.value_text()) == {"temp": 21.5, "ok": True, "note": None}
    string = locate_line(DOC, lines.index('      "deviceId": "dev-3",'))
    assert string is not None and string.value_text() == "dev-3"  # a string: its text
    null = locate_line(DOC, lines.index('        "note": null'))
    assert null is not None and null.value_text() == "null"


@pytest.mark.parametrize("scalar", [1, "x", None, [], {}])
def test_a_scalar_or_empty_document_is_one_line(scalar: object) -> None:
    found = locate_line(scalar, 0)
    assert found is not None and found.path == "$" and found.value == scalar
    assert locate_line(scalar, 1) is None


def test_a_big_array_is_walked_without_printing() -> None:
    doc = {"items": [{"id": i, "v": [i, i + 1]} for i in range(100_000)]}
    lines = pretty_json_lines(doc)
    at = len(lines) - 6  # '        99999,' inside the last item's "v"
    found = locate_line(doc, at)
    assert found is not None and found.path == "$.items[99999].v[0]", lines[at]


def test_locate_in_body_here_and_in_a_child_process(monkeypatch: pytest.MonkeyPatch) -> None:
    body = json.dumps(DOC).encode()
    lines = pretty_json_lines(DOC)
    at = lines.index('        "temp": 21.5,')
    here = locate_in_body(body, at)
    assert (here.path, here.value, here.error) == ("$.data[3].reading.temp", "21.5", "")
    monkeypatch.setattr(json_path_module, "CHILD_THRESHOLD", 10)  # force the child process
    child = locate_in_body(body, at)
    assert child == here
    hostile = locate_in_body(body, next(i for i, t in enumerate(lines) if "hostile" in t))
    assert hostile.path == "$['\\u202eevil\\u001b[31m']" and hostile.value == "hostile"
    assert locate_in_body(b"{not json", 0).error == "the body is not valid JSON"
    assert locate_in_body(body, 10_000).error == "line 10001 shows no JSON value"


def test_a_located_value_never_carries_raw_control_characters() -> None:
    doc = {"cmd": "ls\n\x1b[31mrm -rf ~\u202e", "obj": {"k": "a\x7fb"}}
    body = json.dumps(doc, ensure_ascii=False).encode()
    lines = pretty_json_lines(doc)
    cmd = locate_in_body(body, 1)
    assert cmd.path == "$.cmd" and cmd.escaped
    assert cmd.value == "ls\\n\\x1b[31mrm -rf ~\\u202e"
    obj = locate_in_body(body, lines.index('  "obj": {'))
    assert obj.escaped and "\x7f" not in obj.value and "\\x7f" in obj.value
    assert "\n" in obj.value  # pretty JSON keeps its own line breaks
    plain = locate_in_body(json.dumps({"id": "dev-1"}).encode(), 1)
    assert (plain.value, plain.escaped) == ("dev-1", False)
