"""Fetching a JWKS document (the issuer's token-signing public keys) over HTTP.

httpx is imported only when a JWKS is fetched, so importing this module stays cheap.
"""

from __future__ import annotations

import json
from typing import Any


def fetch_jwks(url: str, *, verify: bool = True, timeout: float = 5.0) -> dict[str, Any]:
    """GET a JWKS document from ``url`` and return it (``{"keys": [...]}``).

    Raises :class:`~workbench.core.errors.TransportError` (connection, timeout, TLS, bad
    URL) or :class:`~workbench.core.errors.ResponseError` (not 200, not JSON, no ``keys``
    list, larger than 1 MiB). Redirects are not followed.
    """
    import httpx  # lazily

    from workbench.core.errors import ResponseError, TransportError

    limit = 1024 * 1024
    try:
        with (
            httpx.Client(verify=verify, timeout=timeout, follow_redirects=False) as client,
            client.stream("GET", url, headers={"Accept": "application/json"}) as response,
        ):
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > limit:
                    raise ResponseError(
                        f"the JWKS at {url} is larger than 1 MiB", status=response.status_code
                    )
            status = response.status_code
    except httpx.InvalidURL as exc:
        raise TransportError(f"invalid JWKS URL {url!r}: {exc}") from None
    except httpx.TimeoutException:
        raise TransportError(
            f"timed out fetching the JWKS from {url}", hint="check the URL and the network"
        ) from None
    except httpx.TransportError as exc:
        raise TransportError(
            f"cannot fetch the JWKS from {url}: {exc or type(exc).__name__}",
            hint="check the URL and the network",
        ) from None
    if status != 200:
        raise ResponseError(f"the JWKS URL {url} answered HTTP {status}", status=status)
    try:
        document = json.loads(bytes(body).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ResponseError(f"the JWKS at {url} is not JSON", status=status) from None
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ResponseError(f'the document at {url} is not a JWKS (no "keys" list)', status=status)
    return document
