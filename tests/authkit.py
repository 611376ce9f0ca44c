"""Test helpers for the auth tests: a scripted browser for the plgd login page, and tiny
recording HTTP(S) servers on loopback for fakes (token endpoints, redirect targets)."""

from __future__ import annotations

import datetime
import html
import ipaddress
import json
import re
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

PLGD_USER = "demo"
PLGD_PASSWORD = "plgd-demo-pass-6604"


# --- the browser ---------------------------------------------------------------------------


@dataclass
class BrowserRun:
    authorize_url: str = ""
    login_status: int | None = None
    callback_url: str = ""
    callback_status: int | None = None
    callback_page: str = ""
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)


def play_browser(
    url: str,
    run: BrowserRun,
    *,
    username: str = PLGD_USER,
    password: str = PLGD_PASSWORD,
    action: str = "allow",
    tamper_callback: Callable[[str], str] | None = None,
) -> None:
    """Do what a person does in the browser: load the login page, submit it, follow the 302."""
    try:
        run.authorize_url = url
        with httpx.Client(timeout=10) as b:
            page = b.get(url)
            page.raise_for_status()
            fields = {
                k: html.unescape(v)
                for k, v in re.findall(r'name="([^"]+)" value="([^"]*)"', page.text)
            }
            fields.update(username=username, password=password, action=action)
            target = str(page.url).split("?")[0]
            answer = b.post(target, data=fields)
            run.login_status = answer.status_code
            if answer.status_code != 302:
                run.error = f"login page answered {answer.status_code}"
                return
            callback = answer.headers["location"]
            if tamper_callback is not None:
                callback = tamper_callback(callback)
            run.callback_url = callback
            back = b.get(callback)
            run.callback_status = back.status_code
            run.callback_page = back.text
    except Exception as exc:  # reported to the test through run.error
        run.error = f"{type(exc).__name__}: {exc}"
    finally:
        run.done.set()


def browser(
    run: BrowserRun | None = None, *, tamper_url: Callable[[str], str] | None = None, **kwargs: Any
) -> tuple[Callable[[str], bool], BrowserRun]:
    """An `open_browser` callback that plays the browser in a thread (like a real browser would)."""
    run = run or BrowserRun()

    def open_browser(url: str) -> bool:
        if tamper_url is not None:
            url = tamper_url(url)
        threading.Thread(target=play_browser, args=(url, run), kwargs=kwargs, daemon=True).start()
        return True

    return open_browser, run


def get_callback_request(url: str, **params: str) -> httpx.Response:
    """Send a crafted callback straight to the loopback listener (an attacker / a stale tab)."""
    parts = urlsplit(url)
    redirect = parse_qs(parts.query)["redirect_uri"][0]
    return httpx.get(redirect, params=params, timeout=5)


# --- recording servers ----------------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


Reply = tuple[int, dict[str, str], bytes | str | dict[str, Any] | list[Any]]
Handler = Callable[[Seen], Reply]


class RecordingServer:
    """A threaded HTTP (or HTTPS) server on 127.0.0.1 that answers with `handler` and keeps
    every request it got in `seen`."""

    def __init__(
        self, handler: Handler, *, tls: tuple[str, str] | None = None, host: str = "127.0.0.1"
    ) -> None:
        self.handler = handler
        self.seen: list[Seen] = []
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return

            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                seen = Seen(
                    self.command,
                    parts.path,
                    parse_qs(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                outer.seen.append(seen)
                status, headers, payload = outer.handler(seen)
                if isinstance(payload, dict | list):
                    data = json.dumps(payload).encode()
                    headers = {"Content-Type": "application/json", **headers}
                elif isinstance(payload, str):
                    data = payload.encode()
                else:
                    data = payload
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _any  # noqa: N815

        self.server = ThreadingHTTPServer((host, 0), H)
        self.server.daemon_threads = True
        self.scheme = "http"
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls[0], tls[1])
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.port = self.server.server_address[1]
        self.host = host
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def self_signed_cert(directory: Path, host: str = "127.0.0.1") -> tuple[str, str]:
    """A self-signed certificate for `host` (PEM cert path, PEM key path)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(host)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "cert.pem"
    key_path = directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def write_profile(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path
