"""Profiles: TOML files that say how to reach a cloud and log in to it.

Format (version 1)::

    version = 1
    name = "thinger"                  # optional; defaults to the file name without .toml
    platform = "thinger"              # iotconnect | ioto | plgd | iotspot | thinger | generic
    description = "Thinger.io cloud"

    [urls]                            # one or more named base URLs; the first is the default
    api = "https://api.thinger.io"

    [auth]
    flow = "oauth2_password"          # see workbench.core.auth.registry.FLOWS
    token_url = "{{urls.api}}/oauth/token"
    username = { env = "THINGER_USERNAME", prompt = "Thinger user" }
    password = { env = "THINGER_PASSWORD", prompt = "Thinger password" }

    [headers]                         # sent with every request
    Accept = "application/json"

    [tls]
    verify = true                     # false only in your own profiles; shown everywhere
    ca_bundle = "/path/to/ca.pem"

    [variables]                       # {{name}} in URLs, headers, bodies
    user = "me"

    [limits]                          # optional (workbench.core.limits)
    deadline = 60                     # seconds per request: connect + headers + body
    max_body_mb = 512                 # the most a decoded answer may be, in MiB

Strings may use {{demo_url}} (the emulated cloud), {{urls.NAME}} and [variables].
Discovery order: --profiles DIR, the user config dir (profiles/), the built-in profiles.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from workbench.core import paths
from workbench.core.auth.registry import FLOWS, FlowSpec, Param
from workbench.core.errors import ProfileError
from workbench.core.limits import MAX_BODY_MB, RequestLimits, deadline_problem
from workbench.core.secrets import REF_KEYS, SecretRef
from workbench.core.templating import render
from workbench.core.toml_index import (
    TomlIndex,
    load_checked,
)

PLATFORMS = ("iotconnect", "ioto", "plgd", "iotspot", "thinger", "generic")
TOP_KEYS = {
    "version",
    "name",
    "platform",
    "description",
    "urls",
    "auth",
    "headers",
    "tls",
    "variables",
    "limits",
    "catalogs",
}
CATALOG_KEYS = {"spec", "base", "name"}
TLS_KEYS = {"verify", "ca_bundle"}
LIMITS_KEYS = {"deadline", "max_body_mb"}


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin:
        parts = urlsplit(url)
        scheme = (parts.scheme or "").lower()
        port = parts.port or (443 if scheme == "https" else 80)
        return cls(scheme, (parts.hostname or "").lower(), port)

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.host)

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The origin as people write it: the port only when it is not the scheme's default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = {"https": 443, "http": 80}.get(self.scheme)
        return f"{self.scheme}://{host}" + ("" if self.port == default else f":{self.port}")


@functools.lru_cache(maxsize=256)  # asked for every request signed (session, secret binding)
def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class AuthConfig:
    flow: str
    params: dict[str, Any] = field(default_factory=dict)  # literal values (templated)
    secrets: dict[str, SecretRef] = field(default_factory=dict)  # references, by param name

    @property
    def spec(self) -> FlowSpec:
        return FLOWS[self.flow]


@dataclass(frozen=True)
class CatalogRef:
    """One ``[[catalogs]]`` entry: an OpenAPI/Swagger document for one of the base URLs."""

    spec: str  # a path (relative to the profile's file), builtin:NAME or an https URL
    base: str  # the name in [urls] the document's paths are under
    name: str  # shown in the API view ("device API")


@dataclass
class Profile:
    name: str
    platform: str
    urls: dict[str, str]
    auth: AuthConfig
    description: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    verify_tls: bool = True
    ca_bundle: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    source: str = "builtin"  # builtin | user | dir
    limits: RequestLimits = field(default_factory=RequestLimits)
    catalogs: list[CatalogRef] = field(default_factory=list)

    @property
    def is_demo(self) -> bool:
        """Every URL is on loopback (the emulated cloud or a local server)."""
        return all(Origin.of(u).is_loopback for u in self.urls.values())

    @property
    def base_url(self) -> str:
        return next(iter(self.urls.values()))

    def url(self, name: str | None = None) -> str:
        return self.urls[name] if name else self.base_url

    def origins(self) -> set[Origin]:
        """Origins a token from this profile may be sent to: its URLs and its auth endpoints."""
        found = {Origin.of(u) for u in self.urls.values()}
        for key, value in self.auth.params.items():
            if key == "redirect_uri":  # where the browser goes back to, never where tokens go
                continue
            if FLOWS[self.auth.flow].params.get(key, Param("str")).kind == "url" and isinstance(
                value, str
            ):
                found.add(Origin.of(value))
        return found

    def template_vars(self) -> dict[str, str]:
        out = {"demo_url": paths.demo_url(), **{f"urls.{k}": v for k, v in self.urls.items()}}
        out.update(self.variables)
        return out

    def tls_settings(self) -> dict[str, Any]:
        """How this profile checks servers' certificates, as the token store records it with
        a login's tokens: ``verify``, the CA bundle's absolute path and a SHA-256 of its
        content (a bundle edited to trust another CA is another setting). Profiles have no
        client certificate setting (yet); ``client_cert`` is recorded as None."""
        bundle = digest = None
        if self.ca_bundle:
            path = Path(self.ca_bundle).expanduser()
            bundle = str(path.resolve())
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                digest = None
        return {
            "verify": self.verify_tls,
            "ca_bundle": bundle,
            "ca_bundle_sha256": digest,
            "client_cert": None,
        }

    @property
    def tls_note(self) -> str | None:
        if not self.verify_tls:
            return "TLS verification is OFF for this profile (set in your own profile file)"
        return None


# --- loading -----------------------------------------------------------------------------


class _Loader:
    def __init__(self, path: Path, text: str, source: str) -> None:
        self.path = path
        self.text = text
        self.source = source
        self._index: TomlIndex | None = None

    def error(
        self,
        message: str,
        table: str | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> ProfileError:
        line = column = None
        if key is not None:
            if self._index is None:
                self._index = TomlIndex(self.text)
            where = tuple(k for k in (table, key) if k)
            line, column = self._index.positions.get(where, (None, None))
        full_key = f"{table}.{key}" if table and key else (key or table)
        return ProfileError(
            message, path=str(self.path), line=line, column=column, key=full_key, hint=hint
        )

    def load(self) -> Profile:
        data = load_checked(self.text, str(self.path), ProfileError, "a profile")
        for key in data:
            if key not in TOP_KEYS:
                raise self.error(
                    f"unknown key '{key}'",
                    None,
                    key,
                    hint=f"known keys: {', '.join(sorted(TOP_KEYS))}",
                )
        if data.get("version") != 1:
            raise self.error(
                "'version' must be 1", None, "version", hint="add `version = 1` at the top"
            )
        name = data.get("name", self.path.stem)
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
            raise self.error("'name' must be letters, digits, '.', '_' or '-'", None, "name")
        platform = data.get("platform")
        if platform not in PLATFORMS:
            raise self.error(f"'platform' must be one of {', '.join(PLATFORMS)}", None, "platform")
        description = data.get("description", "")
        if not isinstance(description, str):
            raise self.error("'description' must be a string", None, "description")
        variables = self._str_table(data, "variables")
        headers = self._str_table(data, "headers")
        raw_urls = data.get("urls")
        if not isinstance(raw_urls, dict) or not raw_urls:
            raise self.error(
                "[urls] must name at least one base URL",
                "urls",
                "",
                hint='e.g. [urls]\napi = "https://..."',
            )
        base_vars: dict[str, str] = {"demo_url": paths.demo_url(), **variables}
        urls: dict[str, str] = {}
        for key, value in raw_urls.items():
            if not isinstance(value, str):
                raise self.error("a URL must be a string", "urls", key)
            urls[key] = self._render(
                value, {**base_vars, **{f"urls.{k}": v for k, v in urls.items()}}, "urls", key
            )
            self._check_url(urls[key], "urls", key)
        tvars = {**base_vars, **{f"urls.{k}": v for k, v in urls.items()}}
        headers = {k: self._render(v, tvars, "headers", k) for k, v in headers.items()}
        auth = self._auth(data.get("auth"), tvars)
        verify, ca_bundle = self._tls(data.get("tls", {}))
        profile = Profile(
            name=name,
            platform=platform,
            urls=urls,
            auth=auth,
            description=description,
            headers=headers,
            verify_tls=verify,
            ca_bundle=ca_bundle,
            variables=variables,
            path=self.path,
            source=self.source,
            limits=self._limits(data.get("limits", {})),
            catalogs=self._catalogs(data.get("catalogs", []), urls, tvars),
        )
        if any(ref.demo is not None for ref in auth.secrets.values()) and not profile.is_demo:
            key = next(k for k, r in auth.secrets.items() if r.demo is not None)
            raise self.error(
                "a 'demo' secret value is only allowed in profiles whose URLs are all on loopback",
                "auth",
                key,
                hint="use {env = ...}, {prompt = ...} or {keyring = ...}",
            )
        return profile

    def _catalogs(self, raw: Any, urls: dict[str, str], tvars: dict[str, str]) -> list[CatalogRef]:
        if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
            raise self.error(
                "[[catalogs]] must be an array of tables",
                None,
                "catalogs",
                hint='e.g. [[catalogs]]\nspec = "device.swagger.json"\nbase = "device"',
            )
        out: list[CatalogRef] = []
        for entry in raw:
            unknown = set(entry) - CATALOG_KEYS
            if unknown:
                raise self.error(
                    f"unknown key '{sorted(unknown)[0]}' in [[catalogs]]",
                    None,
                    "catalogs",
                    hint=f"known keys: {', '.join(sorted(CATALOG_KEYS))}",
                )
            spec = entry.get("spec")
            if not isinstance(spec, str) or not spec.strip():
                raise self.error(
                    "a [[catalogs]] entry needs spec = <path, builtin:NAME or https URL>",
                    None,
                    "catalogs",
                )
            base = entry.get("base", next(iter(urls)))
            if base not in urls:
                raise self.error(
                    f"[[catalogs]] base '{base}' is not one of the [urls]",
                    None,
                    "catalogs",
                    hint=f"known: {', '.join(urls)}",
                )
            name = entry.get("name", base)
            if not isinstance(name, str):
                raise self.error("[[catalogs]] name must be a string", None, "catalogs")
            out.append(CatalogRef(spec=render(spec, tvars), base=base, name=name))
        return out

    def _str_table(self, data: dict[str, Any], table: str) -> dict[str, str]:
        raw = data.get(table, {})
        if not isinstance(raw, dict):
            raise self.error(f"[{table}] must be a table", table, "")
        for k, v in raw.items():
            if not isinstance(v, str):
                raise self.error(f"values in [{table}] must be strings", table, k)
        return dict(raw)

    def _render(self, value: str, tvars: dict[str, str], table: str, key: str) -> str:
        try:
            return render(value, tvars)
        except KeyError as exc:
            raise self.error(
                f"unknown variable {{{{{exc.args[0]}}}}}",
                table,
                key,
                hint="define it in [variables], or use {{urls.NAME}} / {{demo_url}}",
            ) from None

    def _check_url(self, url: str, table: str, key: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise self.error(f"'{url}' is not an http(s) URL", table, key)
        if parts.scheme == "http" and not is_loopback_host(parts.hostname):
            raise self.error("plain http is only allowed to loopback; use https", table, key)

    def _auth(self, raw: Any, tvars: dict[str, str]) -> AuthConfig:
        if not isinstance(raw, dict) or "flow" not in raw:
            raise self.error(
                "[auth] with a 'flow' is required",
                "auth",
                "flow",
                hint=f"flows: {', '.join(FLOWS)}",
            )
        flow = raw["flow"]
        if flow not in FLOWS:
            raise self.error(
                f"unknown flow '{flow}'", "auth", "flow", hint=f"flows: {', '.join(FLOWS)}"
            )
        spec = FLOWS[flow]
        params: dict[str, Any] = {}
        secrets: dict[str, SecretRef] = {}
        for key, value in raw.items():
            if key == "flow":
                continue
            param = spec.params.get(key)
            if param is None:
                raise self.error(
                    f"unknown key '{key}' for flow '{flow}'",
                    "auth",
                    key,
                    hint=f"keys for this flow: {', '.join(spec.params) or 'none'}",
                )
            if param.kind == "table":
                params[key] = self._table(key, value)
                continue
            if isinstance(value, dict):
                if param.kind not in ("secret", "str"):
                    raise self.error(f"'{key}' cannot be a reference", "auth", key)
                secrets[key] = self._ref(key, value)
                continue
            if param.kind == "secret":
                raise self.error(
                    f"'{key}' is a secret: a profile never holds a secret value",
                    "auth",
                    key,
                    hint=f'use {key} = {{ env = "VAR" }}, {{ prompt = "..." }} or {{ keyring = "..." }}',
                )
            params[key] = self._value(param, key, value, tvars)
        for key, param in spec.params.items():
            if key in params or key in secrets:
                continue
            if param.required and key not in ("token_url", "issuer"):
                if key == "client_secret" and params.get("client_auth") == "private_key_jwt":
                    continue  # the client signs an assertion with its private key instead
                raise self.error(f"'{key}' is required for flow '{flow}'", "auth", "flow")
            if param.default is not None:
                params[key] = param.default
        if "token_url" in spec.params and "token_url" not in params and "issuer" not in params:
            raise self.error(f"flow '{flow}' needs 'token_url' or 'issuer'", "auth", "flow")
        self._check_client_auth(params, secrets)
        return AuthConfig(flow=flow, params=params, secrets=secrets)

    def _check_client_auth(self, params: dict[str, Any], secrets: dict[str, SecretRef]) -> None:
        """RFC 7523 client assertions: a private key from a file or a reference (never inline
        — the key is a `secret` parameter); client_secret_jwt signs with the client secret."""
        mode = params.get("client_auth")
        has_file = bool(params.get("private_key_file"))
        has_ref = "private_key" in secrets
        if mode == "private_key_jwt" and has_file == has_ref:
            raise self.error(
                'client_auth = "private_key_jwt" needs the private key: exactly one of '
                "private_key_file (a path) or private_key (a keyring/env reference)",
                "auth",
                "client_auth",
                hint='e.g. private_key_file = "~/.config/iot-workbench/keys/client.pem" or '
                'private_key = { keyring = "my-client-key" }',
            )
        if mode != "private_key_jwt" and (has_file or has_ref):
            key = "private_key_file" if has_file else "private_key"
            raise self.error(
                f"'{key}' is only used with client_auth = \"private_key_jwt\"",
                "auth",
                key,
                hint='set client_auth = "private_key_jwt", or remove the key',
            )
        if mode == "client_secret_jwt" and "client_secret" not in secrets:
            raise self.error(
                'client_auth = "client_secret_jwt" signs with the client secret: add client_secret',
                "auth",
                "client_auth",
                hint='client_secret = { env = "CLIENT_SECRET" }',
            )

    RESERVED_AUTHORIZE_PARAMS = (
        "response_type",
        "client_id",
        "redirect_uri",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "scope",
        "resource",
    )

    def _table(self, key: str, value: Any) -> dict[str, str]:
        """A table of extra request parameters: string, integer or boolean values, as strings."""
        if not isinstance(value, dict):
            raise self.error(
                f"'{key}' must be a table",
                "auth",
                key,
                hint=f'e.g. [auth.{key}]\nprompt = "consent"',
            )
        out: dict[str, str] = {}
        for name, item in value.items():
            if name in self.RESERVED_AUTHORIZE_PARAMS:
                own = name if name in ("scope", "resource") else None
                raise self.error(
                    f"'{name}' cannot be set in [auth.{key}]",
                    "auth",
                    key,
                    hint=(
                        f"use the profile's own '{own}' key"
                        if own
                        else "the login sets it itself (state, PKCE, nonce, redirect)"
                    ),
                )
            if isinstance(item, bool):
                out[name] = "true" if item else "false"
            elif isinstance(item, int | str):
                out[name] = str(item)
            else:
                raise self.error(
                    f"'{name}' in [auth.{key}] must be a string, an integer or a boolean",
                    "auth",
                    key,
                )
        return out

    def _ref(self, key: str, value: dict[str, Any]) -> SecretRef:
        unknown = set(value) - REF_KEYS
        if unknown or not value:
            raise self.error(f"a secret reference takes {', '.join(sorted(REF_KEYS))}", "auth", key)
        for k, v in value.items():
            if not isinstance(v, str):
                raise self.error(f"'{k}' in the reference must be a string", "auth", key)
        return SecretRef(name=key, **value)

    def _value(self, param: Param, key: str, value: Any, tvars: dict[str, str]) -> Any:
        kind = param.kind
        if kind in ("str", "url", "choice"):
            if not isinstance(value, str):
                raise self.error(f"'{key}' must be a string", "auth", key)
            value = self._render(value, tvars, "auth", key)
            if kind == "url" and value:
                self._check_url(value, "auth", key)
            if kind == "choice" and value not in param.choices:
                raise self.error(f"'{key}' must be one of {', '.join(param.choices)}", "auth", key)
            return value
        if kind == "int":
            if not isinstance(value, int) or isinstance(value, bool):
                raise self.error(f"'{key}' must be an integer", "auth", key)
            return value
        if kind == "bool":
            if not isinstance(value, bool):
                raise self.error(f"'{key}' must be true or false", "auth", key)
            return value
        if kind == "strs":
            values = [value] if isinstance(value, str) else value
            if (
                not isinstance(values, list)
                or not values
                or not all(isinstance(v, str) and v for v in values)
            ):
                raise self.error(f"'{key}' must be a string or a list of strings", "auth", key)
            return [self._render(v, tvars, "auth", key) for v in values]
        if kind == "list":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise self.error(f"'{key}' must be a list of strings", "auth", key)
            return value
        raise AssertionError(kind)

    def _tls(self, raw: Any) -> tuple[bool, str | None]:
        if not isinstance(raw, dict):
            raise self.error("[tls] must be a table", "tls", "")
        for key in raw:
            if key not in TLS_KEYS:
                raise self.error(
                    f"unknown key '{key}'", "tls", key, hint="known keys: verify, ca_bundle"
                )
        verify = raw.get("verify", True)
        if not isinstance(verify, bool):
            raise self.error("'verify' must be true or false", "tls", "verify")
        if not verify and self.source == "builtin":
            raise self.error("built-in profiles cannot turn TLS verification off", "tls", "verify")
        ca = raw.get("ca_bundle")
        if ca is not None:
            if not isinstance(ca, str):
                raise self.error("'ca_bundle' must be a path", "tls", "ca_bundle")
            ca = str(Path(ca).expanduser())
            if not Path(ca).is_file():
                raise self.error(f"CA bundle '{ca}' does not exist", "tls", "ca_bundle")
        return verify, ca

    def _limits(self, raw: Any) -> RequestLimits:
        if not isinstance(raw, dict):
            raise self.error("[limits] must be a table", "limits", "")
        for key in raw:
            if key not in LIMITS_KEYS:
                raise self.error(
                    f"unknown key '{key}'", "limits", key, hint="known keys: deadline, max_body_mb"
                )
        limits = RequestLimits()
        deadline = raw.get("deadline", limits.deadline)
        problem = deadline_problem(deadline)
        if problem:
            raise self.error(problem, "limits", "deadline")
        mb = raw.get("max_body_mb", limits.max_body // (1024 * 1024))
        if isinstance(mb, bool) or not isinstance(mb, int) or not 1 <= mb <= MAX_BODY_MB:
            raise self.error(
                f"'max_body_mb' must be a whole number of MiB from 1 to {MAX_BODY_MB}",
                "limits",
                "max_body_mb",
            )
        return RequestLimits(deadline=float(deadline), max_body=mb * 1024 * 1024)


def load_profile(path: str | Path, source: str = "dir") -> Profile:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"cannot read profile: {exc.strerror or exc}", path=str(p)) from None
    except UnicodeDecodeError:
        raise ProfileError("profile is not UTF-8 text", path=str(p)) from None
    return _Loader(p, text, source).load()


def search_dirs(extra: str | Path | None = None) -> list[tuple[Path, str]]:
    dirs: list[tuple[Path, str]] = []
    if extra:
        dirs.append((Path(extra).expanduser(), "dir"))
    dirs.append((paths.user_profiles_dir(), "user"))
    dirs.append((paths.builtin_profiles_dir(), "builtin"))
    return dirs


@dataclass
class Discovery:
    profiles: dict[str, Profile]
    errors: list[ProfileError]


def discover(extra_dir: str | Path | None = None) -> Discovery:
    """All profiles, earlier directories shadowing later ones by name; broken files are reported, not fatal."""
    found: dict[str, Profile] = {}
    errors: list[ProfileError] = []
    for directory, source in search_dirs(extra_dir):
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            try:
                profile = load_profile(path, source)
            except ProfileError as err:
                errors.append(err)
                continue
            found.setdefault(profile.name, profile)
    return Discovery(profiles=found, errors=errors)


def get_profile(name_or_path: str, extra_dir: str | Path | None = None) -> Profile:
    """A profile by name (or by path to a .toml file)."""
    if name_or_path.endswith(".toml") and Path(name_or_path).is_file():
        return load_profile(name_or_path)
    found = discover(extra_dir)
    if name_or_path in found.profiles:
        return found.profiles[name_or_path]
    for err in found.errors:
        if err.path and Path(err.path).stem == name_or_path:
            raise err
    names = ", ".join(sorted(found.profiles)) or "none"
    raise ProfileError(f"no profile named '{name_or_path}'", hint=f"known profiles: {names}")
