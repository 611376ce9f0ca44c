"""`workbench api ... --send` on plgd's device read: what the vendor's document lacks but the
hub's code sends (known_gaps.toml) is listed apart from deviations."""

from __future__ import annotations

import json

from tests.cli.test_api_cli import first_device
from workbench.cli import main


def test_a_plgd_device_read_has_documented_gaps_and_no_deviation(demo_env, capsys) -> None:
    device = first_device("demo-plgd-m2m", capsys)
    argv = ["api", "demo-plgd-m2m", "get_api_v1_devices_deviceId", "--device", device, "--send"]
    assert main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["response"]["status"] == 200
    assert data["deviations"] == []
    fields = sorted(g.split("`")[1] for g in data["documented_gaps"])
    assert fields == [
        "data",
        "metadata.connection",
        "metadata.twinSynchronization.forceSynchronizationAt",
        "ownershipStatus",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert (
        "schema check: the response fits the documented schema, but for documented gaps of the "
        "vendor's document:" in out
    )
    assert "· documented gap: field `metadata.connection` is not in the vendor's document" in out
    assert "✗" not in out and "deviations from" not in out
