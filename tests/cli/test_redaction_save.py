"""Issue 11, finding 3: secrets written in clear when saving a request into a collection.

Through `workbench import curl --into FILE` (the headless way to save a request), the
curl export, and `Collection.save(known_secrets=known_secrets_of(session))` (what the
TUI's "save to collection" does) with a session logged in to the emulator; then
property-based tests (hypothesis) over generated requests: whatever the casing, nesting
or content type, no known secret value and no credential-like-keyed value reaches the
saved TOML text.
"""

from __future__ import annotations

import json
import shlex
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.cli import main
from workbench.core.collection.collection import load_collection, new_collection
from workbench.core.collection.model import CollectionRequest, SessionRef
from workbench.core.profiles import get_profile
from workbench.core.requests import RequestSpec
from workbench.core.secrets import SecretRef
from workbench.core.session import Session

# (curl words, the secret they carry) -- each one of the findings
CASES = [
    (["-H", "X-Custom-Auth: custom-cred-7f3K9q"], "custom-cred-7f3K9q"),
    (["-H", "Ocp-Apim-Subscription-Key: apim-8c2e41d0b7"], "apim-8c2e41d0b7"),
    (["-H", "x-functions-key: fnkey-Q2w3E4r5T6"], "fnkey-Q2w3E4r5T6"),
    (["https://api.example.test/v1/maps?key=AIzaSyExample123"], "AIzaSyExample123"),
    (["https://x.blob.example.test/c/b?sv=2022&sig=sigR4nd0mV4lue%3D"], "sigR4nd0mV4lue"),
    (["https://fn.example.test/api/run?code=AzFnC0de-99xx"], "AzFnC0de-99xx"),
    (["-d", "user=me&pwd=FormPwd-3333"], "FormPwd-3333"),
    (["--json", '{"clientId": "c1", "clientSecret": "cs-J8h7G6f5"}'], "cs-J8h7G6f5"),
    (["--json", '{"grant": {"refreshToken": "rt-Zx9Yw8Vu7"}}'], "rt-Zx9Yw8Vu7"),
    (
        [
            "-H",
            "Content-Type: application/x-amz-json-1.1",
            "-H",
            "X-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth",
            "-d",
            '{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": "abc",'
            ' "AuthParameters": {"USERNAME": "me@example.test", "PASSWORD": "Cognito-Pw-42!"}}',
        ],
        "Cognito-Pw-42!",
    ),
    (["--json", '{"user": "demo", "pass": "ProfilePass-2222"}'], "ProfilePass-2222"),
]


def _command(words: list[str]) -> list[str]:
    url = next((w for w in words if w.startswith("https://")), None)
    rest = [w for w in words if w != url]
    return ["curl", "-X", "POST", url or "https://api.example.test/v1/things", *rest]


@pytest.mark.parametrize(("words", "secret"), CASES, ids=[c[1] for c in CASES])
def test_import_curl_into_a_collection_writes_no_secret(
    tmp_path: Path, capsys, words: list[str], secret: str
) -> None:
    path = tmp_path / "c.toml"
    code = main(["import", "curl", "--into", str(path), "--", *_command(words)])
    out, err = capsys.readouterr()
    assert code == 0, err
    text = path.read_text(encoding="utf-8")
    assert secret not in text, text
    assert "held a credential" in err  # a note in plain words
    saved = load_collection(path)
    assert any(isinstance(v, SecretRef | SessionRef) for v in saved.variables.values())
    # printed instead of saved: the same
    assert main(["import", "curl", "--", *_command(words)]) == 0
    out, err = capsys.readouterr()
    assert secret not in out and secret not in err


def test_export_curl_masks_literal_credentials_unless_asked(tmp_path: Path, capsys) -> None:
    path = tmp_path / "hand.toml"
    path.write_text(
        """version = 1
[collection]
name = "written by hand"
[[requests]]
name = "cognito"
method = "POST"
url = "https://cognito-idp.example.test/?code=AzFnC0de-99xx"
headers = [
  ["Content-Type", "application/x-amz-json-1.1"],
  ["X-Custom-Auth", "custom-cred-7f3K9q"],
  ["Ocp-Apim-Subscription-Key", "apim-8c2e41d0b7"],
]
body = { text = '{"AuthParameters": {"USERNAME": "me", "PASSWORD": "Cognito-Pw-42!"}}' }
""",
        encoding="utf-8",
    )
    secrets = ["AzFnC0de-99xx", "custom-cred-7f3K9q", "apim-8c2e41d0b7", "Cognito-Pw-42!"]
    assert main(["export", "curl", str(path), "cognito"]) == 0
    out = capsys.readouterr().out
    assert "curl" in out
    for secret in secrets:
        assert secret not in out, out
    assert main(["export", "curl", str(path), "cognito", "--with-secrets"]) == 0
    out = capsys.readouterr().out
    assert all(secret in out for secret in secrets)  # asked for: shown


def test_the_profiles_and_sessions_own_secrets_become_references(demo_env, tmp_path: Path) -> None:
    from workbench.core.collection.credentials import known_secrets_of

    session = Session(get_profile("demo-thinger"))
    tokens = session.login()
    password = "thinger-demo-pass-1157"  # the profile's demo password, handed out at login
    spec = RequestSpec(
        method="POST",
        url="{{urls.api}}/v1/echo?state=" + tokens.access_token,
        name="echo",
        headers=[("X-Forwarded-Credential", tokens.access_token), ("Accept", "*/*")],
        body_kind="text",
        body=f"note: {password} and {tokens.refresh_token}",
    )
    c = new_collection(tmp_path / "own.toml", "own")
    c.add_request(CollectionRequest(spec=spec))
    notes = c.save(known_secrets=known_secrets_of(session))
    text = (tmp_path / "own.toml").read_text(encoding="utf-8")
    for secret in (password, tokens.access_token, tokens.refresh_token or "-"):
        assert secret not in text, text
    saved = load_collection(tmp_path / "own.toml")
    refs = set(saved.variables.values())
    assert SessionRef("access_token") in refs
    # the password's reference is the profile's own (its env variable), never its demo value
    assert any(
        isinstance(v, SecretRef) and v.env == "WORKBENCH_DEMO_THINGER_PASSWORD" for v in refs
    ), saved.variables
    assert any("password" in n or "secret" in n for n in notes)


# --- property-based: generated requests ---------------------------------------------------

SECRET_KEYS = [
    "password",
    "passwd",
    "pwd",
    "pass",
    "client_secret",
    "refresh_token",
    "access_token",
    "id_token",
    "api_key",
    "token",
    "secret",
]


def _spellings(key: str) -> st.SearchStrategy[str]:
    """`client_secret` as clientSecret, CLIENT-SECRET, Client_Secret, ..."""
    words = key.split("_")

    @st.composite
    def spell(draw: st.DrawFn) -> str:
        style = draw(st.sampled_from(["snake", "camel", "pascal", "kebab", "upper", "random"]))
        if style == "camel":
            return words[0] + "".join(w.title() for w in words[1:])
        if style == "pascal":
            return "".join(w.title() for w in words)
        if style == "kebab":
            return "-".join(words)
        if style == "upper":
            return "_".join(words).upper()
        if style == "random":
            flips = draw(st.lists(st.booleans(), min_size=len(key), max_size=len(key)))
            return "".join(ch.upper() if f else ch for ch, f in zip(key, flips, strict=True))
        return key

    return spell()


SECRET_VALUE = st.text(
    string.ascii_letters + string.digits + "-_.~+/=!", min_size=8, max_size=40
).filter(lambda v: any(c.isdigit() for c in v))  # (never a word of the TOML around it)
CONTENT_TYPES = [
    "application/json",
    "application/vnd.api+json",
    "application/x-amz-json-1.1",
    "text/plain",
    None,
]


@st.composite
def nested(draw: st.DrawFn, key: str, value: str) -> object:
    """{key: value} buried in dicts and lists, next to harmless fields."""
    doc: object = {key: value, "name": "device-1", "n": 3}
    for _ in range(draw(st.integers(0, 4))):
        wrap = draw(st.sampled_from(["dict", "list"]))
        doc = (
            {draw(st.sampled_from(["data", "AuthParameters", "x"])): doc}
            if wrap == "dict"
            else [doc, 1]
        )
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_no_credential_keyed_value_reaches_the_saved_toml(data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(SECRET_KEYS).flatmap(_spellings))
    secret = data.draw(SECRET_VALUE)
    where = data.draw(st.sampled_from(["json", "text-json", "form", "query", "url", "header"]))
    spec = RequestSpec(method="POST", url="https://api.example.test/v1/x", name="gen")
    if where in ("json", "text-json"):
        ctype = data.draw(st.sampled_from(CONTENT_TYPES))
        spec.body_kind = "json" if where == "json" else "text"
        spec.body = json.dumps(
            data.draw(nested(key, secret)), indent=data.draw(st.sampled_from([None, 2]))
        )
        if ctype:
            spec.headers.append(("Content-Type", ctype))
    elif where == "form":
        spec.body_kind = "form"
        spec.form = [("user", "me"), (key, secret)]
    elif where == "query":
        spec.params = [("index", "0"), (key, secret)]
    elif where == "url":
        spec.url += "?index=0&" + key + "=" + secret.replace("&", "").replace("#", "")
        secret = secret.replace("&", "").replace("#", "")
    else:
        spec.headers.append((f"X-{key}", secret))
    c = new_collection("gen.toml", "gen")
    c.add_request(CollectionRequest(spec=spec))
    text, _ = c.render_text()
    assert secret not in text, (where, key, text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_no_known_secret_reaches_the_saved_toml(data: st.DataObject) -> None:
    secret = data.draw(SECRET_VALUE)
    harmless = data.draw(st.sampled_from(["note", "state", "X-Trace", "deviceName", "q"]))
    place = data.draw(st.sampled_from(["header", "query", "url-path", "json", "text", "form"]))
    spec = RequestSpec(method="POST", url="https://api.example.test/v1/x", name="gen")
    if place == "header":
        spec.headers = [(harmless, data.draw(st.sampled_from(["", "Bearer ", "v="])) + secret)]
    elif place == "query":
        spec.params = [(harmless, secret)]
    elif place == "url-path":
        spec.url += "/" + secret.replace("/", "")
        secret = secret.replace("/", "")
    elif place == "json":
        spec.body_kind = "json"
        spec.body = json.dumps({"data": [{harmless: secret}]})
    elif place == "text":
        spec.body_kind = "text"
        spec.body = f"{harmless}: {secret}\n"
    else:
        spec.body_kind = "form"
        spec.form = [(harmless, secret)]
    kind = data.draw(st.sampled_from(["session", "profile", "bare"]))
    known: object
    if kind == "session":
        known = {secret: SessionRef("access_token")}
    elif kind == "profile":
        known = {secret: SecretRef("password", env="MY_PASSWORD", demo=secret)}
    else:
        known = [secret]
    c = new_collection("gen.toml", "gen")
    c.add_request(CollectionRequest(spec=spec))
    text, _ = c.render_text(known)  # type: ignore[arg-type]
    for form in {secret, shlex.quote(secret).strip("'"), json.dumps(secret)[1:-1]}:
        assert form not in text, (place, kind, text)
