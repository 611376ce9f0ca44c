"""The real OpenID Provider (node-oidc-provider 9.x) for the whole test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.oidc.oidckit import OidcServer, running_server


@pytest.fixture(scope="session")
def oidc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcServer]:
    with running_server(tmp_path_factory.mktemp("oidc")) as server:
        yield server
