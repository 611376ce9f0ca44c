"""Captures and expectations: JSON paths, header captures, every check kind, messages in words."""

from __future__ import annotations

import json

import pytest

from workbench.core.collection.expectations import (
    Check,
    Expect,
    JsonPath,
    all_passed,
    captured,
    check_expectations,
    expect_to_data,
    is_missing,
    json_contains,
    json_equal,
    parse_expect,
    run_captures,
)
from workbench.core.errors import ExpectError, JsonPathError
from workbench.core.requests import ResponseRecord

DOC = {
    "data": [
        {"id": 1, "name": "dev-a", "online": True},
        {"id": 2, "name": "dev-b", "online": False},
    ],
    "total": 2,
    "odd key": {"x.y": "z"},
    "nothing": None,
    "access_token": "tok-123",
}


def response(
    body: object = DOC,
    *,
    status: int = 200,
    headers: list[tuple[str, str]] | None = None,
    elapsed: float = 12.0,
    raw: bytes | None = None,
) -> ResponseRecord:
    payload = raw if raw is not None else json.dumps(body).encode()
    hdrs = (
        headers
        if headers is not None
        else [
            ("Content-Type", "application/json; charset=utf-8"),
            ("ETag", '"v1"'),
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
        ]
    )
    return ResponseRecord(
        status=status,
        reason="OK",
        http_version="HTTP/1.1",
        url="http://x/",
        method="GET",
        headers=hdrs,
        body=payload,
        elapsed_ms=elapsed,
    )


# --- JSON paths --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", DOC),
        ("$.total", 2),
        ("$.data[0].name", "dev-a"),
        ("$.data[-1].id", 2),
        ("$['odd key'][\"x.y\"]", "z"),
        ("$.data[*].id", [1, 2]),
        ("$.data.*.online", [True, False]),
        ("$.nothing", None),
    ],
)
def test_json_path_values(path: str, expected: object) -> None:
    assert JsonPath.parse(path).value(DOC) == expected


def test_json_path_missing_and_out_of_range() -> None:
    assert is_missing(JsonPath.parse("$.data[5].id").value(DOC))
    assert is_missing(JsonPath.parse("$.total.x").value(DOC))
    assert is_missing(JsonPath.parse("$.nope").value(DOC))
    assert JsonPath.parse("$.nope[*].id").value(DOC) == []


@pytest.mark.parametrize("bad", ["data.id", "$.", "$.a[", "$.a[x]", "$..a", "$ .a", ""])
def test_json_path_errors_are_plain_words(bad: str) -> None:
    with pytest.raises(JsonPathError) as info:
        JsonPath.parse(bad)
    assert bad in str(info.value) or "must start with '$'" in str(info.value)


def test_json_equality_does_not_confuse_true_and_one() -> None:
    assert json_equal(1, 1.0)
    assert not json_equal(True, 1)
    assert not json_equal(0, False)
    assert not json_equal(None, 0)
    assert json_equal({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]})
    assert not json_equal("1", 1)


def test_json_contains() -> None:
    assert json_contains("dev-abc", "abc")
    assert json_contains([1, 2, 3], 2)
    assert json_contains([1, 2, 3], [3, 1])
    assert not json_contains([1, 2], [2, 4])
    assert json_contains({"a": 1, "b": 2}, "a")
    assert json_contains({"a": 1, "b": {"c": 3, "d": 4}}, {"b": {"c": 3}})
    assert json_contains([{"id": 1, "x": 2}], {"id": 1})
    assert not json_contains(5, 5)


# --- captures ----------------------------------------------------------------------------


def test_captures_from_json_and_headers() -> None:
    results = run_captures(
        {
            "tok": "$.access_token",
            "first": "$.data[0].id",
            "ids": "$.data[*].id",
            "etag": "header:etag",
            "flag": "$.data[1].online",
            "nothing": "$.nothing",
        },
        response(),
    )
    assert all(r.ok for r in results), [r.message for r in results]
    assert captured(results) == {
        "tok": "tok-123",
        "first": "1",
        "ids": "[1,2]",
        "etag": '"v1"',
        "flag": "false",
        "nothing": "null",
    }


def test_failed_captures_say_why() -> None:
    results = run_captures(
        {"a": "$.missing", "b": "header:X-Nope", "c": "$.data[9].id"}, response()
    )
    assert [r.ok for r in results] == [False, False, False]
    assert results[0].message == "$.missing is not in the response"
    assert results[1].message == "no X-Nope header in the response"
    assert captured(results) == {}
    html = response(raw=b"<html>oops</html>", headers=[("Content-Type", "text/html")])
    (r,) = run_captures({"a": "$.x"}, html)
    assert not r.ok and "not JSON (text/html)" in r.message


# --- expectations -------------------------------------------------------------------------


def test_status_single_list_and_class() -> None:
    ok = check_expectations(Expect(status=[200]), response())
    assert ok[0].passed and ok[0].message == "status 200 as expected"
    bad = check_expectations(Expect(status=[200, 204]), response(status=404))
    assert not bad[0].passed and bad[0].message == "status 404, expected 200 or 204"
    assert check_expectations(Expect(status=["2xx"]), response(status=201))[0].passed
    assert not check_expectations(Expect(status=["2xx"]), response(status=301))[0].passed


def test_header_checks() -> None:
    exp = Expect(
        headers={
            "content-type": Check("contains", "JSON"),
            "ETag": Check("equals", '"v1"'),
            "Set-Cookie": Check("equals", "b=2"),
            "X-Missing": Check("exists", False),
            "Location": Check("exists", True),
            "Server": Check("equals", "x"),
        }
    )
    results = check_expectations(exp, response())
    assert [r.passed for r in results] == [True, True, True, True, False, False]
    assert results[4].message == "header Location is missing, expected it to be present"
    assert results[5].message == "header Server is missing, expected it to equal 'x'"
    wrong = check_expectations(Expect(headers={"ETag": Check("equals", '"v2"')}), response())[0]
    assert wrong.message == "header ETag is '\"v1\"', expected '\"v2\"'"


def test_json_checks_and_messages() -> None:
    exp = Expect(
        json={
            "$.total": Check("equals", 2),
            "$.data[0].online": Check("equals", 1),
            "$.data[*].name": Check("equals", ["dev-a", "dev-b"]),
            "$.data[1].name": Check("contains", "-b"),
            "$.data": Check("contains", {"id": 2}),
            "$.nothing": Check("type", "null"),
            "$.gone": Check("exists", False),
            "$.total ": Check("equals", 3),
            "$.absent": Check("equals", 1),
        }
    )
    results = check_expectations(exp, response())
    assert [r.passed for r in results] == [True, False, True, True, True, True, True, False, False]
    assert results[1].message == "$.data[0].online is true, expected 1"
    assert results[7].message == "$.total  is 2, expected 3"
    assert results[8].message == "$.absent is missing, expected 1"


def test_exists_max_ms_and_not_json() -> None:
    exp = Expect(exists=["$.data[0].id", "header:ETag", "$.nope"], max_ms=10)
    results = check_expectations(exp, response(elapsed=12.4))
    assert [r.passed for r in results] == [True, True, False, False]
    assert results[2].message == "$.nope is missing, expected it to exist"
    assert results[3].message == "took 12.4 ms, expected at most 10 ms"
    assert (
        check_expectations(Expect(max_ms=500), response(elapsed=12))[0].message
        == "took 12 ms, within 500 ms"
    )
    r = check_expectations(Expect(json={"$.a": Check("equals", 1)}), response(raw=b"", headers=[]))[
        0
    ]
    assert not r.passed and "empty" in r.message
    assert not all_passed(results)
    assert all_passed(check_expectations(Expect(status=[200]), response()))


# --- the expect table ----------------------------------------------------------------------


def test_parse_expect_every_form() -> None:
    exp = parse_expect(
        {
            "status": [200, "2xx"],
            "headers": {
                "Content-Type": {"contains": "json"},
                "ETag": "v",
                "X-A": {"exists": False},
            },
            "json": {
                "$.a": 1,
                "$.b": {"contains": "x"},
                "$.c": {"type": "null"},
                "$.d": {"k": 1, "j": 2},
                "$.e": {"equals": {"contains": 1}},
            },
            "exists": ["$.x", "header:ETag"],
            "max_ms": 250.5,
        }
    )
    assert exp.status == [200, "2xx"]
    assert exp.headers["Content-Type"] == Check("contains", "json")
    assert exp.headers["ETag"] == Check("equals", "v")
    assert exp.json["$.d"] == Check("equals", {"k": 1, "j": 2})
    assert exp.json["$.e"] == Check("equals", {"contains": 1})
    assert parse_expect(expect_to_data(exp)) == exp


@pytest.mark.parametrize(
    ("raw", "where", "words"),
    [
        ({"staus": 200}, ("staus",), "unknown key 'staus'"),
        ({"status": 99}, ("status",), "status code"),
        ({"status": [200, "abc"]}, ("status", 1), "status code"),
        ({"json": {"a.b": 1}}, ("json", "a.b"), "must start with '$'"),
        ({"json": {"$.a": {"type": "float"}}}, ("json", "$.a", "type"), "'type' must be one of"),
        ({"headers": {"X": 5}}, ("headers", "X"), "header expectation"),
        ({"headers": {"X": {"exists": "yes"}}}, ("headers", "X", "exists"), "true or false"),
        ({"exists": "$.a"}, ("exists",), "list of JSON paths"),
        ({"exists": ["$.a", "nope"]}, ("exists", 1), "must start with '$'"),
        ({"max_ms": "fast"}, ("max_ms",), "milliseconds"),
        ({"max_ms": True}, ("max_ms",), "milliseconds"),
    ],
)
def test_parse_expect_errors_locate_the_key(raw: dict, where: tuple, words: str) -> None:
    with pytest.raises(ExpectError) as info:
        parse_expect(raw)
    assert info.value.key_path == where
    assert words in info.value.message
