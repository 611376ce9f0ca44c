"""`workbench history` (main()): the table, --json lines, show ID, clear, exit codes; the
entries are recorded from a real exchange with the emulator (demo-thinger)."""

from __future__ import annotations

import json

import pytest

from workbench.cli import main
from workbench.core.history.sent import Masker, capture_sent
from workbench.core.history.store import HistoryStore, history_path
from workbench.core.profiles import get_profile
from workbench.core.requests import RequestSpec, ResponseRecord
from workbench.core.session import Session


@pytest.fixture
def recorded(demo_env) -> tuple[list[int], str]:
    """Two exchanges of demo-thinger (signed by the session) and one of another profile."""
    profile = get_profile("demo-thinger")
    session = Session(profile)
    session.login()
    token = session.tokens.access_token
    store = HistoryStore()
    ids = []
    with session.client() as client:
        for resource, name in (
            ("temperature", "demo-thinger"),
            ("led", "demo-thinger"),
            ("x", "other"),
        ):
            spec = RequestSpec(url="{{urls.api}}/v2/users/demo/devices/nodemcu/" + resource)
            rendered = spec.render(profile.template_vars())
            response = client.send(client.build_request("GET", rendered.url))
            record = ResponseRecord.from_httpx(response, 0.01)
            masker = Masker([token])
            ids.append(
                store.add(
                    profile=name,
                    spec=spec,
                    sent=capture_sent(response.request, masker),
                    response=record,
                    masker=masker,
                )
            )
    session.close()
    return ids, token


def test_lists_newest_first_as_a_table_and_json_lines(recorded, capsys) -> None:
    ids, token = recorded
    assert main(["history", "--profile", "demo-thinger"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["ID", "WHEN", "PROFILE", "METHOD"]
    assert lines[1].split()[0] == str(ids[1]) and lines[2].split()[0] == str(ids[0])
    assert "led" in lines[1] and len(lines) == 3
    assert main(["history", "--json", "--limit", "2"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == [ids[2], ids[1]]
    assert {"method", "url", "status", "size", "elapsed_ms", "profile"} <= set(rows[0])
    assert token not in out


def test_show_prints_the_sent_request_masked_and_the_body(recorded, capsys) -> None:
    ids, token = recorded
    assert main(["history", "show", str(ids[0])]) == 0
    out = capsys.readouterr().out
    assert f"authorization: •••• (Bearer, {len(token)} chars)" in out
    assert '"out"' in out  # the temperature's body
    assert token not in out
    assert main(["history", "show", str(ids[0]), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sent"]["method"] == "GET" and data["status"] == 200
    assert data["request"]["url"].startswith("{{urls.api}}")
    assert token.encode() not in history_path().read_bytes()


def test_unknown_id_and_bad_limit_are_words_and_exit_2(recorded, capsys) -> None:
    assert main(["history", "show", "99999"]) == 2
    assert "no history entry 99999" in capsys.readouterr().err
    assert main(["history", "--limit", "0"]) == 2


def test_clear_one_profile_then_all(recorded, capsys) -> None:
    assert main(["history", "clear", "--profile", "other"]) == 0
    assert "removed 1 entry" in capsys.readouterr().out
    assert main(["history", "clear"]) == 0
    assert "removed 2 entries" in capsys.readouterr().out
    assert main(["history"]) == 0
    assert "the history is empty" in capsys.readouterr().out


def test_a_corrupt_file_is_reported_and_replaced(capsys) -> None:
    history_path().parent.mkdir(parents=True, exist_ok=True)
    history_path().write_bytes(b"garbage, not sqlite" * 50)
    assert main(["history"]) == 0
    captured = capsys.readouterr()
    assert "not a database" in captured.err and "Traceback" not in captured.err
    assert "the history is empty" in captured.out
