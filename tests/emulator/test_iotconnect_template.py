"""The IoTConnect emulator writes list items from a template (encoding a dict cost more than
making it): the bytes must be exactly the compact encoding of the item the spec-shaped dict
builder makes, and agree with the device's detail."""

from __future__ import annotations

import json

from workbench.emulator.iotconnect.world import World


def test_template_is_byte_identical_to_the_encoded_dict() -> None:
    world = World(seed=7, count=3000, started=1_760_000_000.0)
    sample = [*range(0, 120), *range(2900, 3000), *range(130, 2900, 37)]
    for i in sample:
        made = world.list_item_json(i)
        assert made == json.dumps(world.list_item(i), separators=(",", ":")).encode(), i


def test_list_item_agrees_with_the_detail() -> None:
    world = World(seed=11, count=500, started=1_760_000_000.0)
    for i in (0, 1, 2, 3, 9, 10, 250, 499):
        item = json.loads(world.list_item_json(i))
        detail = world.detail(i)
        for field in ("guid", "uniqueId", "displayName", "entityName", "deviceTemplateName"):
            assert item[field] == detail[field], (i, field)
        assert item["properties"] == detail["properties"]
        assert item["reportingTo"] == detail["parentDeviceUniqueId"]


def test_names_are_unique_and_gateways_are_called_gateways() -> None:
    world = World(seed=3, count=2000, started=1_760_000_000.0)
    ids = [world.unique_id(i) for i in range(2000)]
    assert len(set(ids)) == 2000
    assert all(("-gateway-" in uid) == (i % 10 == 0) for i, uid in enumerate(ids))
