"""Fixtures of the TUI tests: a session logged in to the demo Thinger.io profile."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.tui.helpers import logged_in
from workbench.core.profiles import Profile
from workbench.core.session import Session


@pytest.fixture
def thinger(demo_env, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Profile, Session]]:
    """(profile, session) of demo-thinger, logged in to the session emulator; closed after."""
    profile, session = logged_in(demo_env.base_url, monkeypatch)
    yield profile, session
    session.close()
