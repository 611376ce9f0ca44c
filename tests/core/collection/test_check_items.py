"""Editing captures and expectations one item at a time (what the TUI's editor calls):
each kind round-trips through check_items, edits keep the place of what they replace, and
mistakes are ExpectError / JsonPathError in words."""

from __future__ import annotations

import pytest

from workbench.core.collection.expectations import (
    CheckItem,
    Expect,
    check_items,
    edit_checks,
    expect_to_data,
    parse_expect,
    remove_check,
)
from workbench.core.errors import ExpectError, JsonPathError

RAW = {
    "status": [200, "2xx"],
    "headers": {"Content-Type": {"contains": "json"}, "ETag": {"exists": True}},
    "json": {"$.a": 1, "$.b": {"type": "string"}, "$.c": {"equals": {"contains": 1}}},
    "exists": ["$[0]"],
    "max_ms": 500,
}


def test_items_of_every_kind() -> None:
    items = check_items({"first": "$[0].id"}, parse_expect(RAW))
    assert [i.describe() for i in items] == [
        "capture first = $[0].id",
        "status 200, 2xx",
        "header Content-Type contains json",
        "header ETag exists true",
        "json $.a equals 1",
        "json $.b type string",
        'json $.c equals {"contains": 1}',
        "exists $[0]",
        "time at most 500 ms",
    ]


def test_editing_an_item_with_its_own_text_changes_nothing() -> None:
    caps, exp = {"first": "$[0].id"}, parse_expect(RAW)
    for item in check_items(caps, exp):
        new_caps, new_exp = edit_checks(caps, exp, item, replacing=item)
        assert new_caps == caps
        assert expect_to_data(new_exp) == expect_to_data(exp), item
        assert list(expect_to_data(new_exp)["json"]) == ["$.a", "$.b", "$.c"]


def test_edits_keep_the_place_and_values_are_json() -> None:
    caps, exp = {"a": "$.a", "b": "$.b"}, parse_expect(RAW)
    caps2, _ = edit_checks(
        caps,
        exp,
        CheckItem("capture", "a2", "", "header:X"),
        replacing=CheckItem("capture", "a", "", "$.a"),
    )
    assert list(caps2.items()) == [("a2", "header:X"), ("b", "$.b")]
    _, exp2 = edit_checks(
        caps,
        exp,
        CheckItem("json", "$.a", "equals", '"on"'),
        replacing=CheckItem("json", "$.a", "equals", "1"),
    )
    assert expect_to_data(exp2)["json"]["$.a"] == "on"
    _, exp3 = edit_checks(caps, exp, CheckItem("json", "$.n", "equals", "null"))
    assert expect_to_data(exp3)["json"]["$.n"] == {"type": "null"}  # TOML has no null
    _, exp4 = edit_checks(caps, exp, CheckItem("json", "$.w", "equals", "not json"))
    assert expect_to_data(exp4)["json"]["$.w"] == "not json"
    _, exp5 = edit_checks(caps, Expect(), CheckItem("status", value="201 204"))
    assert exp5.status == [201, 204]
    _, exp6 = edit_checks(caps, Expect(), CheckItem("time", value="250"))
    assert exp6.max_ms == 250


def test_remove_each_kind() -> None:
    caps, exp = {"first": "$[0].id"}, parse_expect(RAW)
    for item in check_items(caps, exp):
        new_caps, new_exp = remove_check(caps, exp, item)
        assert item not in check_items(new_caps, new_exp)
        assert len(check_items(new_caps, new_exp)) == len(check_items(caps, exp)) - 1


@pytest.mark.parametrize(
    ("item", "words"),
    [
        (CheckItem("capture", "1bad", "", "$.a"), "variable name"),
        (CheckItem("capture", "x", "", "nope"), "JSON path"),
        (CheckItem("json", "$..a", "equals", "1"), "expected a name"),
        (CheckItem("json", "$.a", "equals", "2"), "checked already"),
        (CheckItem("json", "$.t", "type", "text"), "'type' must be one of"),
        (CheckItem("header", "", "equals", "x"), "header's name"),
        (CheckItem("header", "X", "exists", "maybe"), "true or false"),
        (CheckItem("status", value="600"), "status code"),
        (CheckItem("status", value=""), "status code"),
        (CheckItem("time", value="soon"), "milliseconds"),
        (CheckItem("exists", value="$[0]"), "checked already"),
    ],
)
def test_mistakes_in_words(item: CheckItem, words: str) -> None:
    with pytest.raises((ExpectError, JsonPathError)) as info:
        edit_checks({}, parse_expect(RAW), item)
    assert words in str(info.value)
