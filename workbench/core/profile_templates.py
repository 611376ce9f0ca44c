"""Starting points for a new profile: a copy of the platform's built-in profile, renamed.

The built-in profiles in `profiles/` are the templates (so a template never drifts from
what ships); `generic` is a standard OAuth2/OIDC client-credentials skeleton. The user then
edits URLs and secret references in the copy, in their own config dir.
"""

from __future__ import annotations

import re
from pathlib import Path

from workbench.core import paths
from workbench.core.atomic import atomic_write
from workbench.core.errors import ProfileError

# platform -> the built-in profile its template is copied from
BUILTIN_SOURCES = {
    "thinger": "thinger.toml",
    "iotconnect": "iotconnect-azure.toml",
    "ioto": "ioto-cloudapi.toml",
    "plgd": "plgd.toml",
    "iotspot": "iotspot.toml",
}

GENERIC = """version = 1
platform = "generic"
description = "Any OAuth2 / OIDC API: fill in the URLs, issuer and client"

[urls]
api = "https://api.example.com"

[auth]
flow = "oauth2_client_credentials"
issuer = "https://login.example.com"
client_id = { env = "CLIENT_ID", prompt = "client id" }
client_secret = { env = "CLIENT_SECRET", prompt = "client secret" }
"""

TEMPLATES = (*BUILTIN_SOURCES, "generic")
_NAME_LINE = re.compile(r"(?m)^name\s*=.*\n")


def template_text(platform: str) -> str:
    if platform == "generic":
        return GENERIC
    if platform not in BUILTIN_SOURCES:
        raise ProfileError(
            f"no template for platform '{platform}'",
            key="platform",
            hint=f"platforms: {', '.join(TEMPLATES)}",
        )
    source = paths.builtin_profiles_dir() / BUILTIN_SOURCES[platform]
    return _NAME_LINE.sub("", source.read_text(encoding="utf-8"), count=1)


def create_profile(name: str, platform: str, directory: Path | None = None) -> Path:
    """Write a new profile from the platform's template into the user profiles dir (never overwrites)."""
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        raise ProfileError("a profile name is letters, digits, '.', '_' or '-'", key="name")
    text = template_text(platform)
    directory = directory or paths.user_profiles_dir()
    path = directory / f"{name}.toml"
    if path.exists():
        raise ProfileError(f"a profile file already exists at {path}", path=str(path))
    atomic_write(path, f'name = "{name}"\n' + text)
    return path
