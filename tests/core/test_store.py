"""The token store: 0600 file, origins binding, corrupt files moved aside, keyring off in tests."""

from __future__ import annotations

import json
import os
import stat

import pytest

from workbench.core.auth.base import TokenSet
from workbench.core.errors import StoreError
from workbench.core.keyring_access import keyring_usable
from workbench.core.profiles import Origin
from workbench.core.store import PROBE_KEY, TokenStore

ORIGINS = {Origin.of("https://api.thinger.io")}


def tokens(n: int = 1) -> TokenSet:
    return TokenSet(
        access_token=f"access-{n}-xxxxxxxx", refresh_token=f"refresh-{n}-yyyyyyyy", expires_at=2e9
    )


def test_keyring_is_off_in_tests() -> None:
    assert os.environ["WORKBENCH_KEYRING"] == "0"
    assert keyring_usable(PROBE_KEY) is False
    store = TokenStore()
    assert store.kind.startswith("file: ")
    assert store.kind.endswith("tokens.json")


def test_put_get_delete_round_trip() -> None:
    store = TokenStore()
    assert store.get("thinger", ORIGINS) is None
    store.put("thinger", tokens(1), ORIGINS)
    got = store.get("thinger", ORIGINS)
    assert (
        got is not None
        and got.access_token == "access-1-xxxxxxxx"
        and got.refresh_token == "refresh-1-yyyyyyyy"
    )
    store.put("other", tokens(2), ORIGINS)
    assert (
        TokenStore().get("other", ORIGINS).access_token == "access-2-xxxxxxxx"
    )  # a new instance reads the file
    assert store.names() == ["other", "thinger"]
    assert store.delete("thinger") is True
    assert store.get("thinger", ORIGINS) is None
    assert store.delete("thinger") is False
    assert store.get("other", ORIGINS) is not None


def test_file_is_private_and_atomic(tmp_path) -> None:
    store = TokenStore(tmp_path / "d" / "tokens.json")
    store.put("p", tokens(), ORIGINS)
    mode = stat.S_IMODE(store.path.stat().st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    leftovers = [p.name for p in store.path.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    data = json.loads(store.path.read_text())
    assert data["version"] == 1 and data["profiles"]["p"]["origins"] == [
        "https://api.thinger.io:443"
    ]


def test_tokens_not_returned_for_other_origins() -> None:
    store = TokenStore()
    store.put("thinger", tokens(), ORIGINS)
    assert store.get("thinger", {Origin.of("https://evil.example")}) is None
    assert store.get("thinger", ORIGINS | {Origin.of("https://evil.example")}) is None
    assert (
        store.get("thinger") is not None
    )  # without origins: the raw entry (used by logout/listing)


def test_a_profile_stands_for_its_origins(demo_env) -> None:
    from workbench.core.profiles import get_profile

    profile = get_profile("demo-thinger")
    store = TokenStore()
    store.put("demo-thinger", tokens(), profile)
    assert store.get("demo-thinger", profile) is not None
    assert store.get("demo-thinger", profile.origins()) is not None
    assert store.get("demo-thinger", ORIGINS) is None


def test_corrupt_file_is_moved_aside_and_reported(tmp_path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("{ this is not json")
    store = TokenStore(path)
    with pytest.raises(StoreError) as info:
        store.get("thinger", ORIGINS)
    assert "corrupt" in info.value.message and "moved aside" in info.value.message
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("tokens.json.corrupt-")]
    assert len(aside) == 1
    assert aside[0].read_text() == "{ this is not json"  # the user's bytes are kept
    assert not path.exists()
    # the store works again afterwards
    store.put("thinger", tokens(), ORIGINS)
    assert store.get("thinger", ORIGINS) is not None


def test_corrupt_file_on_put_is_kept_and_noted(tmp_path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text('["a list, not a store"]')
    store = TokenStore(path)
    store.put("p", tokens(), ORIGINS)
    assert any("corrupt" in n for n in store.notes)
    aside = [p for p in tmp_path.iterdir() if ".corrupt-" in p.name]
    assert len(aside) == 1 and aside[0].read_text() == '["a list, not a store"]'
    assert store.get("p", ORIGINS) is not None


def test_keyring_used_when_available(monkeypatch) -> None:
    """With a working keyring the entry goes there and the file holds nothing."""
    saved: dict[str, str] = {}
    monkeypatch.setattr(
        "workbench.core.store.keyring_set",
        lambda k, v, timeout=3.0: saved.__setitem__(k, v) or True,
    )
    monkeypatch.setattr("workbench.core.store.keyring_get", lambda k, timeout=3.0: saved.get(k))
    monkeypatch.setattr(
        "workbench.core.store.keyring_delete", lambda k, timeout=3.0: saved.pop(k, None)
    )
    store = TokenStore(use_keyring=True)
    assert store.kind == "keyring"
    store.put("p", tokens(), ORIGINS)
    assert list(saved) == ["tokens:p"]
    assert not store.path.exists()
    assert store.get("p", ORIGINS).access_token == "access-1-xxxxxxxx"
    assert store.delete("p") is True and saved == {}


def test_keyring_failure_falls_back_to_file(monkeypatch) -> None:
    monkeypatch.setattr("workbench.core.store.keyring_set", lambda k, v, timeout=3.0: False)
    monkeypatch.setattr("workbench.core.store.keyring_get", lambda k, timeout=3.0: None)
    store = TokenStore(use_keyring=True)
    store.put("p", tokens(), ORIGINS)
    assert store.kind.startswith("file: ")
    assert store.path.exists()
    assert any("keyring did not answer" in n for n in store.notes)
