"""Adapter for `platform = "generic"` profiles: no device model is known, so the tree shows
the profile's base URLs, each with a GET request to start exploring from in the composer."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from workbench.core.platforms.base import Adapter as BaseAdapter
from workbench.core.platforms.base import DeviceNode
from workbench.core.requests import RequestSpec


class Adapter(BaseAdapter):
    platform = "generic"

    def roots(self) -> list[DeviceNode]:
        return [
            DeviceNode(
                id=f"generic:url:{name}",
                kind="info",
                label=f"{name}: {url}",
                detail={"name": name, "url": url},
                request=RequestSpec(method="GET", url=url, name=f"GET {name}"),
            )
            for name, url in self.profile.urls.items()
        ]

    def children(
        self, node: DeviceNode, cancel: threading.Event | None = None
    ) -> Iterator[list[DeviceNode]]:
        return iter(())
