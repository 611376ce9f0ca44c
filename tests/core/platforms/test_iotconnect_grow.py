"""IoTConnect listings in the tree: first rows from a small page, the rest in pages that double
up to the cap (offset paging: each window starts right after the last, nothing twice)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.core.platforms.test_iotconnect import flatten, item, mock_adapter
from workbench.core.platforms.iotconnect import MAX_PAGE_SIZE


def paged(total: int, asked: list[tuple[int, int]], count: bool = True, fail: Any = None) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        page, size = int(request.url.params["pageNumber"]), int(request.url.params["pageSize"])
        asked.append((page, size))
        if fail is not None and fail(page, size):
            return httpx.Response(503, json={"message": "busy"})
        items = [item(i) for i in range((page - 1) * size, min(page * size, total))]
        if not items:
            return httpx.Response(204)
        body: dict[str, Any] = {"data": items, "status": 200}
        if count:
            body["count"] = total
        return httpx.Response(200, json=body)

    return handler


def ids(nodes: list[Any]) -> list[str]:
    return [n.ref["uniqueId"] for n in nodes if n.kind == "device"]


def test_pages_double_and_every_device_comes_once() -> None:
    asked: list[tuple[int, int]] = []
    adapter = mock_adapter(paged(20, asked), 2)
    adapter.grow_pages = True
    assert ids(flatten(adapter.devices())) == [f"d{i}" for i in range(20)]
    assert asked == [(1, 2), (2, 2), (2, 4), (2, 8), (2, 16)]


def test_without_a_count_a_short_page_still_ends_the_listing() -> None:
    asked: list[tuple[int, int]] = []
    adapter = mock_adapter(paged(13, asked, count=False), 2)
    adapter.grow_pages = True
    assert ids(flatten(adapter.devices())) == [f"d{i}" for i in range(13)]
    assert asked == [(1, 2), (2, 2), (2, 4), (2, 8)]  # [8, 16) held 5: the end


def test_the_size_stops_growing_at_the_cap_and_windows_still_follow_each_other() -> None:
    asked: list[tuple[int, int]] = []
    adapter = mock_adapter(paged(5000, asked), 100)
    adapter.grow_pages = True
    assert ids(flatten(adapter.devices())) == [f"d{i}" for i in range(5000)]
    assert asked[:7] == [(1, 100), (2, 100), (2, 200), (2, 400), (2, 800), (3, 800), (4, 800)]
    assert max(size for _, size in asked) <= MAX_PAGE_SIZE
    starts = [(page - 1) * size for page, size in asked]
    ends = [page * size for page, size in asked]
    assert starts[1:] == ends[:-1]  # no gap, no overlap


def test_a_failed_page_mid_ramp_is_retried_with_its_own_size() -> None:
    asked: list[tuple[int, int]] = []
    failed: list[bool] = []

    def fail_once(page: int, size: int) -> bool:
        if (page, size) == (2, 8) and not failed:
            failed.append(True)
            return True
        return False

    adapter = mock_adapter(paged(20, asked, fail=fail_once), 2)
    adapter.grow_pages = True
    first = flatten(adapter.devices())
    error = first[-1]
    assert error.kind == "error"
    rest = flatten(adapter.children(error))
    assert ids(first) + ids(rest) == [f"d{i}" for i in range(20)]
    assert asked == [(1, 2), (2, 2), (2, 4), (2, 8), (2, 8), (2, 16)]


def test_without_grow_pages_the_size_stays() -> None:
    asked: list[tuple[int, int]] = []
    assert ids(flatten(mock_adapter(paged(7, asked), 2).devices())) == [f"d{i}" for i in range(7)]
    assert asked == [(1, 2), (2, 2), (3, 2), (4, 2)]
