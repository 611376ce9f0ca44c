"""The runner speed work (issue 6): the deadline clock is woken only for a sooner deadline.

Every request a workbench client sends puts a watchdog on one shared clock
(http_limits.WATCHDOGS). Waking the clock's thread for each one cost a thread switch per
request (the runner benchmark's 0.72x); now it sleeps until the earliest deadline and is
woken only when a new one comes sooner. These tests hold the guarantees that change must
keep: a short deadline behind a long one still fires on time (the header phase, where only
the watchdog can cut a trickle), and ended requests do not pile up in the clock.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.hostile_server import HostileServer, trickle
from workbench.core.errors import TransportError
from workbench.core.http import make_client
from workbench.core.http_limits import WATCHDOGS, WatchdogClock
from workbench.core.limits import RequestLimits
from workbench.core.requests import RequestSpec, send

SHORT = 1.0
MARGIN = 2.5  # a loaded machine: the deadline plus a header byte's wait plus slack


def header_trickle(stopped: threading.Event):
    """A status line at once, then one header byte every 0.2 s, for ever: each byte
    renews a per-read timeout, so only the deadline's watchdog can end the wait."""

    def handler(conn: socket.socket, _request: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        while not stopped.is_set():
            conn.sendall(b"a")
            time.sleep(0.2)

    return handler


def test_a_short_deadline_behind_a_long_one_still_fires_on_time() -> None:
    body_stop, header_stop = threading.Event(), threading.Event()
    with (
        HostileServer(trickle(body_stop, every=0.2)) as slow_body,
        HostileServer(header_trickle(header_stop)) as slow_headers,
    ):
        # a request with the default 60 s deadline, still running: the clock sleeps until it
        long_client = make_client(None)
        started = threading.Event()

        def long_request() -> None:
            started.set()
            with contextlib.suppress(TransportError):
                send(long_client, RequestSpec("GET", f"{slow_body.url}/long"))

        worker = threading.Thread(target=long_request, daemon=True)
        worker.start()
        started.wait(5)
        time.sleep(0.3)
        short_client = make_client(None, request_limits=RequestLimits(deadline=SHORT))
        begin = time.monotonic()
        with pytest.raises(TransportError) as caught:
            send(short_client, RequestSpec("GET", f"{slow_headers.url}/short"))
        took = time.monotonic() - begin
        header_stop.set()
        body_stop.set()
        long_client.close()
        short_client.close()
    assert took < SHORT + MARGIN, f"held {took:.1f} s"
    assert "within the deadline of 1 s" in caught.value.message


def test_ended_requests_do_not_pile_up_in_the_clock() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ok": True})

    with make_client(None, transport=httpx.MockTransport(handler)) as client:
        for _ in range(3 * WatchdogClock.COMPACT_MIN):
            record = send(client, RequestSpec("GET", "http://127.0.0.1:9/x"))
            assert record.status == 200
    # every watchdog above ended with its request: at most one sweep's worth is left
    assert WATCHDOGS.pending() <= WatchdogClock.COMPACT_MIN + 1


def test_a_new_clock_fires_a_due_watchdog_through_the_public_client() -> None:
    # the clock's thread starts with the first request and fires it at its deadline
    stop = threading.Event()
    with HostileServer(header_trickle(stop)) as server:
        client = make_client(None, request_limits=RequestLimits(deadline=SHORT))
        begin = time.monotonic()
        with pytest.raises(TransportError):
            send(client, RequestSpec("GET", f"{server.url}/a"))
        took = time.monotonic() - begin
        stop.set()
        client.close()
    assert took < SHORT + MARGIN, f"held {took:.1f} s"


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A throw-away certificate for 127.0.0.1 (the client below does not verify it: the
    deadline is what is tested; tests/oidc uses cryptography the same way)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_a_trickled_header_over_tls_is_cut_at_the_deadline(tmp_path: Path) -> None:
    # over TLS the socket to shut down is the one the handshake returns (the trace learns it
    # at start_tls, then takes itself out)
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    stop = threading.Event()
    trickler = header_trickle(stop)

    def handler(conn: socket.socket, request: bytes) -> None:
        trickler(conn, request)

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]

    def serve() -> None:
        try:
            raw, _ = listener.accept()
        except OSError:
            return
        try:
            with context.wrap_socket(raw, server_side=True) as conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                handler(conn, data)
        except OSError:
            pass

    threading.Thread(target=serve, daemon=True).start()
    client = make_client(
        None,
        request_limits=RequestLimits(deadline=SHORT),
        transport=httpx.HTTPTransport(verify=False),
    )
    begin = time.monotonic()
    try:
        with pytest.raises(TransportError) as caught:
            send(client, RequestSpec("GET", f"https://127.0.0.1:{port}/tls"))
    finally:
        took = time.monotonic() - begin
        stop.set()
        client.close()
        listener.close()
    assert took < SHORT + MARGIN, f"held {took:.1f} s"
    assert "within the deadline of 1 s" in caught.value.message
