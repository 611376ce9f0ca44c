"""Secrets bound to origins: a secret goes only where its profile may send its token.

A collection variable that is a secret reference (``{ session = "access_token" }``,
``{ env = ... }``, ``{ prompt = ... }``, ``{ keyring = ... }``) may be substituted only into
a request whose origin (scheme, host, port) is one of its profile's own origins
(``Profile.origins()``: its URLs and its auth endpoints), over https, or plain http to this
machine (loopback): the rule the session follows for its own credentials
(``Session.may_sign``). Any other request using it is refused before it is sent, with
:class:`~workbench.core.errors.SecretOriginError` naming the variable and the origin.

Redirects: :func:`check_request` returns what the request carries (the header and query
names that held a secret, whether the body did, the secret values); :func:`mark` puts that
on the ``httpx.Request`` and ``core/http.py`` calls :func:`guard_redirect` for every hop.
On a hop to an origin the secrets are not bound to, every header and query parameter that
carried a secret (by name, or holding a secret value) is dropped, and a hop that would
resend a body carrying one is refused.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus, urlencode

from workbench.core.errors import SecretOriginError
from workbench.core.profiles import Origin
from workbench.core.secrets import REDACTED
from workbench.core.templating import variables_in

if TYPE_CHECKING:
    import httpx

    from workbench.core.auth.base import TokenSet
    from workbench.core.requests import RequestSpec

EXTENSION = "workbench.secret_binding"
MIN_VALUE_LEN = 8  # shorter values are not searched for by value (names still are)


@dataclass(frozen=True)
class Secret:
    """A secret variable: its name, its value, and where it comes from (words)."""

    name: str
    value: str
    source: str


@dataclass(frozen=True)
class SecretBinding:
    """The origins the secrets of one profile may go to."""

    origins: frozenset[Origin]
    profile: str | None = None

    def allows(self, origin: Origin) -> bool:
        if origin not in self.origins:
            return False
        return origin.scheme == "https" or (origin.scheme == "http" and origin.is_loopback)

    def refusal(
        self, secret: Secret, origin: Origin, *, by_value: bool = False, hide: Iterable[str] = ()
    ) -> SecretOriginError:
        """The error for sending `secret` to `origin`, in words (any value in `hide`, e.g.
        a secret written into the host name itself, is replaced by «redacted»)."""
        owner = f"profile '{self.profile}'" if self.profile else "no profile"
        if self.profile is None:
            why = "the request has no profile, so no origin may receive a secret"
            hint = "give the collection a profile ([collection] profile or --profile)"
        elif origin in self.origins:
            why = f"plain {origin.scheme} to a host other than this machine"
            hint = "use https; plain http is only allowed to this machine (loopback)"
        else:
            own = ", ".join(sorted(str(o) for o in self.origins)) or "none"
            why = f"{origin} is not one of {owner}'s origins ({own})"
            hint = (
                f"a secret is only sent to the servers of its own profile; use a URL of "
                f"{owner} (e.g. {{{{urls.NAME}}}} or a path starting with /)"
            )
        what = (
            f"{secret.source} ('{secret.name}'; its value is in the request)"
            if by_value
            else f"the secret variable '{secret.name}' ({secret.source})"
        )
        message = f"refusing to send {what} to {origin.host} ({origin}): {why}"
        where = str(origin)
        for value in {secret.value, *hide}:
            if len(value) >= 4:
                message = message.replace(value, REDACTED)
                where = where.replace(value, REDACTED)
        return SecretOriginError(message, variable=secret.name, host=where, hint=hint)


@dataclass
class Carried:
    """What one request carries: the secrets it uses and where they sit."""

    binding: SecretBinding
    secrets: list[Secret] = field(default_factory=list)
    header_names: set[str] = field(default_factory=set)  # lower-case
    param_names: set[str] = field(default_factory=set)
    body: bool = False

    def values(self) -> list[str]:
        return [s.value for s in self.secrets if len(s.value) >= MIN_VALUE_LEN]


def _uses(text: str, names: Mapping[str, Secret]) -> list[Secret]:
    return [names[n] for n in variables_in(text) if n in names]


def request_origin(url: str) -> Origin | None:
    """The origin a request to `url` goes to, as httpx (which sends it) reads the URL;
    None when it is not a valid http(s) URL."""
    try:
        import httpx

        origin = Origin.of(str(httpx.URL(url)))
    except Exception:  # httpx.InvalidURL, or a port out of range (ValueError)
        return None
    return origin if origin.scheme in ("http", "https") and origin.host else None


def _texts(spec: RequestSpec) -> list[str]:
    """Every piece of `spec` that is sent."""
    out = [spec.url, *(t for pair in (*spec.params, *spec.headers) for t in pair)]
    if spec.body_kind in ("json", "text"):
        out.append(spec.body)
    elif spec.body_kind == "form":
        out.extend(t for pair in spec.form for t in pair)
    elif spec.body_kind == "multipart":
        out.extend(t for p in spec.parts for t in (p.name, p.value) if t)
    return out


def check_request(
    template: RequestSpec,
    rendered: RequestSpec,
    secrets: Iterable[Secret],
    binding: SecretBinding,
    *,
    known: Iterable[Secret] = (),
) -> Carried | None:
    """Refuse (SecretOriginError) when `template` uses a secret variable, or `rendered` (the
    same request with its variables substituted and its URL made absolute) holds the value
    of a secret (`secrets`, or `known`: e.g. the session's tokens, which a capture may have
    copied), and `rendered` goes to an origin `binding` does not allow. Returns what the
    request carries (None: no secret)."""
    by_name = {s.name: s for s in secrets}
    by_value = [s for s in (*by_name.values(), *known) if len(s.value) >= MIN_VALUE_LEN]
    if not by_name and not by_value:
        return None
    carried = Carried(binding)
    used: dict[str, Secret] = {}

    def note(text: str) -> bool:
        found = _uses(text, by_name)
        used.update((s.name, s) for s in found)
        return bool(found)

    note(template.url)
    for (k, v), (rk, _) in zip(template.headers, rendered.headers, strict=False):
        if note(k) | note(v):
            carried.header_names.add(rk.lower())
    for (k, v), (rk, _) in zip(template.params, rendered.params, strict=False):
        if note(k) | note(v):
            carried.param_names.add(rk)
    if template.body_kind in ("json", "text") and note(template.body):
        carried.body = True
    if template.body_kind == "form":
        for k, v in template.form:
            if note(k) | note(v):
                carried.body = True
    if template.body_kind == "multipart":
        for p in template.parts:
            if note(p.name) | note(p.value or "") | note(p.file or ""):
                carried.body = True
    sent = _texts(rendered)
    held = [s for s in by_value if any(f in t for f in _forms(s.value) for t in sent)]
    if not used and not held:
        return None
    hide = [s.value for s in (*by_name.values(), *known)]
    origin = request_origin(rendered.url)
    if origin is None:
        first = next(iter(used.values()), None) or held[0]
        raise SecretOriginError(
            f"refusing to send the secret variable '{first.name}' ({first.source}): the "
            "request's URL is not a valid http(s) URL, so where it goes cannot be checked",
            variable=first.name,
            host="?",
            hint="fix the request's URL",
        )
    if not binding.allows(origin):
        if used:
            raise binding.refusal(next(iter(used.values())), origin, hide=hide)
        raise binding.refusal(held[0], origin, by_value=True, hide=hide)
    for s in held:
        used.setdefault(s.name, s)
    carried.secrets = list(used.values())
    return carried


def token_secrets(tokens: TokenSet | None) -> list[Secret]:
    """The session's tokens as secrets (to find them by value in a request)."""
    if tokens is None:
        return []
    fields = ("access_token", "refresh_token", "id_token")
    return [
        Secret(f, value, f"the session's {f.replace('_', ' ')}")
        for f in fields
        if isinstance(value := getattr(tokens, f, None), str) and value
    ]


def mark(request: httpx.Request, carried: Carried | None) -> None:
    """Remember on `request` what it carries, for :func:`guard_redirect` on every hop."""
    if carried is not None:
        request.extensions[EXTENSION] = carried


@functools.lru_cache(maxsize=256)  # the same few secrets are searched for in every request
def _forms(value: str) -> frozenset[str]:
    """The ways `value` may be written in a URL, a form or a JSON body."""
    return frozenset((value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]))


def guard_redirect(previous: httpx.Request, new: httpx.Request) -> None:
    """Before following a redirect from `previous` to `new`: when the secrets `previous`
    carried are not bound to `new`'s origin, drop every header and query parameter that
    carried one, and refuse (SecretOriginError) to resend a body that carried one."""
    carried = previous.extensions.get(EXTENSION)
    if not isinstance(carried, Carried):
        return
    origin = Origin.of(str(new.url))
    if carried.binding.allows(origin):
        return
    forms = {f for v in carried.values() for f in _forms(v)}

    def holds(text: str) -> bool:
        return any(f in text for f in forms)

    for key in list(new.headers.keys()):
        if key.lower() in carried.header_names or holds(new.headers.get(key, "")):
            del new.headers[key]
    params = new.url.params
    kept = [
        (k, v)
        for k, v in params.multi_items()
        if k not in carried.param_names and not holds(k) and not holds(v)
    ]
    if len(kept) != len(params.multi_items()):
        new.url = new.url.copy_with(query=urlencode(kept).encode("ascii") if kept else None)
    if holds(new.url.path):
        raise carried.binding.refusal(carried.secrets[0], origin)
    try:
        content = new.content
    except Exception:  # a streamed body cannot be resent anyway (http.py refuses it)
        content = b""
    if content and (carried.body or holds(content.decode("utf-8", "replace"))):
        raise carried.binding.refusal(carried.secrets[0], origin)
