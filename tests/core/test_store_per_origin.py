"""Tokens are kept per profile AND origins: two demo clouds on different ports (the same
profile names) never log each other out; stores written before (one entry per name) still
read, in the file and in the keyring."""

from __future__ import annotations

import json
import time

import pytest

from workbench.cli import main
from workbench.core.auth.base import TokenSet
from workbench.core.profiles import Origin, get_profile
from workbench.core.session import Session
from workbench.core.store import MAX_ORIGINS_PER_PROFILE, TokenStore

A = {Origin.of("http://127.0.0.1:8765")}
B = {Origin.of("http://127.0.0.1:8766")}


def tokens(n: int) -> TokenSet:
    return TokenSet(access_token=f"access-{n}-xxxxxxxx", refresh_token=f"refresh-{n}-yyyyyyyy")


def login_state(capsys: pytest.CaptureFixture[str], name: str) -> str:
    capsys.readouterr()
    assert main(["profiles", "--json"]) == 0
    rows = {p["name"]: p for p in json.loads(capsys.readouterr().out)["profiles"]}
    return str(rows[name]["login"]["state"])


def test_two_demo_clouds_on_two_ports_keep_both_logins(
    make_emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    one, two = make_emulator(), make_emulator()
    assert one.base_url != two.base_url
    monkeypatch.setenv("WORKBENCH_DEMO_URL", one.base_url)
    assert main(["login", "demo-thinger"]) == 0
    monkeypatch.setenv("WORKBENCH_DEMO_URL", two.base_url)
    assert main(["login", "demo-thinger"]) == 0
    assert login_state(capsys, "demo-thinger") == "logged_in"
    monkeypatch.setenv("WORKBENCH_DEMO_URL", one.base_url)
    assert login_state(capsys, "demo-thinger") == "logged_in"  # not logged out by `two`
    for server in (one, two):
        monkeypatch.setenv("WORKBENCH_DEMO_URL", server.base_url)
        session = Session.restore(get_profile("demo-thinger"))
        assert session is not None
        with session.client() as client:
            answer = client.get(f"{server.base_url}/thinger/v1/users/demo/devices")
        assert answer.status_code == 200, answer.text
        session.close()
    # logging out of one keeps the other
    monkeypatch.setenv("WORKBENCH_DEMO_URL", two.base_url)
    session = Session.restore(get_profile("demo-thinger"))
    assert session is not None and session.logout() is True
    session.close()
    assert login_state(capsys, "demo-thinger") == "not_logged_in"
    monkeypatch.setenv("WORKBENCH_DEMO_URL", one.base_url)
    assert login_state(capsys, "demo-thinger") == "logged_in"


def test_a_store_written_before_reads_and_grows_cleanly() -> None:
    store = TokenStore()
    store.path.parent.mkdir(parents=True, exist_ok=True)
    old_entry = {
        "origins": sorted(str(o) for o in A),
        "saved_at": time.time() - 60,
        "tokens": tokens(1).to_json(),
    }  # the old shape: no "tls", no "elsewhere"
    store.path.write_text(json.dumps({"version": 1, "profiles": {"p": old_entry}}))
    assert store.get("p", A).access_token == "access-1-xxxxxxxx"
    assert store.get("p", B) is None
    store.put("p", tokens(2), B)
    assert store.get("p", A).access_token == "access-1-xxxxxxxx"
    assert store.get("p", B).access_token == "access-2-xxxxxxxx"
    record = json.loads(store.path.read_text())["profiles"]["p"]
    # a reader that knows only the old shape sees the latest login
    assert record["tokens"]["access_token"] == "access-2-xxxxxxxx"
    assert [e["tokens"]["access_token"] for e in record["elsewhere"]] == ["access-1-xxxxxxxx"]
    assert store.get("p").access_token == "access-2-xxxxxxxx"  # no origins: the latest
    # the same origins again replace their entry; delete by origins keeps the rest
    store.put("p", tokens(3), A)
    assert store.get("p", A).access_token == "access-3-xxxxxxxx"
    assert len(json.loads(store.path.read_text())["profiles"]["p"]["elsewhere"]) == 1
    assert store.delete("p", A) is True
    assert store.get("p", A) is None and store.get("p", B).access_token == "access-2-xxxxxxxx"
    assert store.delete("p", A) is False
    assert store.why_not("p", A) is not None  # tokens are stored, for other servers
    assert store.delete("p") is True and store.get("p", B) is None


def test_the_number_of_origins_kept_per_profile_is_bounded() -> None:
    store = TokenStore()
    for port in range(MAX_ORIGINS_PER_PROFILE + 3):
        store.put("p", tokens(port), {Origin.of(f"http://127.0.0.1:{9000 + port}")})
    record = json.loads(store.path.read_text())["profiles"]["p"]
    assert 1 + len(record["elsewhere"]) == MAX_ORIGINS_PER_PROFILE
    assert store.get("p", {Origin.of("http://127.0.0.1:9000")}) is None  # the oldest went
    last = MAX_ORIGINS_PER_PROFILE + 2
    assert store.get("p", {Origin.of(f"http://127.0.0.1:{9000 + last}")}) is not None


def test_keyring_keeps_both_origins_and_reads_an_old_entry(monkeypatch) -> None:
    saved: dict[str, str] = {}
    monkeypatch.setattr(
        "workbench.core.store.keyring_set",
        lambda k, v, timeout=3.0: saved.__setitem__(k, v) or True,
    )
    monkeypatch.setattr("workbench.core.store.keyring_get", lambda k, timeout=3.0: saved.get(k))
    monkeypatch.setattr(
        "workbench.core.store.keyring_delete", lambda k, timeout=3.0: saved.pop(k, None)
    )
    saved["tokens:p"] = json.dumps(
        {"origins": sorted(str(o) for o in A), "saved_at": 1.0, "tokens": tokens(1).to_json()}
    )  # written before: one entry per name
    store = TokenStore(use_keyring=True)
    assert store.get("p", A).access_token == "access-1-xxxxxxxx"
    store.put("p", tokens(2), B)
    assert list(saved) == ["tokens:p"] and not store.path.exists()
    assert store.get("p", A).access_token == "access-1-xxxxxxxx"
    assert store.get("p", B).access_token == "access-2-xxxxxxxx"
    assert store.delete("p", B) is True
    assert store.get("p", B) is None and store.get("p", A) is not None
    assert store.delete("p") is True and saved == {}
