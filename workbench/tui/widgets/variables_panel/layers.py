"""The variables a request can use, layered (pure: no Textual).

Layers, lowest first: the profile's built-ins (``demo_url``, ``urls.*``), then the profile's
``[variables]`` (both in Profile.template_vars), then the collection's variables and the
values its last replay captured (the composer's ``variables``). A later layer wins when
names clash; the loser is listed as shadowed. Secret values (a known secret of the session
or profile, a name like ``password`` / ``api_key``, a value that looks like a credential or
a JWT) are masked.

The session's layer is not a ``{{variable}}``: it is what the session's auth adds to every
request when it is sent (:func:`session_rows`: ``Authorization``, Ioto's ``Origin``, a
Thinger ``?authorization=``), listed so you can see it; its secret values are masked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from workbench.core.history.sent import MASK as MASK_SIGN
from workbench.core.history.sent import Masker, mask_text
from workbench.core.secrets import JWT, looks_like_credential, secret_kind


@dataclass(frozen=True)
class VariableRow:
    name: str
    shown: str
    """The value as shown: masked when secret."""
    source: str
    """``profile`` or ``collection``."""
    secret: bool
    wins: bool
    """False: another layer's value of the same name is used instead."""
    note: str = ""


def is_secret_variable(name: str, value: str) -> bool:
    """A variable whose value must not be shown (by its name or its look)."""
    return bool(
        secret_kind(name.rsplit(".", 1)[-1], "field")
        or looks_like_credential(value)
        or JWT.search(value)
    )


def secret_variable_values(variables: Mapping[str, str]) -> list[str]:
    """The values of the variables that are secrets (for the masking of what is sent)."""
    return [v for k, v in variables.items() if v and is_secret_variable(k, v)]


def variable_rows(
    profile: Mapping[str, str],
    collection: Mapping[str, str],
    known_secrets: Iterable[str] = (),
) -> list[VariableRow]:
    """Every variable of every layer, by name; the winner of a clash first."""
    masker = Masker(known_secrets)
    rows: list[VariableRow] = []
    for name in sorted({*profile, *collection}, key=str.lower):
        layers = [
            (src, vals[name])
            for src, vals in (("collection", collection), ("profile", profile))
            if name in vals
        ]
        for index, (source, value) in enumerate(layers):
            value = str(value)
            secret = is_secret_variable(name, value) or masker.holds_secret(value)
            shown = mask_text(len(value)) if secret else value
            if index == 0 and len(layers) > 1:
                note = f"overrides the {layers[1][0]}'s value"
            elif index > 0:
                note = f"shadowed by the {layers[0][0]}'s value"
            else:
                note = ""
            rows.append(VariableRow(name, shown, source, secret, index == 0, note))
    return rows


def session_rows(
    headers: Iterable[tuple[str, str]],
    query: Iterable[tuple[str, str]],
    known_secrets: Iterable[str] = (),
    path: str | None = None,
) -> list[VariableRow]:
    """What the session's auth adds when sending (header and query parameter; `path`: the
    base URL's path as the auth rewrites it, e.g. Ioto CloudAPI's ``/tok`` prefix), masked
    by value and by name (:class:`~workbench.core.history.sent.Masker`)."""
    masker = Masker(known_secrets)

    def added(label: str, shown: str) -> VariableRow:
        return VariableRow(label, shown, "session", MASK_SIGN in shown, True, "added when sent")

    rows = [added(f"header {k}", masker.header(k, v)) for k, v in headers]
    rows += [added(f"query {k}", masker.pair(k, v)) for k, v in query]
    if path is not None:
        rows.append(
            VariableRow("url path", masker(path), "session", False, True, "rewritten when sent")
        )
    return rows
