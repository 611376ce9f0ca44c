"""Starter TOML for a new profile, per platform (the user edits URLs and secret references)."""

from __future__ import annotations

from pathlib import Path

from . import paths
from .atomic import atomic_write
from .errors import ProfileError

TEMPLATES: dict[str, str] = {
    "thinger": """version = 1
platform = "thinger"
description = "Thinger.io (OAuth2 password grant)"

[urls]
api = "https://api.thinger.io"

[auth]
flow = "oauth2_password"
token_url = "{{urls.api}}/oauth/token"
username = { env = "THINGER_USERNAME", prompt = "Thinger.io user" }
password = { env = "THINGER_PASSWORD", prompt = "Thinger.io password" }
""",
    "iotconnect": """version = 1
platform = "iotconnect"
description = "Avnet IoTConnect (Azure prod)"

[urls]
auth = "https://auth.iotconnect.io/api/v2"
device = "https://device.iotconnect.io/api/v2"
user = "https://user.iotconnect.io/api/v2"

[auth]
flow = "iotconnect"
auth_url = "{{urls.auth}}"
username = { env = "IOTCONNECT_USERNAME", prompt = "IoTConnect user (email)" }
password = { env = "IOTCONNECT_PASSWORD", prompt = "IoTConnect password" }
solution_key = { env = "IOTCONNECT_SOLUTION_KEY", prompt = "Solution key" }
""",
    "ioto": """version = 1
platform = "ioto"
description = "EmbedThis Ioto (CloudAPI token)"

[urls]
api = "https://YOUR-API-ID.execute-api.us-east-1.amazonaws.com"

[auth]
flow = "ioto_cloudapi"
token = { env = "IOTO_CLOUDAPI_TOKEN", prompt = "Ioto CloudAPI token" }
""",
    "plgd": """version = 1
platform = "plgd"
description = "plgd hub (authorization code + PKCE)"

[urls]
hub = "https://try.plgd.cloud"

[auth]
flow = "oauth2_authorization_code"
issuer = "https://auth.plgd.cloud/realms/shared"
client_id = "YOUR-CLIENT-ID"
redirect_uri = "http://localhost:8080/callback"
scope = "openid offline_access"
""",
    "iotspot": """version = 1
platform = "iotspot"
description = "iotspot (client credentials)"

[urls]
api = "https://api.iotspot.example"

[auth]
flow = "oauth2_client_credentials"
token_url = "https://iotspot-m2mauth-prod.auth.eu-central-1.amazoncognito.com/oauth2/token"
client_id = { env = "IOTSPOT_CLIENT_ID", prompt = "iotspot client id" }
client_secret = { env = "IOTSPOT_CLIENT_SECRET", prompt = "iotspot client secret" }
client_auth = "basic"
scope = "iotspot/openapi"
""",
    "generic": """version = 1
platform = "generic"
description = "Any OAuth2 / OIDC API"

[urls]
api = "https://api.example.com"

[auth]
flow = "oauth2_client_credentials"
issuer = "https://login.example.com"
client_id = { env = "CLIENT_ID", prompt = "client id" }
client_secret = { env = "CLIENT_SECRET", prompt = "client secret" }
""",
}


def create_profile(name: str, platform: str, directory: Path | None = None) -> Path:
    """Write a new profile from the platform's template into the user profiles dir (never overwrites)."""
    import re

    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        raise ProfileError("a profile name is letters, digits, '.', '_' or '-'", key="name")
    if platform not in TEMPLATES:
        raise ProfileError(f"no template for platform '{platform}'", key="platform")
    directory = directory or paths.user_profiles_dir()
    path = directory / f"{name}.toml"
    if path.exists():
        raise ProfileError(f"a profile file already exists at {path}", path=str(path))
    atomic_write(path, f'name = "{name}"\n' + TEMPLATES[platform])
    return path
