"""Where IoT Workbench keeps its files (platformdirs, overridable by environment).

WORKBENCH_CONFIG_DIR  user profiles (profiles/), collections default dir, settings
WORKBENCH_DATA_DIR    token store file (when no keyring), history
WORKBENCH_CACHE_DIR   fetched API documents and pre-parsed catalogs (safe to delete)
"""

from __future__ import annotations

import os
from pathlib import Path

APP = "iot-workbench"


def config_dir() -> Path:
    override = os.environ.get("WORKBENCH_CONFIG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir(APP))


def data_dir() -> Path:
    override = os.environ.get("WORKBENCH_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir(APP))


def cache_dir() -> Path:
    override = os.environ.get("WORKBENCH_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP))


def user_profiles_dir() -> Path:
    return config_dir() / "profiles"


def builtin_profiles_dir() -> Path:
    """The profiles shipped with the package (top-level profiles/, installed as workbench.builtin_profiles)."""
    from importlib.resources import files

    return Path(str(files("workbench.builtin_profiles")))


def demo_url() -> str:
    """Base URL of the emulated cloud the demo-* profiles point at."""
    return os.environ.get("WORKBENCH_DEMO_URL", "http://127.0.0.1:8765").rstrip("/")
