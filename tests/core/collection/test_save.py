"""Saving edits into a commented collection file (through tomlkit): the file changes only
in the bytes of what was edited, through the API and through `workbench import curl`."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.core.collection.collection import load_collection
from workbench.core.collection.model import CollectionRequest, SessionRef
from workbench.core.errors import CollectionError
from workbench.core.requests import RequestSpec

COMMENTED = '''# top of the file
version = 1   # the format

[collection]
name = "commented"  # its name

[variables]
user = "demo"  # who

# -- the first request --
[[requests]]
name = "one"  # first
method = "GET"
url = "/v1/{{user}}/a"   # the url of one
query = [
  # a comment inside an array
  ["count", "10"],  # ten
]
expect = { status = 200, json = { "$.a" = { exists = true } } }  # an inline expect
# a comment right after the inline table

# -- the second request --
[[requests]]
name = "two"
method = "POST"
url = "/v1/b"
body = { json = """
{"a": 1}  # not a comment: inside the string
""" }

[requests.expect]  # the sub-table
status = [200, 204]   # two statuses
max_ms = 500

# the end of the file
'''

TAIL = "\n# the end of the file\n"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJ1c3IiOiJkZW1vIn0.c2lnbmF0dXJlLXNlY3JldA"


def write(tmp_path: Path, text: str = COMMENTED) -> Path:
    p = tmp_path / "c.toml"
    p.write_bytes(text.encode())
    return p


def changed_regions(before: str, after: str) -> list[tuple[str, str]]:
    """(old, new) text of every region that differs."""
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    return [
        (before[i1:i2], after[j1:j2])
        for op, i1, i2, j1, j2 in matcher.get_opcodes()
        if op != "equal"
    ]


def edit(p: Path, name: str, change) -> None:
    c = load_collection(p)
    r = c.request(name).copy()
    change(r)
    c.replace_request(name, r)
    assert c.save() == []
    assert load_collection(p).data() == c.data()


def test_editing_a_url_changes_only_its_bytes(tmp_path: Path) -> None:
    p = write(tmp_path)

    def change(r: CollectionRequest) -> None:
        r.spec.url = "/v2/{{user}}/a"

    edit(p, "one", change)
    after = p.read_text()
    assert after == COMMENTED.replace('"/v1/{{user}}/a"', '"/v2/{{user}}/a"')
    assert changed_regions(COMMENTED, after) == [("1", "2")]


def test_editing_an_inline_expect_keeps_its_comment_and_neighbours(tmp_path: Path) -> None:
    p = write(tmp_path)

    def change(r: CollectionRequest) -> None:
        r.expect.status = [201]

    edit(p, "one", change)
    after = p.read_text()
    assert after == COMMENTED.replace("{ status = 200, json", "{ status = 201, json")
    assert changed_regions(COMMENTED, after) == [("0", "1")]


def test_editing_a_sub_table_key_keeps_the_other_lines(tmp_path: Path) -> None:
    p = write(tmp_path)

    def change(r: CollectionRequest) -> None:
        r.expect.max_ms = 900

    edit(p, "two", change)
    assert p.read_text() == COMMENTED.replace("max_ms = 500", "max_ms = 900")


def test_renaming_changes_only_the_name(tmp_path: Path) -> None:
    p = write(tmp_path)

    def change(r: CollectionRequest) -> None:
        r.spec.name = "deux"

    edit(p, "two", change)
    after = p.read_text()
    assert after == COMMENTED.replace('name = "two"', 'name = "deux"')
    assert load_collection(p).names() == ["one", "deux"]


def test_adding_a_request_inserts_only_its_table(tmp_path: Path) -> None:
    p = write(tmp_path)
    c = load_collection(p)
    c.add_request(CollectionRequest(spec=RequestSpec(method="DELETE", url="/v1/c", name="three")))
    assert c.save() == []
    added = '\n[[requests]]\nname = "three"\nmethod = "DELETE"\nurl = "/v1/c"\n'
    assert p.read_text() == COMMENTED.replace(TAIL, added + TAIL)


def test_deleting_a_request_takes_its_lines_and_its_leading_comment(tmp_path: Path) -> None:
    p = write(tmp_path)
    c = load_collection(p)
    c.remove_request("one")
    c.save()
    start = COMMENTED.index("# -- the first request --")
    end = COMMENTED.index("# -- the second request --")
    assert p.read_text() == COMMENTED[:start] + COMMENTED[end:]
    c = load_collection(p)
    c.remove_request("two")
    c.save()
    start = COMMENTED.index("\n# -- the first request --")
    assert p.read_text() == COMMENTED[:start] + TAIL
    assert load_collection(p).names() == []


def test_reordering_moves_the_leading_comments_along(tmp_path: Path) -> None:
    p = write(tmp_path)
    c = load_collection(p)
    c.requests.reverse()
    c.save()
    text = p.read_text()
    assert text.index('# -- the second request --\n[[requests]]\nname = "two"') < text.index(
        '# -- the first request --\n[[requests]]\nname = "one"'
    )
    assert load_collection(p).names() == ["two", "one"]
    assert text.startswith(COMMENTED[: COMMENTED.index("# -- the first request --")])
    assert text.endswith(TAIL)


def test_a_credential_becomes_a_reference_and_only_that_is_added(tmp_path: Path) -> None:
    p = write(tmp_path)

    def change(r: CollectionRequest) -> None:
        r.spec.headers = [("Authorization", f"Bearer {TOKEN}")]

    c = load_collection(p)
    r = c.request("two").copy()
    change(r)
    c.replace_request("two", r)
    notes = c.save()
    assert notes and "credential" in notes[0]
    after = p.read_text()
    assert TOKEN not in after
    assert load_collection(p).variables["token"] == SessionRef("access_token")
    token_line = 'token = { session = "access_token" }\n'
    headers = 'headers = [\n  ["Authorization", "Bearer {{token}}"],\n]\n'
    assert 'user = "demo"  # who\n' + token_line in after
    assert '""" }\n' + headers in after  # after the request's last key
    assert after.replace(token_line, "", 1).replace(headers, "", 1) == COMMENTED


def test_a_variables_table_is_added_before_the_requests(tmp_path: Path) -> None:
    start = COMMENTED.index("[variables]")
    end = COMMENTED.index("# -- the first request --")
    text = COMMENTED[:start] + COMMENTED[end:]
    p = write(tmp_path, text)
    c = load_collection(p)
    c.variables["user"] = "me"
    c.save()
    assert p.read_text() == text.replace(
        "# -- the first request --", '[variables]\nuser = "me"\n\n# -- the first request --'
    )


def test_import_curl_into_a_commented_file_adds_only_the_request(tmp_path: Path) -> None:
    p = write(tmp_path)
    curl = f"curl https://h.example/v1/d -H 'Authorization: Bearer {TOKEN}'"
    assert main(["import", "curl", curl, "--into", str(p), "--name", "four"]) == 0
    after = p.read_text()
    assert TOKEN not in after
    regions = changed_regions(COMMENTED, after)
    assert all(old == "" for old, _ in regions), regions
    assert after.endswith(
        '\n[[requests]]\nname = "four"\nmethod = "GET"\nurl = "https://h.example/v1/d"\n'
        'headers = [\n  ["Authorization", "Bearer {{token}}"],\n]\n' + TAIL
    )
    assert 'user = "demo"  # who\ntoken = { session = "access_token" }\n' in after
    assert load_collection(p).names() == ["one", "two", "four"]


# --- other layouts: every edit saves and reads back, comments stay ------------------------

LAYOUTS = {
    "dotted variables": 'version = 1\nvariables.user = "a"  # u\nvariables.x = "b"\n\n'
    '[[requests]]\nname = "r"\nurl = "/a"\n',
    "variables after the requests": 'version = 1\n\n[[requests]]\nname = "r"\nurl = "/a"\n\n'
    '[variables]  # v\nuser = "a"\n',
    "crlf": 'version = 1\r\n[collection]\r\nname = "n"\r\n\r\n[[requests]]\r\nname = "r"\r\n'
    'url = "/a"  # c\r\n\r\n[requests.expect]\r\nstatus = 200\r\n',
    "indented": 'version = 1\n\n  [[requests]]  # i\n  name = "r"\n  url = "/a"\n\n'
    "  [requests.expect]\n  status = 200\n",
    "dotted expect": 'version = 1\n[[requests]]\nname = "r"  # n\nurl = "/a"\nexpect.status = 200\n'
    'expect.json."$.a" = 1\n',
    "dotted sub-table keys": 'version = 1\n[[requests]]\nname = "r"\nurl = "/a"  # a\n'
    '[requests.expect]\njson."$.a" = 1\njson."$.b" = { exists = true }\n',
    "no blank lines": 'version = 1\n[[requests]]\nname = "r"\nurl = "/a"\n# lead of s\n'
    '[[requests]]\nname = "s"\nurl = "/b"\n# end\n',
}


def _url(c) -> None:
    r = c.requests[0].copy()
    r.spec.url = "/z"
    c.replace_request(r.name, r)


def _expect(c) -> None:
    r = c.requests[0].copy()
    r.expect.max_ms = 77
    c.replace_request(r.name, r)


EDITS = {
    "url": _url,
    "expect": _expect,
    "variable": lambda c: c.variables.__setitem__("user", "new"),
    "description": lambda c: setattr(c, "description", "d"),
    "add": lambda c: c.add_request(CollectionRequest(spec=RequestSpec(url="/n", name="new"))),
    "remove": lambda c: c.remove_request(c.names()[0]),
    "reverse": lambda c: c.requests.reverse(),
}


@pytest.mark.parametrize("edit_name", list(EDITS))
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_layout_takes_every_edit(tmp_path: Path, layout: str, edit_name: str) -> None:
    text = LAYOUTS[layout]
    p = write(tmp_path, text)
    c = load_collection(p)
    EDITS[edit_name](c)
    c.save()
    after = p.read_bytes().decode()
    assert load_collection(p).data() == c.data()
    if "\r\n" in text:
        assert "\n" not in after.replace("\r\n", "")
    kept = [line for line in text.splitlines() if "#" in line]
    if edit_name != "remove":
        for line in kept:
            comment = line[line.index("#") :]
            assert comment in after


def test_an_inline_array_of_requests_is_not_reformatted(tmp_path: Path) -> None:
    text = 'version = 1\nrequests = [{ name = "r", url = "/a" }]  # one line\n'
    p = write(tmp_path, text)
    c = load_collection(p)
    c.description = "d"
    c.save()  # the requests did not change: the array stays as it is
    assert 'requests = [{ name = "r", url = "/a" }]  # one line\n' in p.read_text()
    c.remove_request("r")
    with pytest.raises(CollectionError, match="inline array"):
        c.save()
