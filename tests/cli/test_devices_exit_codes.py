"""Issue 11 "Exit codes": `workbench devices` is non-zero (4) when nothing could be listed.

Before: every node of the tree was an error (the service down for maintenance) and the
command still exited 0, so a CI step or a script could not tell. Error nodes next to
nodes that did list stay data (exit 0).
"""

from __future__ import annotations

import httpx
import pytest

from workbench.cli import main


@pytest.mark.parametrize("profile", ["demo-thinger", "demo-iotspot", "demo-iotconnect"])
def test_devices_exits_4_when_every_listing_failed(profile, fresh_emulator, monkeypatch, capsys):
    monkeypatch.setenv("WORKBENCH_DEMO_URL", fresh_emulator.base_url)
    assert main(["login", profile]) == 0
    platform = profile.removeprefix("demo-")
    httpx.post(f"{fresh_emulator.base_url}/_emulator/faults/{platform}", json={"maintenance": True})
    code = main(["devices", profile, "--depth", "2"])
    out, err = capsys.readouterr()
    assert "maintenance" in out  # the error nodes are still printed
    assert code == 4, err
    assert "nothing could be listed" in err
    assert "Traceback" not in out + err


def test_devices_exits_0_when_something_listed(demo_env, capsys) -> None:
    # depth 3: the devices list, and resources of offline devices that cannot be listed
    assert main(["devices", "demo-thinger", "--depth", "3"]) == 0
    out = capsys.readouterr().out
    assert "✗" in out and "●" in out
