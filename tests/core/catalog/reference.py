"""Where the vendors' own documents are (../shared/reference next to the repository)."""

from __future__ import annotations

from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "reference"

IOTC_DEVICE = REFERENCE / "iotconnect-device.swagger.json"
IOTC_USER = REFERENCE / "iotconnect-user.swagger.json"
IOTC_AUTH = REFERENCE / "iotconnect-auth.swagger.json"
THINGER = REFERENCE / "thinger.openapi.json"
PLGD = REFERENCE / "plgd-http-gateway.swagger.yaml"
ALL = (IOTC_DEVICE, IOTC_USER, IOTC_AUTH, THINGER, PLGD)
