"""When node-oidc-provider cannot be installed the real-server tests FAIL with words (never skip)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.oidc.oidckit import cache_dir, ensure_oidc_provider


def test_no_npm_fails_with_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOT_WORKBENCH_TEST_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert cache_dir() == tmp_path / "cache" / "oidc-provider"
    with pytest.raises(pytest.fail.Exception, match="need node .* and npm on PATH"):
        ensure_oidc_provider()


def test_a_failing_npm_is_retried_once_then_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    for name, body in (
        ("node", "exit 0"),
        ("npm", f'echo x >> "{calls}"; echo "E404 nope" >&2; exit 1'),
    ):
        tool = bin_dir / name
        tool.write_text(f"#!/bin/sh\n{body}\n")
        tool.chmod(0o755)
    monkeypatch.setenv("IOT_WORKBENCH_TEST_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    with pytest.raises(pytest.fail.Exception, match="tried twice.*E404 nope"):
        ensure_oidc_provider()
    assert calls.read_text().count("x") == 2
