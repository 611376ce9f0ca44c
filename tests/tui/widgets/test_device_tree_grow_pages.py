"""The device tree asks its adapter for growing pages (first rows fast, the rest in big
pages): expanding an IoTConnect site in the app lists it with doubling page sizes."""

from __future__ import annotations

from typing import Any

from tests.tui.helpers import until
from tests.tui.widgets.test_device_tree import Host, expand, labels, real_panel
from workbench.core.requests import RequestSpec


async def test_an_iotconnect_site_is_listed_with_growing_pages(make_emulator, monkeypatch) -> None:
    server = make_emulator(devices=2000)
    monkeypatch.setenv("WORKBENCH_DEMO_URL", server.base_url)
    app = Host(real_panel("demo-iotconnect"))
    sizes: list[tuple[str, int, int]] = []
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.panel
        await until(pilot, lambda: labels(panel) == ["Workbench Demo Industries"], what="root")
        adapter = panel.adapter
        assert adapter is not None and adapter.grow_pages and adapter.page_size == 100
        get = adapter.get

        def noting(spec: RequestSpec) -> Any:
            params = dict(spec.params)
            if "pageNumber" in params and params.get("pageSize") != "1":  # not the counts
                sizes.append(
                    (params["EntityGuid"], int(params["pageNumber"]), int(params["pageSize"]))
                )
            return get(spec)

        adapter.get = noting  # type: ignore[method-assign]
        await expand(pilot, panel, "Workbench Demo Industries")
        await until(pilot, lambda: len(labels(panel)) > 2, what="sites")
        site = labels(panel)[1]
        await expand(pilot, panel, site)
        listing = panel.listings
        await until(
            pilot,
            lambda: (
                any(k != "__root__" and v.state == "done" for k, v in listing.items())
                and len({g for g, _, _ in sizes}) >= 2
            ),
            what="the site listed",
        )
        await until(pilot, lambda: all(v.state != "loading" for v in listing.values()))
    site_pages = [(page, size) for guid, page, size in sizes if guid == sizes[-1][0]]
    assert site_pages[:3] == [(1, 100), (2, 100), (2, 200)], sizes
    windows = [((p - 1) * s, p * s) for p, s in site_pages]
    assert all(a[1] == b[0] for a, b in zip(windows, windows[1:], strict=False)), windows
