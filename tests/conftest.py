"""Shared fixtures: isolated user dirs for every test, and the emulated cloud over real HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.emulator.app import EmulatorServer
from workbench.emulator.context import EmulatorConfig


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Every test gets its own config/data dirs and never touches the real keyring."""
    base = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("WORKBENCH_KEYRING", "0")
    monkeypatch.delenv("WORKBENCH_DEMO_URL", raising=False)
    return base


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    """One demo cloud (25 devices per platform) for the whole session, on a free loopback port.

    Tests that flip faults must use `fresh_emulator` instead, or reset what they change.
    """
    with EmulatorServer(config=EmulatorConfig()) as server:
        yield server


@pytest.fixture
def make_emulator() -> Iterator:
    """Factory: make_emulator(devices=N, token_ttl=S) -> a started EmulatorServer, stopped after the test."""
    servers: list[EmulatorServer] = []

    def make(**kwargs) -> EmulatorServer:
        server = EmulatorServer(config=EmulatorConfig(**kwargs)).start()
        servers.append(server)
        return server

    yield make
    for s in servers:
        s.stop()


@pytest.fixture
def fresh_emulator(make_emulator) -> EmulatorServer:
    """A demo cloud of its own for this test (faults and tokens can be changed freely)."""
    return make_emulator()


@pytest.fixture
def demo_env(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    """Points the demo-* profiles at the session emulator."""
    monkeypatch.setenv("WORKBENCH_DEMO_URL", emulator.base_url)
    return emulator


# The vendors' own specs and the seed documents sit next to the repository (../shared), not
# in it. Tests marked `needs_shared` read them: in CI (CI set) they always run, so a missing
# document FAILS there, as the contract tests must; a clone on its own (a newcomer's) skips
# them with the reason instead of failing 40 tests on a missing file.
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("CI") or ((SHARED / "reference").is_dir() and (SHARED / "seeds").is_dir()):
        return
    skip = pytest.mark.skip(
        reason=f"needs the vendors' documents in {SHARED} (../shared next to the repository), "
        "which this checkout does not have"
    )
    for item in items:
        if item.get_closest_marker("needs_shared"):
            item.add_marker(skip)
