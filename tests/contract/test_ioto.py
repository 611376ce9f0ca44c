"""EmbedThis Ioto's contract: the vendor's own CloudAPI scripts and the reference pages.

Ioto publishes no OpenAPI spec. Its contract is (1) EmbedThis' own scripts, copied byte for byte
into ``../shared/reference/ioto-samples/`` from github.com/embedthis/ioto ``samples/api/``
(parsed here: path, method, header form, body keys; a missing script FAILS the tests), and
(2) the documented controllers of https://www.embedthis.com/doc/ioto/ref (the tables below,
each with its page). Where the two disagree the scripts (vendor code) win: the API Access page
shows a raw ``Authorization: <token>``, the scripts send ``Authorization: bearer <token>``.

Every request the Ioto client sends during a login, the device listing (store, metrics) and the
reads of a device, a Store item and a metric is recorded on the wire (an httpx transport
wrapper) and checked against those tables; the emulator's answers to the same calls are checked
against the documented response fields. The emulator's own code is never consulted.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.contract.wire import Exchange, Wire
from workbench.core.platforms.base import DeviceNode, adapter_for, walk
from workbench.core.profiles import Profile, get_profile
from workbench.core.requests import send
from workbench.core.secrets import SecretResolver
from workbench.core.session import Session

pytestmark = pytest.mark.needs_shared  # reads ../shared/reference (tests/conftest.py)

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "ioto-samples"
TOKEN_SCRIPTS = (
    "find-items.sh",
    "get-item.sh",
    "get-metric.sh",
    "set-item.sh",
    "device-command.sh",
    "update.sh",
)
DATA_SCRIPTS = ("find-items.sh", "get-item.sh", "get-metric.sh", "set-item.sh")
CLOUDAPI_TOKEN = "ioto-cloudapi-demo-token-9d2f6a"  # the demo cloud's (README)
ACCOUNT = "01JDEM0ACC0VNT0000000000AA"  # the demo cloud's Demo Account (README)
ORIGIN = "https://manager.ioto.example"


# --------------------------------------------------------------------------- the vendor's scripts


@dataclass(frozen=True)
class ScriptCall:
    """One ``url`` command of a vendor script."""

    script: str
    method: str
    url: str  # as written, e.g. "${IOTO_API}/tok/generic/update?exists"
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def path(self) -> str:
        return self.url.split("?", 1)[0].replace("${IOTO_API}", "")

    @property
    def tok(self) -> bool:
        return self.path.startswith("/tok/")

    @property
    def action(self) -> str:
        return self.path.removeprefix("/tok/").lstrip("/")

    @property
    def query(self) -> set[str]:
        _, _, query = self.url.partition("?")
        return {part.split("=", 1)[0] for part in query.split("&") if part}

    @property
    def auth_scheme(self) -> str | None:
        """The scheme before the token (``bearer``), or None when the token is sent raw."""
        value = self.headers.get("Authorization", "")
        scheme, sep, _ = value.partition(" ")
        return scheme if sep and not scheme.startswith("$") else None


Scripts = dict[str, list[ScriptCall]]


def json5(text: str) -> Any:
    """The JSON5 bodies the ``url`` tool takes (bare keys, single quotes, bare ``${VAR}``)."""
    text = re.sub(r"'([^']*)'", lambda m: json.dumps(m.group(1)), text)
    text = re.sub(r'(?<!")\$\{(\w+)\}(?!")', r'"${\1}"', text)
    text = re.sub(r"([{,]\s*)([A-Za-z_$][\w$]*)\s*:", r'\1"\2":', text)
    return json.loads(text)


def _command_end(text: str, start: int) -> int:
    """The end of the shell command starting at `start`: the first newline outside quotes."""
    quote: str | None = None
    for i in range(start, len(text)):
        c = text[i]
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "\n":
            return i
    return len(text)


def read_script(name: str) -> list[ScriptCall]:
    path = SAMPLES / name
    if not path.is_file():
        pytest.fail(f"the vendor script {path} is missing: the Ioto contract cannot be checked")
    text = path.read_text(encoding="utf-8")
    heredocs = dict(re.findall(r"cat >\$\{(\w+)\} <<!EOF\n(.*?)\n!EOF", text, re.S))
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    text = text.replace("\\\n", " ")
    calls = []
    for match in re.finditer(r"^url\s", text, re.M):
        words = shlex.split(text[match.start() : _command_end(text, match.start())])[1:]
        method, url, headers, body = "POST", "", {}, {}  # `url` with a body POSTs
        for word in words:
            if word in ("-s", "hHbB"):
                continue
            if word in ("GET", "POST", "PUT", "DELETE"):
                method = word
            elif word.startswith("${") and not url:
                url = word
            elif word.startswith("{"):
                body = json5(word)
            elif word.startswith("@${"):
                body = json.loads(heredocs[word[3:-1]])
            elif ":" in word:
                name_, _, value = word.partition(":")
                headers[name_.strip()] = value.strip()
        calls.append(ScriptCall(name, method, url, headers, body))
    if not calls:
        pytest.fail(f"no url command found in the vendor script {path}")
    return calls


@pytest.fixture(scope="module")
def scripts() -> Scripts:
    return {name: read_script(name) for name in (*TOKEN_SCRIPTS, "login.sh")}


def script_for(scripts: Scripts, action: str) -> ScriptCall | None:
    for name in DATA_SCRIPTS:
        for call in scripts[name]:
            if call.action == action:
                return call
    return None


def test_the_scripts_parse_as_the_readme_says(scripts: Scripts) -> None:
    """The table the other tests use, read from the scripts themselves."""
    for name in TOKEN_SCRIPTS:
        [call] = scripts[name]
        assert call.method == "POST" and call.tok, name
        assert call.headers["Authorization"] == "bearer ${IOTO_TOKEN}", name
    for name in DATA_SCRIPTS:
        assert scripts[name][0].body["accountId"] == "${IOTO_ACCOUNT}", name
    for name in ("device-command.sh", "update.sh"):
        assert "accountId" not in scripts[name][0].body
    assert scripts["set-item.sh"][0].query == {"exists"}  # an option in the query string
    [metric] = scripts["get-metric.sh"][0].body["items"]
    assert metric["statistic"] == "current" and metric["accumulate"] is True
    assert metric["cloudId"] == "${IOTO_CLOUD}" and metric["namespace"] == "Embedthis/Device"
    cognito, find = scripts["login.sh"]
    assert cognito.url == "${IOTO_COGNITO}" and cognito.body["AuthFlow"] == "USER_PASSWORD_AUTH"
    assert cognito.headers["X-Amz-Target"] == "AWSCognitoIdentityProviderService.InitiateAuth"
    assert find.action == "generic/find" and not find.tok
    assert find.headers["Authorization"] == "${TOKEN}" and find.auth_scheme is None  # raw
    assert find.headers["Origin"] == "${IOTO_HOST}"


# --------------------------------------------------------------------------- the reference pages

ANY = None  # "* any": item attributes (generic controller)
OPTIONS = {"filter", "limit", "next", "prev", "index"}  # "Query String Options" of the finds


@dataclass(frozen=True)
class Doc:
    body: set[str] | None  # the Request Body table (None: "* any" attributes allowed)
    required: set[str] = field(default_factory=set)
    query: set[str] = field(default_factory=set)  # the Query String Options table
    cloudapi: set[str] = field(default_factory=set)  # required with a CloudAPI token
    list_answer: bool = False  # "Paged response"


DOCS: dict[str, Doc] = {
    # https://www.embedthis.com/doc/ioto/ref/account.html  Get: id, email (role owner); index.
    # Not the whole cloud's: a CloudAPI token names the account ("owner role ... accountId").
    "account/get": Doc({"id", "email"}, query={"index"}, cloudapi={"id"}),
    # https://www.embedthis.com/doc/ioto/ref/user.html  Get: email, id.
    "user/get": Doc({"email", "id"}),
    # https://www.embedthis.com/doc/ioto/ref/device.html  Find: id, accountId ("Required if
    # using CloudAPI token"), productId; Query String Options filter, next, prev, limit, index.
    "device/find": Doc(
        {"id", "accountId", "productId"}, query=OPTIONS, cloudapi={"accountId"}, list_answer=True
    ),
    # device.html  Get: id (required), accountId ("Required if using CloudAPI token").
    "device/get": Doc({"id", "accountId"}, required={"id"}, cloudapi={"accountId"}),
    # https://www.embedthis.com/doc/ioto/ref/generic.html  Find / Get: _type (required),
    # deviceId, "* any" item attributes; Find's Query String Options. accountId with a CloudAPI
    # token: samples/api/find-items.sh and get-item.sh send it.
    "generic/find": Doc(
        ANY, required={"_type"}, query=OPTIONS, cloudapi={"accountId"}, list_answer=True
    ),
    "generic/get": Doc(ANY, required={"_type"}, cloudapi={"accountId"}),
    # https://www.embedthis.com/doc/ioto/ref/metric.html  Fetch: items, deviceId (required);
    # accountId: samples/api/get-metric.sh sends it (the page's table does not list it).
    "metric/fetch": Doc(
        {"items", "deviceId", "accountId"},
        required={"items", "deviceId"},
        cloudapi={"accountId"},
        list_answer=True,
    ),
    # metric.html  GetMetricList: cloudId (required, role owner), namespace, metric, model;
    # Query String Options index, limit, next, prev.
    "metric/getMetricList": Doc(
        {"cloudId", "namespace", "metric", "model"},
        query={"index", "limit", "next", "prev"},
        cloudapi={"cloudId"},
    ),
}
# metric.html, Metric Request.
METRIC_REQUEST = {
    "accumulate",
    "cloudId",
    "dimensions",
    "field",
    "limit",
    "metric",
    "model",
    "namespace",
    "period",
    "start",
    "statistic",
}
# Response fields. account.html (Account Record); user.html (User Record); device.html (Device)
# plus the Device model of the vendor's schema (github.com/embedthis/ioto
# schemas/parts/CloudSchema.json5: connection, description, model, name, state, updated), which
# the device pages do not list; the Store model of that schema (generic/* with _type Store);
# metric.html (Metric, Point; "*": any).
ACCOUNT_FIELDS = {"activity", "closed", "cloudId", "created", "email", "id", "name"}
USER_FIELDS = {"accountId", "activity", "cloudId", "email", "first", "id", "last", "role"}
DEVICE_FIELDS = {
    *("accessed", "accountId", "created", "id", "product", "productId", "test", "version"),
    *("checked", "connection", "description", "model", "name", "state", "updated"),
}
STORE_FIELDS = {"accountId", "created", "deviceId", "key", "value", "type", "updated", "expires"}
METRIC_FIELDS = {"dimensions", "metric", "namespace", "period", "points"}  # and "*": any
POINT_FIELDS = {"value", "timestamp", "count"}
LIST_FIELDS = {"data", "next", "prev", "paged"}  # "API Access": Successful Responses


# --------------------------------------------------------------------------- recording the wire


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> Wire:
    """Every request any httpx client of this process puts on the wire, with its answer."""
    return Wire().install(monkeypatch)


def browse(profile: Profile) -> None:
    """Log in, list the tree to depth 4 and read a device, a Store item and a metric."""
    session = Session(profile, resolver=SecretResolver(), persist=False)
    session.login()
    with session.client() as client:
        adapter = adapter_for(profile, client, page_size=5)
        nodes = [node for _, node in walk(adapter, 4)]
        assert not [n for n in nodes if n.kind == "error"], [n.label for n in nodes]

        def first(kind: str) -> DeviceNode:
            return next(n for n in nodes if n.kind == kind and n.request is not None)

        for node in (first("device"), first("resource"), first("stats")):
            assert node.request is not None
            assert send(client, node.request).status == 200
    session.close()


def api_calls(profile: Profile, wire: Wire) -> list[Exchange]:
    return wire.under(profile.urls["api"] + "/")


def action_of(profile: Profile, sent: Exchange) -> tuple[bool, str]:
    rest = sent.url.path.removeprefix(httpx.URL(profile.urls["api"]).path)
    tok = rest.startswith("/tok/")
    return tok, rest.removeprefix("/tok").lstrip("/")


Browsed = tuple[Profile, list[Exchange], list[Exchange]]
FLOWS = ["demo-ioto-cloudapi", "demo-ioto"]
BROWSED = {
    "account/get",
    "device/find",
    "device/get",
    "generic/find",
    "generic/get",
    "metric/getMetricList",
    "metric/fetch",
}


@pytest.fixture
def browsed(demo_env: Any, wire: Wire, request: pytest.FixtureRequest) -> Browsed:
    profile = get_profile(request.param)
    browse(profile)
    return profile, api_calls(profile, wire), list(wire.exchanges)


# --------------------------------------------------------------------------- (1) what the client sends


@pytest.mark.parametrize("browsed", FLOWS, indirect=True)
def test_every_request_has_the_documented_form(browsed: Browsed, scripts: Scripts) -> None:
    profile, calls, _ = browsed
    cloudapi = profile.auth.flow == "ioto_cloudapi"
    token_schemes = {scripts[name][0].auth_scheme for name in TOKEN_SCRIPTS}
    assert token_schemes == {"bearer"}  # what every vendor CloudAPI script sends
    [scheme] = token_schemes
    login_find = scripts["login.sh"][1]
    actions = set()
    for sent in calls:
        request, body = sent, sent.request_json()
        tok, action = action_of(profile, sent)
        actions.add(action)
        where = f"{request.method} {request.url}"
        # "API Access": every call is a POST of JSON; /tok with a CloudAPI token.
        assert request.method == "POST", where
        assert request.headers["content-type"].startswith("application/json"), where
        assert action in DOCS, f"{where}: not a documented controller/action of the Ioto API"
        doc = DOCS[action]
        auth = request.headers.get("authorization", "")
        if cloudapi:
            assert tok, f"{where}: CloudAPI calls go to {{api}}/tok/... (samples/api/*.sh)"
            assert auth == f"{scheme} {CLOUDAPI_TOKEN}", f"{where}: {auth!r}"
        else:
            assert not tok and login_find.auth_scheme is None
            assert auth and " " not in auth, f"{where}: login.sh sends the token raw"
            assert request.headers.get("origin") == ORIGIN, f"{where}: login.sh sends Origin"
        # The body: documented fields only; the options never in it.
        assert isinstance(body, dict), where
        keys = set(body)
        if doc.body is not None:
            assert keys <= doc.body, f"{where}: undocumented body fields {keys - doc.body}"
        assert doc.required <= keys, f"{where}: missing {doc.required - keys}"
        assert not keys & OPTIONS, f"{where}: {keys & OPTIONS} are query string options"
        # The query string: documented options only (the finds page with limit).
        query = set(request.url.params.keys())
        assert query <= doc.query, f"{where}: undocumented options {query - doc.query}"
        if doc.list_answer and action != "metric/fetch":
            assert "limit" in query, where
        if cloudapi:
            assert doc.cloudapi <= keys, f"{where}: a CloudAPI token needs {doc.cloudapi - keys}"
            script = script_for(scripts, action)
            if script is not None:  # what the vendor's script sends, we send
                assert set(script.body) <= keys, f"{where}: {script.script} also sends " + str(
                    set(script.body) - keys
                )
                assert body.get("accountId") == ACCOUNT
        if action == "metric/fetch":
            check_metric_fetch(body, scripts, cloudapi)
    assert actions >= BROWSED, BROWSED - actions
    assert "test/ping" not in actions  # documented, but "public": it checks no token


def check_metric_fetch(body: dict[str, Any], scripts: Scripts, cloudapi: bool) -> None:
    """samples/api/get-metric.sh: the same fields, the same statistic, accumulated."""
    [script] = scripts["get-metric.sh"]
    [want] = script.body["items"]
    for item in body["items"]:
        assert set(item) <= METRIC_REQUEST, set(item) - METRIC_REQUEST
        # cloudId from the account record (account/get), with either token
        assert set(item) == set(want), set(item) ^ set(want)
        for name in ("statistic", "accumulate", "namespace", "period"):
            assert item[name] == want[name], (name, item[name], want[name])
        assert set(item["dimensions"]) == set(want["dimensions"])
    assert set(body) == set(script.body) - (set() if cloudapi else {"accountId"})


@pytest.mark.parametrize("browsed", ["demo-ioto"], indirect=True)
def test_the_cognito_login_is_login_sh(browsed: Browsed, scripts: Scripts) -> None:
    profile, _, everything = browsed
    cognito, _ = scripts["login.sh"]
    [sent] = [s for s in everything if str(s.url) == profile.auth.params["cognito_url"]]
    assert sent.method == cognito.method
    for name in ("X-Amz-Target", "Content-Type"):
        assert sent.headers[name] == cognito.headers[name]
    body = sent.request_json()
    assert set(body) == set(cognito.body) and body["AuthFlow"] == cognito.body["AuthFlow"]
    assert set(body["AuthParameters"]) == set(cognito.body["AuthParameters"])


# --------------------------------------------------------------------------- (2) what the emulator answers


@pytest.mark.parametrize("browsed", FLOWS, indirect=True)
def test_the_answers_have_the_documented_shapes(browsed: Browsed) -> None:
    profile, calls, _ = browsed
    for sent in calls:
        _, action = action_of(profile, sent)
        where = f"{sent.url}"
        # "API Access": 200 and a JSON object with `data`; lists add next / prev.
        content_type = sent.response_headers.get("content-type", "")
        assert sent.status == 200 and content_type.startswith("application/json"), where
        answer = sent.json()
        assert isinstance(answer, dict) and "data" in answer, where
        data = answer["data"]
        if DOCS[action].list_answer:
            assert set(answer) <= LIST_FIELDS and isinstance(data, list), where
            for cursor in answer.get("next"), answer.get("prev"):
                assert cursor is None or isinstance(cursor, str), where
        body = sent.request_json() or {}
        if action == "account/get":
            assert set(data) <= ACCOUNT_FIELDS and data["id"], set(data) - ACCOUNT_FIELDS
        elif action == "user/get":
            assert set(data) <= USER_FIELDS, set(data) - USER_FIELDS
        elif action in ("device/find", "device/get"):
            for device in data if isinstance(data, list) else [data]:
                assert set(device) <= DEVICE_FIELDS, set(device) - DEVICE_FIELDS
        elif action in ("generic/find", "generic/get") and body.get("_type") == "Store":
            for item in data if isinstance(data, list) else [data]:
                assert set(item) <= STORE_FIELDS, set(item) - STORE_FIELDS
                assert {"accountId", "deviceId", "key", "value", "type"} <= set(item)
        elif action == "metric/getMetricList":
            assert isinstance(data, dict) and set(data) <= {"namespaces", "metrics", "dimensions"}
            assert all(isinstance(m, str) for m in data.get("metrics", []))
        elif action == "metric/fetch":
            for metric in data:
                assert set(metric) >= METRIC_FIELDS, METRIC_FIELDS - set(metric)
                assert metric["namespace"] == "Embedthis/Device"
                assert all(set(p) == POINT_FIELDS for p in metric["points"])


def test_errors_are_text_plain(demo_env: Any) -> None:
    """ "API Access", Errors: 403 authentication, 400 bad request, text/plain."""
    api = get_profile("demo-ioto-cloudapi").urls["api"]
    missing = httpx.post(
        f"{api}/tok/device/find", json={}, headers={"Authorization": f"bearer {CLOUDAPI_TOKEN}"}
    )
    assert missing.status_code == 400 and "accountId" in missing.text
    refused = httpx.post(f"{api}/tok/device/find", json={"accountId": ACCOUNT})
    for r in (missing, refused):
        assert r.headers["content-type"].startswith("text/plain"), r.text
    assert refused.status_code == 403


# --------------------------------------------------------------------------- the scripts themselves


def substitute(value: Any, env: dict[str, str]) -> Any:
    if isinstance(value, str):
        return re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], value)
    if isinstance(value, dict):
        return {k: substitute(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, env) for v in value]
    return value


def replay(call: ScriptCall, env: dict[str, str]) -> httpx.Response:
    headers = {k: substitute(v, env) for k, v in call.headers.items()}
    headers.setdefault("Content-Type", "application/json")
    return httpx.post(substitute(call.url, env), headers=headers, json=substitute(call.body, env))


def test_the_vendor_scripts_run_against_the_demo_cloud(demo_env: Any, scripts: Scripts) -> None:
    """The emulator takes the vendor's own requests as they are (login.sh, find-items.sh,
    get-item.sh, get-metric.sh)."""
    api = get_profile("demo-ioto-cloudapi").urls["api"]
    env = {"IOTO_API": api, "IOTO_TOKEN": CLOUDAPI_TOKEN, "IOTO_ACCOUNT": ACCOUNT}
    found = replay(scripts["find-items.sh"][0], env)
    assert found.status_code == 200, found.text
    devices = found.json()["data"]
    assert devices and all(d["accountId"] == ACCOUNT for d in devices)
    account = httpx.post(
        f"{api}/tok/account/get",
        json={"id": ACCOUNT},
        headers={"Authorization": f"bearer {CLOUDAPI_TOKEN}"},
    ).json()["data"]
    env |= {"IOTO_DEVICE": devices[0]["id"], "IOTO_CLOUD": account["cloudId"]}
    item = replay(scripts["get-item.sh"][0], env)  # no key: "optional item attributes"
    assert item.status_code == 200, item.text
    assert item.json()["data"]["deviceId"] == devices[0]["id"]
    metric = replay(scripts["get-metric.sh"][0], env)
    assert metric.status_code == 200, metric.text
    [series] = metric.json()["data"]
    assert series["metric"] == "RANDOM" and series["statistic"] == "current"
    cognito, find = scripts["login.sh"]
    env |= {
        "IOTO_COGNITO": get_profile("demo-ioto").auth.params["cognito_url"],
        "IOTO_CLIENT_ID": "ioto-demo-client",
        "IOTO_USERNAME": "demo@ioto.example",
        "IOTO_PASSWORD": "Ioto-demo-pass-4821",
        "IOTO_HOST": ORIGIN,
    }
    login = httpx.post(
        substitute(cognito.url, env),
        headers=cognito.headers,
        content=json.dumps(substitute(cognito.body, env)),
    )
    assert login.status_code == 200, login.text
    env["TOKEN"] = login.json()["AuthenticationResult"]["AccessToken"]
    mine = replay(find, env)
    assert mine.status_code == 200 and mine.json()["data"] == devices  # the same account
