"""node-oidc-provider 9.x (an OpenID Certified provider, written independently of this project)
on loopback for the tests: installed with npm into a cache dir when absent, started with
tests/oidc/server.mjs, driven like a person would in a browser (its devInteractions login
and consent forms, submitted over HTTP).

The install and the start FAIL the test with words when they cannot be done; never a skip.
"""

from __future__ import annotations

import contextlib
import fcntl
import html
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

HERE = Path(__file__).parent
PACKAGE = "oidc-provider@9"
RESOURCE = "https://api.example.test/"
CLIENT_SECRET_BASIC = "wb-basic-secret-4f1c2a9e8d7b6a5f4e3d2c1b0a9f8e7d"
CLIENT_SECRET_JWT = "wb-secretjwt-secret-9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"


def cache_dir() -> Path:
    """$IOT_WORKBENCH_TEST_CACHE, else ~/.cache/iot-workbench-tests, else (an unwritable
    home) the temp dir; the install is kept there between runs."""
    given = os.environ.get("IOT_WORKBENCH_TEST_CACHE")
    candidates = [Path(given)] if given else []
    candidates += [
        Path.home() / ".cache" / "iot-workbench-tests",
        Path(tempfile.gettempdir()) / "iot-workbench-tests",
    ]
    for base in candidates:
        try:
            (base / "oidc-provider").mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(base / "oidc-provider", os.W_OK):
            return base / "oidc-provider"
    return candidates[-1] / "oidc-provider"


def _installed(directory: Path) -> bool:
    manifest = directory / "node_modules" / "oidc-provider" / "package.json"
    try:
        return json.loads(manifest.read_text())["version"].startswith("9.")
    except (OSError, ValueError, KeyError):
        return False


def ensure_oidc_provider() -> Path:
    """The cache dir holding node_modules/oidc-provider 9.x, installed (npm, retried once)
    when absent; pytest.fail with the reason when that cannot be done."""
    directory = cache_dir()
    if _installed(directory):
        return directory
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail(
            "the real-OIDC-server tests need node (>= 20) and npm on PATH to install "
            f"{PACKAGE}; found node={node}, npm={npm}",
            pytrace=False,
        )
    directory.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with open(directory / ".install.lock", "w") as lock:  # one install at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        for _attempt in (1, 2):
            if _installed(directory):
                return directory
            try:
                done = subprocess.run(
                    [
                        npm,
                        "install",
                        "--prefix",
                        str(directory),
                        "--no-audit",
                        "--no-fund",
                        "--loglevel=error",
                        PACKAGE,
                    ],
                    capture_output=True,
                    text=True,
                    timeout=300,
                    stdin=subprocess.DEVNULL,
                )
                if done.returncode == 0 and _installed(directory):
                    return directory
                errors.append(f"exit {done.returncode}: {(done.stderr or done.stdout)[-1500:]}")
            except subprocess.TimeoutExpired:
                errors.append("npm install took more than 300 s")
            time.sleep(1)
    pytest.fail(
        f"could not install {PACKAGE} into {directory} with npm (tried twice): "
        + " | ".join(errors),
        pytrace=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- keys --------------------------------------------------------------------------------


def private_pem(key: Any) -> bytes:
    return bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def public_jwk(key: Any, kid: str, alg: str) -> dict[str, Any]:
    algo = jwt.algorithms.RSAAlgorithm if alg.startswith("RS") else jwt.algorithms.ECAlgorithm
    jwk = json.loads(algo.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


@dataclass
class OidcServer:
    issuer: str
    process: subprocess.Popen[str]
    keys: dict[str, Path]  # private key files the test clients use (PEM)
    output: list[str] = field(default_factory=list)

    @property
    def metadata(self) -> dict[str, Any]:
        data: dict[str, Any] = httpx.get(
            self.issuer + "/.well-known/openid-configuration", timeout=5
        ).json()
        return data


def client_metadata(keys: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {  # a native app: public, PKCE, loopback redirect on any port (RFC 8252 §7.3)
            "client_id": "wb-public",
            "application_type": "native",
            "token_endpoint_auth_method": "none",
            "redirect_uris": ["http://127.0.0.1/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
        },
        {  # the device authorization grant (RFC 8628): a public client on a terminal
            "client_id": "wb-device",
            "application_type": "native",
            "token_endpoint_auth_method": "none",
            "grant_types": ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
            "redirect_uris": [],
            "response_types": [],
        },
        *(
            {  # the same, for the expiry (3 s codes) and slow_down tests (server.mjs)
                "client_id": client_id,
                "application_type": "native",
                "token_endpoint_auth_method": "none",
                "grant_types": ["urn:ietf:params:oauth:grant-type:device_code"],
                "redirect_uris": [],
                "response_types": [],
            }
            for client_id in ("wb-device-short", "wb-device-slow")
        ),
        {
            "client_id": "wb-basic",
            "client_secret": CLIENT_SECRET_BASIC,
            "token_endpoint_auth_method": "client_secret_basic",
            "grant_types": ["client_credentials"],
            "redirect_uris": [],
            "response_types": [],
        },
        {
            "client_id": "wb-pkjwt",
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": {
                "keys": [
                    public_jwk(keys["rsa"], "wb-pkjwt-rsa", "RS256"),
                    public_jwk(keys["ec"], "wb-pkjwt-ec", "ES256"),
                ]
            },
            "grant_types": ["client_credentials"],
            "redirect_uris": [],
            "response_types": [],
        },
        {
            "client_id": "wb-secretjwt",
            "client_secret": CLIENT_SECRET_JWT,
            "token_endpoint_auth_method": "client_secret_jwt",
            "grant_types": ["client_credentials"],
            "redirect_uris": [],
            "response_types": [],
        },
    ]


@contextlib.contextmanager
def running_server(workdir: Path) -> Iterator[OidcServer]:
    """Install (if needed) and start node-oidc-provider on a free loopback port; stop it after."""
    installed = ensure_oidc_provider()
    node = shutil.which("node")
    assert node is not None
    keys = {
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ec": ec.generate_private_key(ec.SECP256R1()),
    }
    signing = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signing_jwk = {
        **json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing)),
        "kid": "op-signing",
        "alg": "RS256",
        "use": "sig",
    }
    key_files: dict[str, Path] = {}
    for name, key in keys.items():
        path = workdir / f"client-{name}.pem"
        path.write_bytes(private_pem(key))
        path.chmod(0o600)
        key_files[name] = path
    port = free_port()
    config = {
        "port": port,
        "resource": RESOURCE,
        "jwks": {"keys": [signing_jwk]},
        "clients": client_metadata(keys),
    }
    config_path = workdir / "oidc-config.json"
    config_path.write_text(json.dumps(config))
    process = subprocess.Popen(
        [node, str(HERE / "server.mjs"), str(config_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "OIDC_PROVIDER_DIR": str(installed), "NODE_ENV": "test"},
    )
    server = OidcServer(f"http://127.0.0.1:{port}", process, key_files)
    ready = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            server.output.append(line.rstrip("\n"))
            if line.startswith("ready "):
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    try:
        deadline = time.monotonic() + 60
        while not ready.wait(0.1):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    "node-oidc-provider did not start: " + "\n".join(server.output[-30:]),
                    pytrace=False,
                )
        meta = server.metadata  # discovery answers
        assert meta["issuer"] == server.issuer, meta
        yield server
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


# --- the person at the browser -----------------------------------------------------------


@dataclass
class BrowserRun:
    authorize_url: str = ""
    pages: list[str] = field(default_factory=list)  # every URL the browser loaded
    callback_url: str = ""
    callback_status: int | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)


FORM = re.compile(r"<form[^>]*action=\"([^\"]+)\"[^>]*>(.*?)</form>", re.S)
INPUT = re.compile(r"<input([^>]*)>")
ATTR = re.compile(r"(\w+)=\"([^\"]*)\"")


def _form(page: str) -> tuple[str, dict[str, str]] | None:
    found = FORM.search(page)
    if not found:
        return None
    fields: dict[str, str] = {}
    for raw in INPUT.findall(found.group(2)):
        attrs = dict(ATTR.findall(raw))
        if "name" in attrs:
            fields[attrs["name"]] = html.unescape(attrs.get("value", ""))
    return html.unescape(found.group(1)), fields


def play_browser(
    url: str, run: BrowserRun, *, login: str = "alice", load_callback: bool = True
) -> None:
    """Load the authorization URL, submit the login and consent forms, follow redirects up
    to the redirect URI, and load that (the loopback listener) — or, with
    `load_callback=False`, only note it in `run.callback_url` (what a person over SSH copies
    from the address bar for a paste-back login)."""
    try:
        run.authorize_url = url
        redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        with httpx.Client(timeout=10, follow_redirects=False) as b:
            response = b.get(url)
            for _ in range(20):
                run.pages.append(str(response.url))
                if response.is_redirect:
                    target = urljoin(str(response.url), response.headers["location"])
                    if target.startswith(redirect):
                        run.callback_url = target
                        if load_callback:
                            run.callback_status = b.get(target).status_code
                        return
                    response = b.get(target)
                    continue
                form = _form(response.text) if response.status_code == 200 else None
                if form is None:
                    run.error = (
                        f"HTTP {response.status_code} at {response.url}: {response.text[:300]}"
                    )
                    return
                action, fields = form
                if fields.get("prompt") == "login":
                    fields.update(login=login, password="any-password")
                response = b.post(urljoin(str(response.url), action), data=fields)
            run.error = "too many steps"
    except Exception as exc:  # reported to the test through run.error
        run.error = f"{type(exc).__name__}: {exc}"
    finally:
        run.done.set()


def browser(**kwargs: Any) -> tuple[Callable[[str], bool], BrowserRun]:
    """An `open_browser` callback that plays the person at the browser, in a thread."""
    run = BrowserRun()

    def open_browser(url: str) -> bool:
        threading.Thread(target=play_browser, args=(url, run), kwargs=kwargs, daemon=True).start()
        return True

    return open_browser, run


@dataclass
class DeviceRun:
    pages: list[str] = field(default_factory=list)
    final_page: str = ""
    error: str | None = None


def play_device(url: str, *, user_code: str | None = None, deny: bool = False) -> DeviceRun:
    """What a person does on their phone with a device login (RFC 8628): open the
    verification URI (``verification_uri_complete``, or ``verification_uri`` and type
    `user_code`), confirm (or abort, with `deny`), sign in and consent. Synchronous."""
    run = DeviceRun()
    entered = False
    try:
        with httpx.Client(timeout=10, follow_redirects=False) as b:
            response = b.get(url)
            for _ in range(20):
                run.pages.append(str(response.url))
                if response.is_redirect:
                    response = b.get(urljoin(str(response.url), response.headers["location"]))
                    continue
                form = _form(response.text) if response.status_code == 200 else None
                if form is None:
                    run.final_page = response.text
                    if response.status_code != 200:
                        run.error = f"HTTP {response.status_code} at {response.url}"
                    return run
                action, fields = form
                entry = "user_code" in fields and "confirm" not in fields  # the code entry form
                if entry and entered:
                    run.final_page = response.text  # asked again: the code was refused
                    run.error = "the provider asked for the code again (it refused it)"
                    return run
                entered = entered or entry
                if entry and not fields["user_code"]:
                    fields["user_code"] = user_code or ""
                if fields.get("confirm") == "yes" and deny:
                    fields["abort"] = "yes"
                    answer = b.post(urljoin(str(response.url), action), data=fields)
                    run.final_page = answer.text  # the provider's "aborted" page
                    return run
                if fields.get("prompt") == "login":
                    fields.update(login="alice", password="any-password")
                response = b.post(urljoin(str(response.url), action), data=fields)
            run.error = "too many steps"
    except Exception as exc:
        run.error = f"{type(exc).__name__}: {exc}"
    return run
