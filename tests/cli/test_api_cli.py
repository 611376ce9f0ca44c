"""`workbench api` and `workbench import openapi` against the demo cloud over real HTTP, with the
vendors' own documents (../shared/reference) named by user profiles."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.core.catalog.reference import IOTC_DEVICE, IOTC_USER, THINGER
from workbench.cli import main

pytestmark = pytest.mark.needs_shared  # reads ../shared/reference (tests/conftest.py)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def api_profiles(demo_env) -> Path:
    """demo-iotconnect-api and demo-thinger-api: the demo profiles plus the vendor catalogs."""
    profiles = Path(os.environ["WORKBENCH_CONFIG_DIR"]) / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    iotc = (ROOT / "profiles" / "demo-iotconnect.toml").read_text()
    iotc += (
        f'\n[[catalogs]]\nspec = "{IOTC_DEVICE}"\nbase = "device"\nname = "device API"\n'
        f'\n[[catalogs]]\nspec = "{IOTC_USER}"\nbase = "user"\nname = "user API"\n'
    )
    (profiles / "demo-iotconnect-api.toml").write_text(iotc)
    thinger = (ROOT / "profiles" / "demo-thinger.toml").read_text()
    thinger += f'\n[[catalogs]]\nspec = "{THINGER}"\nbase = "api"\n'
    (profiles / "demo-thinger-api.toml").write_text(thinger)
    return profiles


def first_device(profile: str, capsys) -> str:
    assert main(["devices", profile, "--json", "--depth", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    stack = list(data["nodes"])
    while stack:
        n = stack.pop(0)
        if n["kind"] == "device":
            return n["id"]
        stack = n.get("children", []) + stack
    raise AssertionError("no device")


def api_json(capsys, *argv: str, code: int = 0) -> dict:
    assert main(["api", *argv, "--json"]) == code
    return json.loads(capsys.readouterr().out)


def test_list_and_search(api_profiles, capsys) -> None:
    data = api_json(capsys, "demo-plgd-m2m")
    assert data["count"] >= 20 and all(o["catalog"] == "HTTP gateway" for o in data["operations"])
    data = api_json(capsys, "demo-iotconnect-api", "child", "device")
    assert data["operations"][0]["path"] == "/api/v2/Device/{deviceGuid}/child-device"
    assert main(["api", "demo-thinger-api", "--tag", "Devices"]) == 0
    out = capsys.readouterr().out
    assert "/v1/users/{user}/devices/{device}" in out


def test_profile_without_catalog_says_how(demo_env, capsys) -> None:
    assert main(["api", "demo-ioto"]) == 2
    err = capsys.readouterr().err
    assert "names no API catalog" in err and "[[catalogs]]" in err


def test_unknown_operation_with_send_is_a_usage_error(api_profiles, capsys) -> None:
    assert main(["api", "demo-plgd-m2m", "no_such_op", "--send"]) == 2
    assert "no operation with the operationId 'no_such_op'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("profile", "operations"),
    [
        (
            "demo-iotconnect-api",
            [
                "get_api_v2_Device_uniqueId_uniqueId",
                "get_api_v2_Device_deviceGuid_child_device",
                "get_api_v2_Device_uniqueId_lifecycle",
            ],
        ),
        (
            "demo-plgd-m2m",
            [
                "get_api_v1_devices_deviceId",
                "get_api_v1_devices_deviceId_resource_links",
                "get_api_v1_devices_deviceId_pending_commands",
            ],
        ),
        (
            "demo-thinger-api",
            [
                "get_v1_users_user_devices_device",
                "get_v1_users_user_devices_device_stats",
                "get_v3_users_user_devices_device_resources",
            ],
        ),
    ],
)
def test_three_catalog_requests_per_platform_filled_from_a_device(
    api_profiles, capsys, profile: str, operations: list[str]
) -> None:
    device = first_device(profile, capsys)
    for operation in operations:
        argv = ["api", profile, operation, "--device", device, "--send", "--json"]
        code = main(argv)
        data = json.loads(capsys.readouterr().out)
        assert data["device"] == device
        assert "{" not in data["request"]["url"], "every path parameter filled"
        assert data["warnings"] == []
        status = data["response"]["status"]
        assert code == (1 if status >= 400 else 0)
        assert isinstance(data["deviations"], list)
        if status >= 400:  # the emulator lacks it: the check says the status is undocumented
            assert any(f"status {status}" in d for d in data["deviations"]) or status in (401, 400)


def test_response_check_lists_an_undocumented_field(api_profiles, capsys) -> None:
    # the IoTConnect device document's schema for GET /Device/uniqueId/{uniqueId}: what the
    # emulator sends is checked field by field (the result is data: a list, maybe empty)
    device = first_device("demo-iotconnect-api", capsys)
    data = api_json(
        capsys,
        "demo-iotconnect-api",
        "get_api_v2_Device_uniqueId_uniqueId",
        "--device",
        device,
        "--send",
    )
    assert data["response"]["status"] == 200
    assert all("not in the documented schema" in d or "`" in d for d in data["deviations"])


def test_filled_request_without_sending(api_profiles, capsys) -> None:
    data = api_json(
        capsys,
        "demo-thinger-api",
        "put_v1_users_user_devices_device",
        "--set",
        "user=demo",
        "--set",
        "device=pump",
    )
    assert data["request"]["method"] == "PUT"
    assert data["request"]["url"].endswith("/thinger/v1/users/demo/devices/pump")
    assert json.loads(data["request"]["body"])["asset_group"] == "AssetGroup"
    assert "response" not in data


def test_import_openapi_writes_a_replayable_collection(api_profiles, capsys, tmp_path) -> None:
    target = tmp_path / "thinger.toml"
    assert (
        main(
            [
                "import",
                "openapi",
                str(THINGER),
                "--into",
                str(target),
                "--tag",
                "Devices",
                "--profile",
                "demo-thinger-api",
            ]
        )
        == 0
    )
    text = target.read_text()
    assert 'url = "/v1/users/{{user}}/devices/{{device}}"' in text
    assert "[variables]" in text and 'device = ""' in text
    assert "authorization" not in text.lower() and "Bearer" not in text
    assert main(["import", "openapi", str(THINGER), "--into", str(target)]) == 2
    assert "exists" in capsys.readouterr().err


def test_import_openapi_relative_to_a_named_base(api_profiles, capsys, tmp_path) -> None:
    target = tmp_path / "iotc.toml"
    argv = ["import", "openapi", str(IOTC_DEVICE), "--into", str(target), "--tag", "Device"]
    assert main([*argv, "--profile", "demo-iotconnect-api", "--base", "device"]) == 0
    text = target.read_text()
    # /api/v2 is already in the profile's device URL: not repeated
    assert 'url = "{{urls.device}}/Device/uniqueId/{{uniqueId}}"' in text
