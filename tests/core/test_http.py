"""core.http: clients for a profile, redirects followed hop by hop, errors in words."""

from __future__ import annotations

import pytest

from tests.authkit import RecordingServer
from workbench.core.errors import TransportError
from workbench.core.http import (
    asend_following_redirects,
    make_async_client,
    make_client,
    send_following_redirects,
)
from workbench.core.profiles import get_profile
from workbench.core.version import workbench_version


def test_client_defaults(demo_env) -> None:
    profile = get_profile("demo-thinger")
    with (
        RecordingServer(lambda seen: (302, {"Location": "/elsewhere"}, b"")) as server,
        make_client(profile) as client,
    ):
        r = client.get(server.base_url + "/x")
        assert r.status_code == 302  # never follows by itself
    headers = server.seen[0].headers
    assert headers["user-agent"] == f"iot-workbench/{workbench_version()}"
    assert headers["accept"] == "application/json"  # the profile's default header


def _router(other_base: str | None = None):
    def handler(seen):
        if seen.path == "/see-other":
            return 303, {"Location": "/result"}, b""
        if seen.path == "/temporary":
            return 307, {"Location": "/result"}, b""
        if seen.path == "/found":
            return 302, {"Location": "/result"}, b""
        if seen.path == "/loop":
            return 302, {"Location": "/loop"}, b""
        if seen.path == "/away":
            return 302, {"Location": f"{other_base}/landing"}, b""
        if seen.path == "/nowhere":
            return 302, {}, b""
        return 200, {}, {"method": seen.method, "body": seen.body.decode()}

    return handler


def test_redirect_methods_and_bodies() -> None:
    with RecordingServer(_router()) as server, make_client() as client:
        r = send_following_redirects(
            client, client.build_request("POST", server.base_url + "/see-other", content=b"abc")
        )
        assert r.json() == {"method": "GET", "body": ""} and [h.status_code for h in r.history] == [
            303
        ]
        r = send_following_redirects(
            client, client.build_request("POST", server.base_url + "/temporary", content=b"abc")
        )
        assert r.json() == {"method": "POST", "body": "abc"}
        r = send_following_redirects(
            client, client.build_request("POST", server.base_url + "/found", content=b"abc")
        )
        assert r.json()["method"] == "GET"
        r = send_following_redirects(
            client, client.build_request("PUT", server.base_url + "/found", content=b"x")
        )
        assert r.json() == {"method": "PUT", "body": "x"}
        with pytest.raises(TransportError) as info:
            send_following_redirects(
                client, client.build_request("GET", server.base_url + "/loop"), max_redirects=3
            )
        assert "more than 3 redirects" in info.value.message
        r = send_following_redirects(
            client, client.build_request("GET", server.base_url + "/nowhere")
        )
        assert r.status_code == 302  # no Location: nothing to follow


def test_cross_origin_hop_drops_credentials_even_without_session() -> None:
    with (
        RecordingServer(lambda seen: (200, {}, {})) as other,
        RecordingServer(_router(other.base_url)) as server,
        make_client() as client,
    ):
        request = client.build_request(
            "GET",
            server.base_url + "/away",
            headers={"Authorization": "Bearer t0ken-value", "Cookie": "s=1", "X-Keep": "1"},
        )
        assert send_following_redirects(client, request).status_code == 200
    hop = other.seen[0].headers
    assert "authorization" not in hop and "cookie" not in hop and hop["x-keep"] == "1"
    assert hop["host"] == f"127.0.0.1:{other.port}"


async def test_async_twin() -> None:
    with RecordingServer(_router()) as server:
        async with make_async_client() as client:
            r = await asend_following_redirects(
                client, client.build_request("POST", server.base_url + "/see-other")
            )
            assert r.json()["method"] == "GET" and len(r.history) == 1
        port = server.port
    async with make_async_client() as client:
        with pytest.raises(TransportError) as info:
            await asend_following_redirects(
                client, client.build_request("GET", f"http://127.0.0.1:{port}/")
            )
    assert "connection refused" in info.value.message


def test_tls_off_only_when_the_profile_says_so(tmp_path) -> None:
    import ssl

    from tests.authkit import self_signed_cert, write_profile
    from workbench.core.http import tls_verify

    cert, _ = self_signed_cert(tmp_path)
    base = 'version = 1\nplatform = "generic"\n[urls]\napi = "https://127.0.0.1:1"\n[auth]\nflow = "none"\n'
    plain = get_profile(str(write_profile(tmp_path, "plain", base)))
    assert tls_verify(plain) is True and tls_verify(None) is True
    off = get_profile(str(write_profile(tmp_path, "off", base + "[tls]\nverify = false\n")))
    assert tls_verify(off) is False
    ca = get_profile(str(write_profile(tmp_path, "ca", base + f'[tls]\nca_bundle = "{cert}"\n')))
    assert isinstance(tls_verify(ca), ssl.SSLContext)
