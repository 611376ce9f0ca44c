"""plgd device onboarding: the values a new device's ``coapcloudconf`` resource needs.

A device joins a plgd hub when its OCF Cloud Configuration resource (``oic.r.coapcloudconf``,
usually at ``/CoapCloudConfResURI``) is updated with four values (seed 002, "Device
Onboarding"):

=====  ==========================================================================  ===========
apn    authorization provider name: ``deviceOauthClient.providerName`` of the hub   real
       configuration (older hubs: ``cloudAuthorizationProvider``)
cis    cloud interface server: ``coapGateway`` of the configuration,                real
       e.g. ``coaps+tcp://try.plgd.cloud:5684``
sid    cloud (hub) id: ``id`` of the configuration                                   real
at     an OAuth *authorization code* for the hub's device OAuth client                see below
=====  ==========================================================================  ===========

``apn``, ``cis`` and ``sid`` come from one unauthenticated fetch of the hub's
``GET {hub}/.well-known/configuration`` (:func:`hub_configuration`); nothing is invented.

How ``at`` is obtained: the hub portal ("Devices > Onboard device") asks the OAuth provider
(the configuration's ``authority``) for an authorization code for the *device* OAuth client
(``deviceOauthClient.clientId``, its ``audience`` and ``scopes``), riding on the user's
existing browser login at the provider, and shows the ``code`` the provider redirects back
with. The device later exchanges that code at sign-up, so it is single use and short-lived.

The workbench has no browser session with the provider, so by default
(:func:`silent_code_fetch`) it makes the same authorization request without a browser:
``GET {authorization_endpoint}?response_type=code&client_id=<device client>&prompt=none...``
(endpoint from the provider's OpenID discovery, else ``{authority}/authorize``), without
following the redirect, and takes the ``code`` from the ``Location`` if the provider gives
one. A provider that needs an interactive login answers ``error=login_required`` or a login
page; then ``at`` is ``None`` and ``at_reason`` says why in plain words. A caller that can
do better (the TUI with a browser) passes ``provider_token_fetcher``: a callable taking the
:class:`DeviceCodeRequest` and returning the code (or ``None``, or raising a
``WorkbenchError`` whose words become the reason). ``at`` is never made up.

The emulated hub: its configuration advertises the device client ``workbench-demo-device``,
but that client is *not registered* with the emulated OAuth server, which answers the
authorization request with a 400 "Unknown client_id" page. So against the emulator ``at`` is
always ``None`` with that reason; ``apn``, ``cis`` and ``sid`` are the emulator's real values.

Secured vs unsecured devices (``secured=``): a secured device uses ``coaps+tcp`` (TLS, port
5684 by convention), must be owned, must trust the hub's CA (``certificateAuthorities`` of
the configuration, returned as ``ca_pem``) with subject ``sid``, and needs an ACL entry for
that subject. An unsecured device uses plain ``coap+tcp`` (port 5683 by convention), no
certificates, no ownership, no ACL. The hub configuration only advertises the secured
endpoint; the unsecured ``cis`` is *derived* from it by switching scheme and default port
(what the seed shows for try.plgd.cloud) and the notes say so.

``update_request`` is the ``PUT {gateway}/devices/{{device_id}}/resources/CoapCloudConfResURI``
with the values as JSON, for the request composer; ``{{device_id}}`` (and ``{{at}}`` when
no code could be obtained) are left as variables for the user to fill in. Through the HTTP
gateway that request only reaches a device the hub already knows (re-provisioning it); a new
device is configured on its local network by an OCF client with the same values.
"""

from __future__ import annotations

import html
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

from workbench.core.errors import ResponseError, TransportError, WorkbenchError
from workbench.core.requests import RequestSpec, send
from workbench.core.text import escape_keep_newlines

if TYPE_CHECKING:
    import httpx

    from workbench.core.requests import ResponseRecord

COAPCLOUDCONF_HREF = "/CoapCloudConfResURI"
SECURE_SCHEME, SECURE_PORT = "coaps+tcp", 5684
PLAIN_SCHEME, PLAIN_PORT = "coap+tcp", 5683
API_PATH = "/api/v1"


# --- the hub configuration (the one fetch every value starts from) ------------------------


def configuration_url(hub_url: str) -> str:
    return hub_url.rstrip("/") + "/.well-known/configuration"


def strip_tags(text: str) -> str:
    """HTML to plain words (tags dropped, entities decoded, whitespace collapsed)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def page_summary(text: str, limit: int = 200) -> str:
    """A short, terminal-safe summary of an answer: an HTML page's title, first heading and
    first paragraph, else the start of the text."""
    parts: list[str] = []
    for tag in ("title", "h1", "p"):
        m = re.search(rf"<{tag}(?:\s[^>]*)?>(.*?)</{tag}>", text, re.I | re.S)
        if m:
            words = strip_tags(m.group(1))
            if words and words not in parts:
                parts.append(words)
    summary = ": ".join(parts) if parts else " ".join(text.split())
    summary = escape_keep_newlines(summary)
    return (summary[:limit] + "…" if len(summary) > limit else summary) or "(empty)"


def _page_words(record: ResponseRecord) -> str:
    return page_summary(record.text())


def is_html(record: ResponseRecord) -> bool:
    head = record.text().lstrip()[:15].lower()
    return "text/html" in record.content_type.lower() or head.startswith(("<!doctype", "<html"))


def hub_configuration(client: httpx.Client, hub_url: str) -> dict[str, Any]:
    """``GET {hub}/.well-known/configuration`` (no auth needed) as a dict.

    Raises TransportError (network) or ResponseError (not 200, HTML, not a JSON object)."""
    url = configuration_url(hub_url)
    record = send(client, RequestSpec(method="GET", url=url, name="hub configuration"))
    if is_html(record):
        raise ResponseError(
            f"the hub configuration at {url} is an HTML page (HTTP {record.status}: "
            f"{_page_words(record)}), not the hub's JSON",
            status=record.status,
            hint="the hub may be down for maintenance, or the hub URL in the profile is wrong",
        )
    if record.status != 200:
        raise ResponseError(
            f"the hub configuration at {url} answered HTTP {record.status}: {_page_words(record)}",
            status=record.status,
            hint="check the profile's hub URL ([urls] hub)",
        )
    try:
        data = json.loads(record.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ResponseError(
            f"the hub configuration at {url} is not valid JSON ({exc})",
            status=record.status,
            hint="the hub or a proxy sent garbage; try again",
        ) from None
    if not isinstance(data, dict):
        raise ResponseError(
            f"the hub configuration at {url} is not a JSON object", status=record.status
        )
    return data


def gateway_url(configuration: dict[str, Any] | None, hub_url: str) -> str:
    """The HTTP gateway's API base: ``httpGatewayAddress`` + ``/api/v1`` when the
    configuration names it, else the hub URL + ``/api/v1``."""
    address = ""
    if configuration:
        raw = configuration.get("httpGatewayAddress")
        if isinstance(raw, str) and raw.strip().startswith(("http://", "https://")):
            address = raw.strip()
    base = (address or hub_url).rstrip("/")
    return base if base.endswith(API_PATH) else base + API_PATH


# --- what a login needs from the configuration --------------------------------------------


@dataclass(frozen=True)
class HubLogin:
    """What the hub configuration tells a client that logs in (plgd-try-cloud.md, the
    ``/.well-known/configuration`` fields): the OAuth authority, the web OAuth client and its
    scopes / audience, and the HTTP gateway's address (``httpGatewayAddress``)."""

    authority: str
    client_id: str
    scopes: tuple[str, ...]
    audience: str
    gateway_address: str | None  # e.g. https://api.try.plgd.cloud (API under /api/v1)


def _is_http_url(value: Any) -> bool:
    return isinstance(value, str) and value.strip().startswith(("http://", "https://"))


def hub_login(configuration: dict[str, Any]) -> HubLogin:
    """The login facts of a hub configuration; raises ResponseError naming what is missing."""
    web = configuration.get("webOauthClient")
    web = web if isinstance(web, dict) else {}
    # an OAuthClient may name its own authority; else the hub's `authority`
    authority = web.get("authority") if _is_http_url(web.get("authority")) else None
    authority = authority or configuration.get("authority")
    if not _is_http_url(authority):
        raise ResponseError(
            "the hub configuration names no OAuth authority ('authority')",
            hint="is [urls] hub the hub's address? its /.well-known/configuration should name it",
        )
    client_id = web.get("clientId")
    if not isinstance(client_id, str) or not client_id.strip():
        raise ResponseError(
            "the hub configuration names no web OAuth client (webOauthClient.clientId)",
            hint="set client_id in the profile's [auth] to the client you registered",
        )
    raw_scopes = web.get("scopes")
    scopes = (
        tuple(str(x) for x in raw_scopes if str(x).strip()) if isinstance(raw_scopes, list) else ()
    )
    gateway = configuration.get("httpGatewayAddress")
    address = (
        gateway.strip().rstrip("/") if isinstance(gateway, str) and _is_http_url(gateway) else None
    )
    return HubLogin(
        authority=str(authority).strip().rstrip("/"),
        client_id=client_id.strip(),
        scopes=scopes,
        audience=str(web.get("audience") or ""),
        gateway_address=address,
    )


# --- cis -----------------------------------------------------------------------------------


def unsecured_cis(cis: str) -> str:
    """``coaps+tcp://host:5684`` -> ``coap+tcp://host:5683`` (a non-default port is kept)."""
    parts = urlsplit(cis)
    if parts.scheme.lower() not in (SECURE_SCHEME, "coaps"):
        return cis
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    scheme = PLAIN_SCHEME if parts.scheme.lower() == SECURE_SCHEME else "coap"
    new_port = PLAIN_PORT if port in (None, SECURE_PORT) else port
    return f"{scheme}://{host}:{new_port}{parts.path}"


# --- at: the device authorization code -----------------------------------------------------


@dataclass
class DeviceCodeRequest:
    """The authorization request the portal makes for the hub's device OAuth client."""

    authority: str
    authorization_endpoint: str
    client_id: str
    audience: str
    scopes: list[str]
    redirect_uri: str
    state: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    def params(self, *, prompt_none: bool = True) -> list[tuple[str, str]]:
        out = [
            ("response_type", "code"),
            ("client_id", self.client_id),
            ("redirect_uri", self.redirect_uri),
            ("state", self.state),
        ]
        if self.scopes:
            out.append(("scope", " ".join(self.scopes)))
        if self.audience:
            out.append(("audience", self.audience))
        if prompt_none:
            out.append(("prompt", "none"))
        return out


CodeFetcher = Callable[[DeviceCodeRequest], "str | None"]


def device_code_request(
    configuration: dict[str, Any],
    hub_url: str,
    *,
    redirect_uri: str | None = None,
    authorization_endpoint: str | None = None,
) -> DeviceCodeRequest | str:
    """The device-client authorization request, or a plain-words reason why there is none."""
    client = configuration.get("deviceOauthClient")
    if not isinstance(client, dict) or not client.get("clientId"):
        return "the hub configuration names no device OAuth client (deviceOauthClient.clientId)"
    authority = configuration.get("authority")
    if not isinstance(authority, str) or not authority.startswith(("http://", "https://")):
        return "the hub configuration names no OAuth authority, so there is no provider to ask for a code"
    raw_scopes = client.get("scopes")
    scopes: list[Any] = raw_scopes if isinstance(raw_scopes, list) else []
    return DeviceCodeRequest(
        authority=authority.rstrip("/"),
        authorization_endpoint=authorization_endpoint or authority.rstrip("/") + "/authorize",
        client_id=str(client["clientId"]),
        audience=str(client.get("audience") or ""),
        scopes=[str(s) for s in scopes],
        redirect_uri=redirect_uri or hub_url.rstrip("/") + "/devices",
    )


def discover_authorization_endpoint(client: httpx.Client, authority: str) -> str | None:
    """``authorization_endpoint`` from the provider's OpenID discovery, or None."""
    url = authority.rstrip("/") + "/.well-known/openid-configuration"
    try:
        record = send(client, RequestSpec(method="GET", url=url))
        data = record.json() if record.status == 200 else None
    except WorkbenchError:
        return None
    value = data.get("authorization_endpoint") if isinstance(data, dict) else None
    return value if isinstance(value, str) and value.startswith(("http://", "https://")) else None


OAUTH_ERROR_WORDS = {
    "login_required": "the provider needs an interactive login in a browser, and the workbench has no "
    "browser session with it",
    "interaction_required": "the provider needs the user to interact with its login page",
    "consent_required": "the provider needs the user's consent for the device client first",
    "access_denied": "the provider refused to issue a code",
    "unauthorized_client": "the device client may not use the authorization-code flow",
    "invalid_request": "the provider found the request malformed (often: the redirect URI is not registered "
    "for the device client)",
    "invalid_scope": "the provider refused the device client's scopes",
}


EMULATOR_NOTE = (
    " (The workbench's emulated hub is like this on purpose: its configuration advertises the "
    "device client 'workbench-demo-device', which its OAuth server does not register.)"
)


def _on_loopback(url: str) -> bool:
    from workbench.core.profiles import is_loopback_host

    return is_loopback_host((urlsplit(url).hostname or "").lower())


def silent_code_fetch(client: httpx.Client, request: DeviceCodeRequest) -> str:
    """Ask the provider for a code without a browser (``prompt=none``, redirect not followed).

    Returns the code; raises WorkbenchError with the reason in words otherwise. No access
    token of the workbench is sent to the provider; cookies the client holds for the
    provider (a session there, if it has one) are, as a browser would send them."""
    import httpx

    try:
        params: list[tuple[str, str | int | float | bool | None]] = list(request.params())
        built = client.build_request("GET", request.authorization_endpoint, params=params)
        built.headers.pop("authorization", None)
        response = client.send(built, auth=None, follow_redirects=False)
    except httpx.HTTPError as exc:
        from workbench.core.http import transport_error

        raise transport_error(exc, request.authorization_endpoint) from None
    location = response.headers.get("location")
    who = f"the OAuth provider ({request.authority})"
    if response.is_redirect and location:
        query = parse_qs(urlsplit(location).query)
        code: str = (query.get("code") or [""])[0]
        if code:
            if (query.get("state") or [""])[0] != request.state:
                raise WorkbenchError(
                    f"{who} answered with a code for another request (state mismatch)"
                )
            return code
        error = (query.get("error") or [""])[0]
        if error:
            desc = escape_keep_newlines((query.get("error_description") or [""])[0])[:200]
            words = OAUTH_ERROR_WORDS.get(
                error, f"the provider answered error={escape_keep_newlines(error)}"
            )
            raise WorkbenchError(f"{who}: {words}" + (f" ({desc})" if desc else ""))
        raise WorkbenchError(
            f"{who} redirected to {escape_keep_newlines(location)[:200]} without a code"
        )
    from workbench.core.requests import ResponseRecord

    record = ResponseRecord.from_httpx(response, 0.0)
    words = _page_words(record)
    if response.status_code == 200 and is_html(record):
        raise WorkbenchError(
            f"{who} showed a login page: it needs an interactive browser login, and the "
            "workbench has no browser session with it"
        )
    if re.search(r"unknown client|client.*not found", words, re.I):
        raise WorkbenchError(
            f"{who} does not know the device OAuth client '{request.client_id}' that the hub configuration "
            f"advertises (HTTP {response.status_code}: {words}), so no authorization code can be obtained "
            "from it." + (EMULATOR_NOTE if _on_loopback(request.authority) else "")
        )
    raise WorkbenchError(
        f"{who} refused the authorization request for the device client "
        f"'{request.client_id}' (HTTP {response.status_code}: {words})"
    )


# --- the values ----------------------------------------------------------------------------


@dataclass
class OnboardingValues:
    secured: bool
    apn: str | None
    cis: str | None
    sid: str | None
    at: str | None
    hub_url: str
    gateway: str
    at_reason: str | None = None  # why `at` is None
    ca_pem: str | None = None  # the hub CA a secured device must trust (subject = sid)
    missing: dict[str, str] = field(default_factory=dict)  # field -> why it is unknown
    notes: list[str] = field(default_factory=list)
    update_request: RequestSpec = field(default_factory=RequestSpec)

    def coapcloudconf(self) -> dict[str, str | None]:
        """The four values as the resource takes them (``at`` None when unknown)."""
        return {"apn": self.apn, "cis": self.cis, "sid": self.sid, "at": self.at}

    def to_json(self) -> dict[str, Any]:
        return {
            "secured": self.secured,
            "coapcloudconf": self.coapcloudconf(),
            "at_reason": self.at_reason,
            "missing": dict(self.missing),
            "hub": self.hub_url,
            "gateway": self.gateway,
            "ca_pem": self.ca_pem,
            "notes": list(self.notes),
            "update_request": {
                "method": self.update_request.method,
                "url": self.update_request.url,
                "body": self.update_request.body,
            },
        }


def update_request(
    gateway: str,
    values: dict[str, str | None],
    *,
    device_id: str | None = None,
    secured: bool = True,
) -> RequestSpec:
    """The PUT that writes the values to a device's coapcloudconf resource through the gateway.

    Unknown values become ``{{apn}}`` / ``{{cis}}`` / ``{{sid}}`` / ``{{at}}`` variables and
    the device id ``{{device_id}}`` unless given, so the composer asks for them."""
    body = {k: (v if v is not None else "{{" + k + "}}") for k, v in values.items()}
    device = quote(device_id, safe="") if device_id else "{{device_id}}"
    kind = "secured" if secured else "unsecured"
    return RequestSpec(
        method="PUT",
        url=f"{gateway.rstrip('/')}/devices/{device}/resources{COAPCLOUDCONF_HREF}",
        headers=[("Accept", "application/json")],
        body_kind="json",
        body=json.dumps(body, indent=2),
        name=f"onboard {kind} device: update coapcloudconf",
    )


def _notes(secured: bool, cis_derived: bool, has_ca: bool, sid: str | None) -> list[str]:
    subject = sid or "<sid>"
    if secured:
        return [
            "cis uses coaps+tcp: TLS over TCP (port 5684 by convention), as the hub configuration advertises.",
            "The device must be owned (OCF ownership transfer) before it is provisioned.",
            f"Install the hub CA as a trust anchor with subject {subject}"
            + (
                " (ca_pem holds the hub's certificateAuthorities)."
                if has_ca
                else " (the hub configuration gives no certificateAuthorities; ask the hub operator)."
            ),
            f"Give the cloud (ACL subject {subject}) full access to all published resources of the device.",
            "at is an OAuth authorization code for the hub's device client: single use and short-lived; "
            "get a fresh one for every device and use it at once.",
        ]
    return [
        "cis uses plain coap+tcp (no TLS, port 5683 by convention)"
        + (
            ": derived from the hub's secured coapGateway by switching scheme and default port, since the "
            "hub configuration only advertises the secured endpoint; check that the hub accepts unsecured "
            "devices."
            if cis_derived
            else "."
        ),
        "No certificates, no ownership transfer and no ACL for the cloud are needed; traffic is not encrypted, "
        "so use this only for development.",
        "at is still an OAuth authorization code for the hub's device client: single use and short-lived.",
    ]


def onboarding_values(
    client: httpx.Client,
    hub_url: str,
    *,
    secured: bool,
    provider_token_fetcher: CodeFetcher | None = None,
    configuration: dict[str, Any] | None = None,
    device_id: str | None = None,
    redirect_uri: str | None = None,
    fetch_code: bool = True,
) -> OnboardingValues:
    """The coapcloudconf values for a new device of the hub at `hub_url`.

    Fetches the hub configuration unless `configuration` is given (raises TransportError /
    ResponseError when it cannot be read); then tries to obtain `at` (never raises for that:
    ``at`` is None and ``at_reason`` says why). ``fetch_code=False`` skips the attempt."""
    hub_url = hub_url.rstrip("/")
    config = configuration if configuration is not None else hub_configuration(client, hub_url)
    missing: dict[str, str] = {}

    raw_client = config.get("deviceOauthClient")
    client_cfg: dict[str, Any] = raw_client if isinstance(raw_client, dict) else {}
    apn = client_cfg.get("providerName") or config.get("cloudAuthorizationProvider")
    apn = str(apn) if apn else None
    if apn is None:
        missing["apn"] = "the hub configuration has no deviceOauthClient.providerName"

    raw_cis = config.get("coapGateway")
    cis: str | None = str(raw_cis) if isinstance(raw_cis, str) and raw_cis else None
    cis_derived = False
    if cis is None:
        missing["cis"] = "the hub configuration has no coapGateway"
    elif not secured:
        plain = unsecured_cis(cis)
        cis_derived = plain != cis
        cis = plain

    sid = str(config["id"]) if config.get("id") else None
    if sid is None:
        missing["sid"] = "the hub configuration has no id"

    at: str | None = None
    at_reason: str | None = None
    if not fetch_code:
        at_reason = "no authorization code was requested"
    else:
        req = device_code_request(config, hub_url, redirect_uri=redirect_uri)
        if isinstance(req, str):
            at_reason = req
        else:
            endpoint = discover_authorization_endpoint(client, req.authority)
            if endpoint:
                req.authorization_endpoint = endpoint
            try:
                if provider_token_fetcher is not None:
                    at = provider_token_fetcher(req)
                else:
                    at = silent_code_fetch(client, req)
                if not at:
                    at, at_reason = None, "the provider gave no authorization code"
            except TransportError as err:
                at_reason = f"the OAuth provider could not be reached: {err.message}"
            except WorkbenchError as err:
                at_reason = err.message
    if at is None:
        missing["at"] = at_reason or "no authorization code"

    gateway = gateway_url(config, hub_url)
    ca = config.get("certificateAuthorities")
    ca_pem = ca if isinstance(ca, str) and "BEGIN CERTIFICATE" in ca else None
    notes = _notes(secured, cis_derived, ca_pem is not None, sid)
    if at is None:
        notes.append(
            "at could not be obtained here: take the code from the hub portal (Devices > Onboard "
            "device) and fill in {{at}} in the update request."
        )
    notes.append(
        "The update request goes through the hub's HTTP gateway, so it reaches only a device the hub "
        "already knows; a new device is configured on its local network by an OCF client with the "
        "same values."
    )
    values = {"apn": apn, "cis": cis, "sid": sid, "at": at}
    return OnboardingValues(
        secured=secured,
        apn=apn,
        cis=cis,
        sid=sid,
        at=at,
        hub_url=hub_url,
        gateway=gateway,
        at_reason=at_reason,
        ca_pem=ca_pem if secured else None,
        missing=missing,
        notes=notes,
        update_request=update_request(gateway, values, device_id=device_id, secured=secured),
    )
