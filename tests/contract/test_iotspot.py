"""iotspot: the sign-in, checked against the vendor's own documentation (../shared/seeds/003, the
"Obtain Access Token" page: a Cognito M2M token endpoint) and AWS Cognito's documented token
endpoint and access-token claims. The iotspot open API itself is NOT public: there is no spec
to check the modelled /api/v1 against, so only its header form is checked here (Cognito-issued
access tokens are sent as ``Authorization: Bearer``).

Recorded at the transport (tests/contract/wire.py): a login, the device tree (CLI) and a renewal.
"""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qsl, unquote_plus

import jwt
import pytest

from tests.contract.wire import Wire
from workbench.cli import main
from workbench.emulator.app import EmulatorServer

PROFILE = "demo-iotspot"
BEARER = re.compile(r"^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
# The vendor's curl example (seeds/003): POST .../oauth2/token, "Authorization: Basic
# base64(client_id:client_secret)", Content-Type application/x-www-form-urlencoded, form
# client_id, scope=iotspot/openapi, grant_type=client_credentials.
TOKEN_FORM = {"client_id", "scope", "grant_type"}
# The token answer of the vendor's example (and of Cognito's client_credentials grant):
TOKEN_ANSWER = {"access_token", "expires_in", "token_type"}
# Cognito access-token claims (docs.aws.amazon.com/cognito/latest/developerguide/
# amazon-cognito-user-pools-using-the-access-token.html), as in the vendor's sample token.
ACCESS_CLAIMS = {"sub", "token_use", "scope", "auth_time", "iss", "exp", "iat", "version", "jti"}


@pytest.fixture
def recorded(
    demo_env: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[Wire, str]:
    wire = Wire().install(monkeypatch)
    assert main(["login", PROFILE]) == 0
    assert main(["devices", PROFILE, "--depth", "3", "--json"]) == 0
    capsys.readouterr()
    return wire, demo_env.base_url + "/iotspot"


def test_the_token_request_is_the_documented_one(recorded: tuple[Wire, str]) -> None:
    wire, base = recorded
    token_calls = wire.under(base + "/auth/oauth2/token")
    assert token_calls, "the client asked the token endpoint"
    for e in token_calls:
        assert e.method == "POST"
        assert e.headers["content-type"].split(";")[0] == "application/x-www-form-urlencoded"
        scheme, _, value = e.headers["authorization"].partition(" ")
        assert scheme == "Basic"
        raw_id, _, raw_secret = base64.b64decode(value).decode().partition(":")
        form = dict(parse_qsl(e.body.decode()))
        assert set(form) == TOKEN_FORM, sorted(form)
        assert form["grant_type"] == "client_credentials"
        assert form["scope"] == "iotspot/openapi"  # what the vendor's docs ask for
        assert unquote_plus(raw_id) == form["client_id"]  # RFC 6749 2.3.1: form-urlencoded
        assert unquote_plus(raw_secret)
        assert e.status == 200
        answer = e.json()
        assert set(answer) == TOKEN_ANSWER and answer["token_type"] == "Bearer"
        claims = jwt.decode(answer["access_token"], options={"verify_signature": False})
        assert set(claims) >= ACCESS_CLAIMS and claims["token_use"] == "access"
        assert jwt.get_unverified_header(answer["access_token"])["alg"] == "RS256"


def test_api_requests_carry_the_bearer_token(recorded: tuple[Wire, str]) -> None:
    wire, base = recorded
    calls = wire.under(base + "/api/v1/")
    assert calls
    for e in calls:
        assert BEARER.match(e.headers.get("authorization", "")), str(e)
        assert e.status == 200, str(e)
