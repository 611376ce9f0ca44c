"""plgd onboarding values (apn, cis, sid, at) from the emulated hub's configuration, the
documented `at` behaviour, and the coapcloudconf update request."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from workbench.core.errors import ResponseError, TransportError, WorkbenchError
from workbench.core.platforms import plgd_onboarding as onboarding
from workbench.core.platforms.plgd_onboarding import DeviceCodeRequest, onboarding_values
from workbench.core.requests import send

CONF, CONF_SECRET = "workbench-demo-confidential", "plgd-demo-client-secret-3391"


def gw_of(base: str) -> str:
    """The emulated hub's HTTP gateway: another origin (localhost, same port), as the hub
    configuration's httpGatewayAddress says."""
    return base.replace("://127.0.0.1:", "://localhost:") + "/plgd"


def gw(server) -> str:
    return gw_of(server.base_url)


def config_of(server) -> dict:
    r = httpx.get(f"{server.base_url}/plgd/.well-known/configuration")
    assert r.status_code == 200
    return r.json()


def bearer_client(base: str) -> httpx.Client:
    r = httpx.post(
        f"{base}/plgd/auth/realms/shared/protocol/openid-connect/token",
        data={"grant_type": "client_credentials", "client_id": CONF, "client_secret": CONF_SECRET},
    )
    return httpx.Client(headers={"Authorization": f"bearer {r.json()['access_token']}"})


# ---------------------------------------------------------------------------- values from the hub
def test_secured_values_come_from_the_hub_configuration(emulator):
    config = config_of(emulator)
    hub = f"{emulator.base_url}/plgd"
    v = onboarding_values(httpx.Client(), hub, secured=True)
    assert v.cis == config["coapGateway"] == "coaps+tcp://127.0.0.1:5684"
    assert v.sid == config["id"]
    assert v.apn == config["deviceOauthClient"]["providerName"] == "plgd.web"
    assert v.secured and v.hub_url == hub
    assert v.gateway == config["httpGatewayAddress"] + "/api/v1"
    assert v.ca_pem == config["certificateAuthorities"] and "BEGIN CERTIFICATE" in v.ca_pem
    notes = " ".join(v.notes)
    assert "owned" in notes and f"subject {v.sid}" in notes and "ACL" in notes
    assert v.to_json()["coapcloudconf"] == {
        "apn": "plgd.web",
        "cis": v.cis,
        "sid": v.sid,
        "at": None,
    }


def test_unsecured_values_use_plain_coap_and_say_what_differs(emulator):
    v = onboarding_values(httpx.Client(), f"{emulator.base_url}/plgd", secured=False)
    assert v.cis == "coap+tcp://127.0.0.1:5683"
    assert v.sid == config_of(emulator)["id"] and v.apn == "plgd.web"
    assert v.ca_pem is None and not v.secured
    notes = " ".join(v.notes)
    assert "No certificates" in notes and "derived from the hub's secured coapGateway" in notes
    assert "unsecured" in v.update_request.name


def test_at_is_none_on_the_emulator_with_the_reason_in_words(emulator):
    v = onboarding_values(httpx.Client(), f"{emulator.base_url}/plgd", secured=True)
    assert v.at is None
    assert "workbench-demo-device" in v.at_reason
    assert "does not know the device OAuth client" in v.at_reason
    assert "emulated hub" in v.at_reason  # the emulator-specific explanation (loopback authority)
    assert v.missing == {"at": v.at_reason}
    assert any("portal" in n and "{{at}}" in n for n in v.notes)
    # the emulator really refuses that client (the reason is not made up)
    config = config_of(emulator)
    r = httpx.get(
        config["authority"] + "/protocol/openid-connect/auth",
        params={
            "response_type": "code",
            "client_id": config["deviceOauthClient"]["clientId"],
            "redirect_uri": "http://localhost:8080/callback",
        },
    )
    assert r.status_code == 400 and "Client not found." in r.text  # Keycloak's words


def test_update_request_leaves_unknowns_as_variables(emulator):
    v = onboarding_values(httpx.Client(), f"{emulator.base_url}/plgd", secured=True)
    spec = v.update_request
    assert spec.method == "PUT" and spec.body_kind == "json"
    assert (
        spec.url == f"{gw(emulator)}/api/v1/devices/{{{{device_id}}}}/resources/CoapCloudConfResURI"
    )
    assert spec.variables() == ["device_id", "at"]
    assert spec.json_error() is None
    assert json.loads(spec.body) == {"apn": "plgd.web", "cis": v.cis, "sid": v.sid, "at": "{{at}}"}


def test_update_request_works_against_an_online_device(fresh_emulator):
    base = fresh_emulator.base_url
    client = bearer_client(base)
    lines = client.get(
        f"{gw_of(base)}/api/v1/devices", params={"status": "ONLINE"}
    ).text.splitlines()
    device_id = json.loads(lines[0])["result"]["id"]
    v = onboarding_values(
        client,
        f"{base}/plgd",
        secured=True,
        device_id=device_id,
        provider_token_fetcher=lambda req: "code-from-portal-42",
    )
    assert v.at == "code-from-portal-42" and v.at_reason is None and v.missing == {}
    assert v.update_request.variables() == []
    record = send(client, v.update_request)
    assert record.status == 200, record.text()
    content = client.get(
        f"{gw_of(base)}/api/v1/devices/{device_id}/resources/CoapCloudConfResURI",
        params={"onlyContent": "true"},
    ).json()
    assert {k: content[k] for k in ("apn", "cis", "sid", "at")} == v.coapcloudconf()


# ---------------------------------------------------------------------------- the at fetch
def test_fetcher_gets_the_device_client_request(emulator):
    config = config_of(emulator)
    seen: list[DeviceCodeRequest] = []

    def fetcher(req: DeviceCodeRequest) -> str:
        seen.append(req)
        return "abc"

    v = onboarding_values(
        httpx.Client(), f"{emulator.base_url}/plgd", secured=False, provider_token_fetcher=fetcher
    )
    assert v.at == "abc"
    [req] = seen
    assert req.client_id == config["deviceOauthClient"]["clientId"] == "workbench-demo-device"
    assert req.audience == config["deviceOauthClient"]["audience"]
    assert req.authority == config["authority"]
    # from the authority's OIDC discovery (Keycloak's path)
    assert req.authorization_endpoint == config["authority"] + "/protocol/openid-connect/auth"
    params = dict(req.params())
    assert params["response_type"] == "code" and params["client_id"] == "workbench-demo-device"
    assert params["prompt"] == "none" and len(params["state"]) >= 22


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        (None, "gave no authorization code"),
        (WorkbenchError("the user closed the browser"), "the user closed the browser"),
        (
            TransportError("connection refused by auth.example"),
            "could not be reached: connection refused",
        ),
    ],
)
def test_fetcher_failures_become_reasons(emulator, result, reason):
    def fetcher(req: DeviceCodeRequest) -> str | None:
        if isinstance(result, Exception):
            raise result
        return result

    v = onboarding_values(
        httpx.Client(), f"{emulator.base_url}/plgd", secured=True, provider_token_fetcher=fetcher
    )
    assert v.at is None and reason in v.at_reason


def test_no_device_client_in_the_configuration():
    v = onboarding_values(
        httpx.Client(),
        "https://hub.example",
        secured=True,
        configuration={"id": "hub-1", "coapGateway": "coaps+tcp://hub.example:5684"},
    )
    assert v.at is None and "no device OAuth client" in v.at_reason
    assert v.apn is None and "providerName" in v.missing["apn"]
    assert json.loads(v.update_request.body)["apn"] == "{{apn}}"
    assert v.gateway == "https://hub.example/api/v1"
    # older hubs name the provider cloudAuthorizationProvider
    v = onboarding_values(
        httpx.Client(),
        "https://hub.example",
        secured=True,
        fetch_code=False,
        configuration={"cloudAuthorizationProvider": "auth0"},
    )
    assert v.apn == "auth0" and set(v.missing) == {"cis", "sid", "at"}


def _request() -> DeviceCodeRequest:
    return DeviceCodeRequest(
        authority="https://auth.example",
        authorization_endpoint="https://auth.example/authorize",
        client_id="dev-client",
        audience="https://hub.example",
        scopes=["offline_access"],
        redirect_uri="https://hub.example/devices",
    )


def _silent(handler) -> str:
    client = httpx.Client(
        transport=httpx.MockTransport(handler), headers={"Authorization": "bearer secret-token"}
    )
    return onboarding.silent_code_fetch(client, _request())


def test_silent_fetch_takes_the_code_from_the_redirect_and_sends_no_token():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        state = parse_qs(urlsplit(str(request.url)).query)["state"][0]
        return httpx.Response(
            302, headers={"location": f"https://hub.example/devices?code=C0DE&state={state}"}
        )

    assert _silent(handler) == "C0DE"
    [req] = seen
    assert "authorization" not in req.headers
    q = parse_qs(req.url.query.decode())
    assert (
        q["client_id"] == ["dev-client"]
        and q["prompt"] == ["none"]
        and q["scope"] == ["offline_access"]
    )
    assert q["audience"] == ["https://hub.example"]


@pytest.mark.parametrize(
    ("response", "words"),
    [
        (
            httpx.Response(
                302,
                headers={"location": "https://hub.example/devices?error=login_required&state=x"},
            ),
            "needs an interactive login",
        ),
        (
            httpx.Response(
                302, headers={"location": "https://hub.example/devices?code=C&state=other"}
            ),
            "state mismatch",
        ),
        (
            httpx.Response(200, html="<html><title>Log in</title><form></form></html>"),
            "showed a login page",
        ),
        (
            httpx.Response(400, text='{"err":"client(dev-client) not found"}'),
            "does not know the device OAuth client",
        ),
        (httpx.Response(500, text="boom"), "refused the authorization request"),
    ],
)
def test_silent_fetch_failures_in_words(response, words):
    with pytest.raises(WorkbenchError, match=words.replace("(", r"\(")) as info:
        _silent(lambda request: response)
    assert "emulated hub" not in info.value.message  # not a loopback authority


# ---------------------------------------------------------------------------- pure helpers
def test_unsecured_cis_and_gateway_url():
    assert (
        onboarding.unsecured_cis("coaps+tcp://try.plgd.cloud:5684")
        == "coap+tcp://try.plgd.cloud:5683"
    )
    assert onboarding.unsecured_cis("coaps+tcp://hub.example") == "coap+tcp://hub.example:5683"
    assert (
        onboarding.unsecured_cis("coaps+tcp://hub.example:15684") == "coap+tcp://hub.example:15684"
    )
    assert onboarding.unsecured_cis("coaps+tcp://[::1]:5684") == "coap+tcp://[::1]:5683"
    assert onboarding.unsecured_cis("coap+tcp://hub.example:5683") == "coap+tcp://hub.example:5683"
    assert (
        onboarding.gateway_url(
            {"httpGatewayAddress": "https://api.try.plgd.cloud"}, "https://try.plgd.cloud"
        )
        == "https://api.try.plgd.cloud/api/v1"
    )
    assert (
        onboarding.gateway_url({"httpGatewayAddress": "https://a.example/api/v1/"}, "x")
        == "https://a.example/api/v1"
    )
    assert onboarding.gateway_url({}, "https://hub.example/") == "https://hub.example/api/v1"
    assert (
        onboarding.gateway_url({"httpGatewayAddress": "not a url"}, "https://h.example")
        == "https://h.example/api/v1"
    )


def test_device_id_is_quoted_in_the_request():
    spec = onboarding.update_request(
        "https://h.example/api/v1",
        {"apn": "a", "cis": "c", "sid": "s", "at": None},
        device_id="dev/1",
    )
    assert spec.url == "https://h.example/api/v1/devices/dev%2F1/resources/CoapCloudConfResURI"


def test_unreadable_configuration_raises_with_words(fresh_emulator):
    hub = f"{fresh_emulator.base_url}/plgd"
    with pytest.raises(ResponseError, match="answered HTTP 404"):
        onboarding.hub_configuration(httpx.Client(), hub + "/missing")
    httpx.post(f"{fresh_emulator.base_url}/_emulator/faults/plgd", json={"maintenance": True})
    with pytest.raises(ResponseError) as info:
        onboarding_values(httpx.Client(), hub, secured=True)
    assert "HTML page" in info.value.message and "Down for maintenance" in info.value.message
    assert info.value.status == 503 and "maintenance" in info.value.hint
    httpx.post(
        f"{fresh_emulator.base_url}/_emulator/faults/plgd",
        json={"maintenance": False, "invalid_json": True},
    )
    with pytest.raises(ResponseError, match="not valid JSON"):
        onboarding.hub_configuration(httpx.Client(), hub)


def test_values_through_a_logged_in_session(demo_env):
    from workbench.core.profiles import get_profile
    from workbench.core.session import Session

    session = Session(get_profile("demo-plgd-m2m"), persist=False)
    session.login()
    with session.client() as client:
        v = onboarding_values(client, session.profile.urls["hub"], secured=True)
    assert (
        v.sid == config_of(demo_env)["id"]
        and v.apn == "plgd.web"
        and v.cis == "coaps+tcp://127.0.0.1:5684"
    )
    assert v.at is None and "workbench-demo-device" in v.at_reason
