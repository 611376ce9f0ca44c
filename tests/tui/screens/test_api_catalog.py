"""The API view: the profile's catalog listed and searched, a node's operations, Enter builds
the request; no catalog / a broken one said in words; document text escaped."""

from __future__ import annotations

import json
from pathlib import Path

from textual.app import App

from tests.tui.helpers import until
from workbench.core.catalog.cache import open_catalog
from workbench.core.catalog.profile_catalogs import ProfileCatalog
from workbench.core.platforms.base import DeviceNode
from workbench.core.profiles import CatalogRef, get_profile
from workbench.core.requests import RequestSpec
from workbench.tui.screens.api_catalog import ApiCatalogScreen, ApiChoice, operation_label


class Host(App[None]):
    def __init__(self, screen: ApiCatalogScreen) -> None:
        super().__init__()
        self.api = screen
        self.result: list[ApiChoice | None] = []

    def on_mount(self) -> None:
        self.push_screen(self.api, self.result.append)


def shown(screen: ApiCatalogScreen) -> list[str]:
    return [op.operation_id for _, op in screen.shown]


async def test_whole_catalog_search_and_enter(demo_env) -> None:
    profile = get_profile("demo-plgd-m2m")
    screen = ApiCatalogScreen(profile, gateway=lambda: "http://gw.example:1/api/v1")
    app = Host(screen)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: len(screen.shown) >= 20, what="operations listed")
        await pilot.press(*"pending")
        await until(pilot, lambda: screen.shown and all("pending" in i for i in shown(screen)))
        status = str(screen.query_one("#api-status").render())
        assert "operations match" in status
        await pilot.press("down", "enter")
        await until(pilot, lambda: app.result, what="dismissed")
    choice = app.result[0]
    assert choice is not None and choice.operation.operation_id in shown(screen)
    assert choice.spec.url.startswith("http://gw.example:1/api/v1/")


async def test_a_node_lists_only_what_it_can_fill_its_own_first(demo_env) -> None:
    profile = get_profile("demo-plgd-m2m")
    node = DeviceNode(
        id="plgd:device:d-1",
        kind="device",
        label="Bulb",
        request=RequestSpec(url="http://localhost:9/plgd/api/v1/devices/d-1"),
    )
    screen = ApiCatalogScreen(profile, node=node)
    app = Host(screen)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: screen.shown, what="operations listed")
        assert screen.shown[0][1].path == "/api/v1/devices/{deviceId}"
        assert all("{deviceId}" in op.path for _, op in screen.shown)
        assert "Operations for Bulb" in str(screen.query_one("#api-title").render())
        await until(pilot, lambda: "= d-1" in str(screen.query_one("#api-detail").render()))
        await pilot.press("down", "enter")
        await until(pilot, lambda: app.result, what="dismissed")
    assert app.result[0] is not None
    assert app.result[0].spec.url == "http://localhost:9/plgd/api/v1/devices/d-1"


async def test_profile_without_catalog_and_a_broken_document(demo_env, tmp_path: Path) -> None:
    profile = get_profile("demo-thinger")
    screen = ApiCatalogScreen(profile)
    app = Host(screen)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(
            pilot, lambda: "names no API catalog" in str(screen.query_one("#api-status").render())
        )
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    profile.catalogs = [CatalogRef(spec=str(bad), base="api", name="broken")]
    screen = ApiCatalogScreen(profile)
    app = Host(screen)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(
            pilot, lambda: "not valid JSON" in str(screen.query_one("#api-status").render())
        )
        await pilot.press("escape")
        await until(pilot, lambda: app.result == [None])


async def test_document_text_is_escaped(demo_env, tmp_path: Path) -> None:
    doc = {
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/x/{id}": {"get": {"summary": "evil \x1b]0;pwned\x07 \u202e", "responses": {}}}},
    }
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(doc))
    op = open_catalog(str(path)).catalog.operations[0]
    label = operation_label(op).plain
    assert "\x1b" not in label and "\\x1b" in label and "\\u202e" in label
    profile = get_profile("demo-thinger")
    opened = open_catalog(str(path))
    pc = ProfileCatalog(CatalogRef(spec=str(path), base="api", name="evil"), opened)
    screen = ApiCatalogScreen(profile, opener=lambda _p: [pc])
    app = Host(screen)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: screen.shown)
        detail = await until(pilot, lambda: str(screen.query_one("#api-detail").render()))
        assert "\x1b" not in detail and "\\x1b" in detail


async def test_a_node_that_fills_nothing_lists_every_operation(demo_env) -> None:
    profile = get_profile("demo-plgd-m2m")
    group = DeviceNode(
        id="plgd:gateway",
        kind="group",
        label="devices (HTTP gateway)",
        request=RequestSpec(url="http://localhost:9/plgd/api/v1/devices"),
    )
    screen = ApiCatalogScreen(profile, node=group)
    app = Host(screen)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: len(screen.shown) >= 20, what="every operation listed")
        assert "API · demo-plgd-m2m" in str(screen.query_one("#api-title").render())
