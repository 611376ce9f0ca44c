"""The installed version of IoT Workbench (one place; pyproject.toml's ``version``)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def workbench_version() -> str:
    """The version of the installed ``iot-workbench`` distribution ("0+unknown" if not installed)."""
    try:
        return version("iot-workbench")
    except PackageNotFoundError:
        return "0+unknown"
