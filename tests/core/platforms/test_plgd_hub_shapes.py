"""The plgd adapter on the hub's real framing and numbering (plgd-dev/hub 334f508f; see
tests/contract/test_plgd_hub_code.py for the sources)."""

from __future__ import annotations

import pytest

from tests.core.platforms.test_plgd import adapter, admin, flat, root
from workbench.core.errors import WorkbenchError
from workbench.core.platforms import plgd


@pytest.mark.parametrize("number", ["0", "1", " 1 "])
def test_a_numeric_status_is_refused_in_words(number: str) -> None:
    # GetDevicesRequest.Status says ONLINE=0, Connection.Status says ONLINE=1: the workbench
    # used to send ONLINE for "1", which the hub's filter numbering reads as OFFLINE
    with pytest.raises(WorkbenchError, match="is a number") as info:
        plgd.status_filter(number)
    assert info.value.hint is not None and "online or offline" in info.value.hint


def test_a_numeric_status_in_the_adapter_is_refused(emulator, monkeypatch) -> None:
    with pytest.raises(WorkbenchError, match="is a number"):
        adapter(emulator, monkeypatch, status="1")
    online = adapter(emulator, monkeypatch, status="online")
    devices = [
        n for n in flat(online.children(root(online, "plgd:gateway:online"))) if n.kind == "device"
    ]
    assert devices and {n.status for n in devices} == {"online"}


def test_a_broken_stream_counts_messages_not_blank_lines(fresh_emulator, monkeypatch) -> None:
    a = adapter(fresh_emulator, monkeypatch, page_size=10)
    group = root(a, "plgd:gateway")
    admin(fresh_emulator, "faults/plgd", {"truncate": True})
    nodes = flat(a.children(group))
    devices = [n for n in nodes if n.kind == "device"]
    assert nodes[-1].kind == "error" and 0 < len(devices) < 25
    assert f"the stream broke after {len(devices)} messages:" in (nodes[-1].error or "")
    admin(fresh_emulator, "faults/plgd", {"truncate": False})
    rest = flat(a.children(nodes[-1]))
    assert len({n.id for n in devices + rest if n.kind == "device"}) == 25
