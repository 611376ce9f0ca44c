"""HTTP clients for a profile, redirects followed by hand, and network errors in words.

Every client made here has TLS verification on (a profile's ``ca_bundle`` adds trust; only
``[tls] verify = false`` in the user's own profile turns it off), never follows redirects
by itself (``send_following_redirects`` does, so the session's auth decides again on every
hop) and says who it is (``User-Agent: iot-workbench/<version>``).
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any

import httpx

from workbench.core.errors import TransportError
from workbench.core.http_limits import AsyncLimitedTransport, LimitedTransport, redirect_target
from workbench.core.limits import RequestLimits
from workbench.core.secrets import install_log_filter
from workbench.core.version import workbench_version

if TYPE_CHECKING:
    from workbench.core.profiles import Profile

# httpx logs every request's URL at INFO, with its query (a Thinger token may be there)
install_log_filter()

USER_AGENT = f"iot-workbench/{workbench_version()}"
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
# Headers no hop to another origin may carry, whatever auth is attached.
CROSS_ORIGIN_STRIP = ("authorization", "proxy-authorization", "cookie")


def tls_verify(profile: Profile | None) -> ssl.SSLContext | bool:
    """What to give httpx as ``verify`` for this profile."""
    if profile is None:
        return True
    if not profile.verify_tls:
        return False
    if profile.ca_bundle:
        try:
            return ssl.create_default_context(cafile=profile.ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            raise TransportError(
                f"cannot use the CA bundle '{profile.ca_bundle}': {exc}",
                hint="[tls] ca_bundle must name a PEM file with one or more CA certificates",
            ) from None
    return True


def _headers(profile: Profile | None) -> dict[str, str]:
    # Only the encodings whose decoded size the body cap can count (http_limits).
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    if profile is not None:
        headers.update(profile.headers)
    return headers


def limits_of(profile: Profile | None) -> RequestLimits:
    """The deadline and body cap for `profile`'s requests (its ``[limits]``, else defaults)."""
    return profile.limits if profile is not None else RequestLimits()


def make_client(
    profile: Profile | None = None,
    *,
    timeout: float = 30.0,
    auth: httpx.Auth | None = None,
    request_limits: RequestLimits | None = None,
    transport: httpx.BaseTransport | None = None,
    **kwargs: Any,
) -> httpx.Client:
    """A synchronous client for `profile` (TLS from the profile, no automatic redirects,
    the total deadline and body cap of `request_limits` or the profile's: see http_limits)."""
    inner = transport or httpx.HTTPTransport(verify=tls_verify(profile), trust_env=False)
    return httpx.Client(
        follow_redirects=False,
        headers=_headers(profile),
        timeout=timeout,
        auth=auth,
        trust_env=False,
        transport=LimitedTransport(inner, request_limits or limits_of(profile)),
        **kwargs,
    )


def make_async_client(
    profile: Profile | None = None,
    *,
    timeout: float = 30.0,
    auth: httpx.Auth | None = None,
    request_limits: RequestLimits | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    **kwargs: Any,
) -> httpx.AsyncClient:
    """The asyncio twin of :func:`make_client`."""
    inner = transport or httpx.AsyncHTTPTransport(verify=tls_verify(profile), trust_env=False)
    return httpx.AsyncClient(
        follow_redirects=False,
        headers=_headers(profile),
        timeout=timeout,
        auth=auth,
        trust_env=False,
        transport=AsyncLimitedTransport(inner, request_limits or limits_of(profile)),
        **kwargs,
    )


# --- errors in words ---------------------------------------------------------------------


def _chain_text(exc: BaseException) -> str:
    parts: list[str] = []
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        parts.append(f"{type(cur).__name__}: {cur}")
        cur = cur.__cause__ or cur.__context__
    return " | ".join(parts)


def transport_error(exc: BaseException, url: httpx.URL | str | None = None) -> TransportError:
    """Turn an httpx / OS error into a TransportError that says what happened."""
    u = httpx.URL(str(url)) if url is not None else None
    host = (
        f"{u.host}:{u.port}"
        if u is not None and u.port
        else (u.host if u is not None else "the server")
    )
    text = _chain_text(exc)
    low = text.lower()
    if "certificate_verify_failed" in low or "certificate verify failed" in low:
        detail = ""
        for marker in (
            "self-signed certificate",
            "self signed certificate",
            "unable to get local issuer",
            "certificate has expired",
            "hostname mismatch",
            "ip address mismatch",
        ):
            if marker in low:
                detail = f" ({marker})"
                break
        return TransportError(
            f"TLS: the server's certificate could not be verified for {host}{detail}",
            hint="if the server uses a private CA, point [tls] ca_bundle in your own profile at its "
            "PEM file; only turn [tls] verify off for a local test server you trust",
        )
    if isinstance(exc, ssl.SSLError) or ("[ssl" in low and isinstance(exc, httpx.ConnectError)):
        return TransportError(
            f"TLS handshake with {host} failed: {exc}",
            hint="is the URL's scheme right (https vs http) and the port a TLS port?",
        )
    if isinstance(exc, httpx.TimeoutException):
        what = {
            httpx.ConnectTimeout: "connecting",
            httpx.ReadTimeout: "waiting for the answer",
            httpx.WriteTimeout: "sending the request",
            httpx.PoolTimeout: "waiting for a free connection",
        }.get(type(exc), "talking to the server")
        return TransportError(
            f"timed out {what} ({host})",
            hint="the server did not answer in time; check the URL, or try again",
        )
    if isinstance(exc, httpx.TooManyRedirects):
        return TransportError(
            f"too many redirects ({host})", hint="the server keeps redirecting; check the URL"
        )
    if (
        "name or service not known" in low
        or "nodename nor servname" in low
        or "getaddrinfo" in low
        or "temporary failure in name resolution" in low
        or "no address associated" in low
    ):
        return TransportError(
            f"DNS: the host name '{u.host if u is not None else host}' could not be resolved",
            hint="check the host name in the profile's URL and your network / DNS",
        )
    if "connection refused" in low or "errno 111" in low or "errno 61" in low:
        return TransportError(
            f"connection refused by {host}",
            hint="nothing is listening there: is the server running and the port right?",
        )
    if "network is unreachable" in low or "no route to host" in low:
        return TransportError(f"network unreachable ({host})", hint="check your network connection")
    if (
        isinstance(exc, httpx.RemoteProtocolError)
        or "connection reset" in low
        or "disconnected" in low
    ):
        return TransportError(
            f"the connection to {host} was closed before a complete answer ({exc})",
            hint="the server or a proxy dropped the connection; try again",
        )
    if isinstance(exc, httpx.UnsupportedProtocol):
        return TransportError(
            f"unsupported URL: {exc}", hint="URLs must start with http:// or https://"
        )
    return TransportError(
        f"network error talking to {host}: {type(exc).__name__}: {exc}",
        hint="check the URL and your network; is the server running?",
    )


# --- redirects ---------------------------------------------------------------------------


def origin_key(url: httpx.URL) -> tuple[str, str, int]:
    scheme = url.scheme.lower()
    return scheme, (url.host or "").lower(), url.port or (443 if scheme == "https" else 80)


def redirect_request(
    client: httpx.Client | httpx.AsyncClient, request: httpx.Request, response: httpx.Response
) -> httpx.Request:
    """The request a redirect answer asks for (RFC 9110 §15.4), built without credentials
    when it leaves the origin."""
    location = response.headers.get("location")
    if not location:
        raise TransportError(
            f"the server answered {response.status_code} without a Location header",
            hint="a redirect without a target cannot be followed",
        )
    url = redirect_target(request.url, location)
    method = request.method
    status = response.status_code
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method = "GET"
    headers = httpx.Headers(request.headers)
    for name in ("host", "content-length", "transfer-encoding"):
        headers.pop(name, None)
    content: bytes | None = None
    if method != request.method:
        headers.pop("content-type", None)
    else:
        try:
            content = request.content
        except httpx.RequestNotRead:
            raise TransportError(
                "cannot follow a redirect that must resend a streamed body",
                hint="send the body as bytes, or call the target URL directly",
            ) from None
    if origin_key(url) != origin_key(request.url):
        for name in CROSS_ORIGIN_STRIP:
            headers.pop(name, None)
    new = client.build_request(method, url, headers=headers, content=content or None)
    new.extensions = dict(request.extensions)
    from workbench.core.secret_binding import guard_redirect

    guard_redirect(request, new)  # secrets of a collection stay on their profile's origins
    return new


def send_following_redirects(
    client: httpx.Client,
    request: httpx.Request,
    *,
    auth: httpx.Auth | None = None,
    max_redirects: int = 10,
    stream: bool = False,
) -> httpx.Response:
    """Send `request`, following redirects one hop at a time so `auth` re-decides on each
    (`auth` None: the client's own auth).

    Network errors become TransportError. The final response's ``history`` lists the hops.
    """
    history: list[httpx.Response] = []
    while True:
        try:
            response = client.send(request, auth=auth or httpx.USE_CLIENT_DEFAULT, stream=True)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise transport_error(exc, request.url) from None
        if response.status_code not in REDIRECT_STATUSES or "location" not in response.headers:
            response.history = history
            if not stream:
                try:
                    response.read()
                except httpx.HTTPError as exc:
                    response.close()
                    raise transport_error(exc, request.url) from None
            return response
        response.close()
        history.append(response)
        if len(history) > max_redirects:
            raise TransportError(
                f"more than {max_redirects} redirects, the last to {response.headers['location']}",
                hint="the server keeps redirecting; check the URL",
            )
        request = redirect_request(client, request, response)


async def asend_following_redirects(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    auth: httpx.Auth | None = None,
    max_redirects: int = 10,
    stream: bool = False,
) -> httpx.Response:
    """The asyncio twin of :func:`send_following_redirects`."""
    history: list[httpx.Response] = []
    while True:
        try:
            response = await client.send(
                request, auth=auth or httpx.USE_CLIENT_DEFAULT, stream=True
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise transport_error(exc, request.url) from None
        if response.status_code not in REDIRECT_STATUSES or "location" not in response.headers:
            response.history = history
            if not stream:
                try:
                    await response.aread()
                except httpx.HTTPError as exc:
                    await response.aclose()
                    raise transport_error(exc, request.url) from None
            return response
        await response.aclose()
        history.append(response)
        if len(history) > max_redirects:
            raise TransportError(
                f"more than {max_redirects} redirects, the last to {response.headers['location']}",
                hint="the server keeps redirecting; check the URL",
            )
        request = redirect_request(client, request, response)
