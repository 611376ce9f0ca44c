"""Collections: loading with file:line:column errors, format-preserving atomic saves,
changed-on-disk detection, no credential ever saved, and round-trips (hypothesis)."""

from __future__ import annotations

import base64
import os
import re
import string
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.core.collection import collection as coll_mod
from workbench.core.collection.collection import (
    Collection,
    load_collection,
    loads_collection,
    new_collection,
    resolve_variables,
    to_toml,
)
from workbench.core.collection.expectations import Check, Expect
from workbench.core.collection.model import CollectionRequest, SessionRef
from workbench.core.errors import CollectionChangedOnDisk, CollectionError, SecretError
from workbench.core.requests import METHODS, RequestSpec, send
from workbench.core.secrets import SecretRef, SecretResolver, maybe_secret_name, secret_kind

EXAMPLE = '''# Thinger smoke tests -- shared in git
version = 1

[collection]
name = "thinger smoke"
description = "devices and a resource"
profile = "demo-thinger"   # the default profile

[variables]
user = "demo"
token = { session = "access_token" }
password = { env = "THINGER_PASSWORD", prompt = "Thinger password" }

# list the devices
[[requests]]
name = "list devices"
method = "GET"
url = "/v1/users/{{user}}/devices"
query = [
  ["count", "10"],
  ["tag", "a"],
  ["tag", "b"],   # repeated keys are fine
]
headers = [
  ["Accept", "application/json"],
]

[requests.capture]
first = "$[0].device"
etag = "header:ETag"

[requests.expect]
status = [200, 204]
headers = { "Content-Type" = { contains = "json" } }
json = { "$[0].device" = { exists = true } }
exists = ["$[0]"]
max_ms = 500

[[requests]]
name = "switch relay"
method = "POST"
url = "/v2/users/{{user}}/devices/{{first}}/relay"
body = { json = """
{"in": true}
""" }

[requests.expect]
status = 200
'''


def write(tmp_path: Path, text: str, name: str = "c.toml") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode())
    return p


def test_load_the_documented_example(tmp_path: Path) -> None:
    c = load_collection(write(tmp_path, EXAMPLE))
    assert (c.name, c.description, c.profile) == (
        "thinger smoke",
        "devices and a resource",
        "demo-thinger",
    )
    assert c.variables["user"] == "demo"
    assert c.variables["token"] == SessionRef("access_token")
    assert c.variables["password"] == SecretRef(
        "password", env="THINGER_PASSWORD", prompt="Thinger password"
    )
    first, second = c.requests
    assert first.spec.params == [("count", "10"), ("tag", "a"), ("tag", "b")]
    assert first.spec.headers == [("Accept", "application/json")]
    assert first.captures == {"first": "$[0].device", "etag": "header:ETag"}
    assert first.expect.status == [200, 204]
    assert first.expect.headers["Content-Type"] == Check("contains", "json")
    assert first.expect.json["$[0].device"] == Check("exists", True)
    assert first.expect.max_ms == 500
    assert second.spec.method == "POST" and second.spec.body_kind == "json"
    assert second.spec.body == '{"in": true}\n'
    assert c.request("2") is second and c.request("switch relay") is second
    spec = second.prepare({"user": "demo", "first": "dev-1"}, "http://127.0.0.1:9/thinger")
    assert spec.url == "http://127.0.0.1:9/thinger/v2/users/demo/devices/dev-1/relay"
    with pytest.raises(CollectionError, match="unknown variable"):
        second.prepare({"user": "demo"}, None)


def test_the_docs_example_loads() -> None:
    docs = Path(__file__).resolve().parents[3] / "docs" / "collections.md"
    blocks = re.findall(r"```toml\n(.*?)```", docs.read_text(), re.S)
    full = [b for b in blocks if b.lstrip().startswith(("version", "#"))]
    assert full, "docs/collections.md has a complete example"
    for block in full:
        loads_collection(block, "docs.toml")


# --- errors with file, line, column and key ---------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "line", "column", "key"),
    [
        (
            'profile = "demo-thinger"   # the default profile',
            'profile = "demo-thinger"\nowner = "me"',
            8,
            1,
            "collection.owner",
        ),
        ('body = { json = """', 'body = { jsn = """', 43, 10, "requests[1].body.jsn"),
        ("max_ms = 500", "max_ms = 500\nstatuss = 200", 38, 1, "requests[0].expect.statuss"),
        ('etag = "header:ETag"', 'etag = "ETag"', 30, 1, "requests[0].capture.etag"),
        (
            'name = "switch relay"',
            'name = "switch relay"\ntimeout = 5',
            41,
            1,
            "requests[1].timeout",
        ),
        ('["tag", "b"],   # repeated keys are fine', '["tag", 5],', 22, 3, "requests[0].query[2]"),
        (
            'token = { session = "access_token" }',
            'token = { session = "refresh" }',
            11,
            11,
            "variables.token.session",
        ),
        ("version = 1", "version = 2", 2, 1, "version"),
        ('user = "demo"', "user = 5", 10, 1, "variables.user"),
        ('name = "switch relay"', 'name = "list devices"', 40, 1, "requests[1].name"),
    ],
)
def test_errors_name_file_line_column_and_key(
    tmp_path: Path, old: str, new: str, line: int, column: int, key: str
) -> None:
    assert old in EXAMPLE
    p = write(tmp_path, EXAMPLE.replace(old, new, 1))
    before = p.read_bytes(), p.stat().st_mtime_ns
    with pytest.raises(CollectionError) as info:
        load_collection(p)
    err = info.value
    assert (err.path, err.line, err.column) == (str(p), line, column), str(err)
    assert err.key == key
    assert str(err).startswith(f"{p}:{line}:{column}: ")
    assert (p.read_bytes(), p.stat().st_mtime_ns) == before  # never touched


def test_an_inline_table_that_is_not_an_operator_is_a_json_value(tmp_path: Path) -> None:
    c = loads_collection(EXAMPLE.replace("{ exists = true }", "{ exist = true }"))
    assert c.requests[0].expect.json["$[0].device"] == Check("equals", {"exist": True})


def test_malformed_toml_has_line_and_column(tmp_path: Path) -> None:
    p = write(tmp_path, EXAMPLE.replace('method = "POST"', 'method = "POST'))
    with pytest.raises(CollectionError) as info:
        load_collection(p)
    assert (info.value.line, info.value.column) == (41, 15)
    assert "not valid TOML" in str(info.value) and str(p) in str(info.value)


def test_other_load_errors(tmp_path: Path) -> None:
    with pytest.raises(CollectionError, match="no such collection file"):
        load_collection(tmp_path / "missing.toml")
    with pytest.raises(CollectionError, match="'version' is missing"):
        loads_collection('[collection]\nname = "x"\n')
    with pytest.raises(CollectionError, match="array of \\[name, value\\] pairs"):
        loads_collection(
            'version = 1\n[[requests]]\nname = "a"\nurl = "/"\nheaders = { Accept = "x" }\n'
        )
    bad = tmp_path / "latin.toml"
    bad.write_bytes(b"version = 1\n# \xff\n")
    with pytest.raises(CollectionError, match="not UTF-8"):
        load_collection(bad)


# --- saving keeps the user's bytes --------------------------------------------------------


def test_edit_and_append_keep_every_other_byte(tmp_path: Path) -> None:
    p = write(tmp_path, EXAMPLE)
    c = load_collection(p)
    edited = c.request("switch relay").copy()
    edited.spec.body = '{"in": false}'
    edited.expect.status = [200, 202]
    c.replace_request("switch relay", edited)
    c.add_request(
        CollectionRequest(
            spec=RequestSpec(
                method="DELETE", url="/v1/users/{{user}}/devices/x", name="delete one"
            ),
            expect=Expect(status=[204]),
        )
    )
    assert c.save() == []
    expected = EXAMPLE.replace(
        'body = { json = """\n{"in": true}\n""" }', "body = { json = '{\"in\": false}' }"
    )
    expected = expected.replace(
        "[requests.expect]\nstatus = 200\n", "[requests.expect]\nstatus = [200, 202]\n"
    )
    expected += (
        '\n[[requests]]\nname = "delete one"\nmethod = "DELETE"\nurl = "/v1/users/{{user}}/devices/x"\n'
        "\n[requests.expect]\nstatus = 204\n"
    )
    assert p.read_text() == expected
    assert load_collection(p).data() == c.data()


def test_edits_inside_a_request_keep_its_other_lines_and_comments(tmp_path: Path) -> None:
    p = write(tmp_path, EXAMPLE)
    c = load_collection(p)
    r = c.request("list devices").copy()
    r.spec.url = "/v1/users/{{user}}/devices?x=1"
    r.captures["total"] = "$.total"
    r.expect.max_ms = 900
    c.replace_request("list devices", r)
    c.variables["user"] = "other"
    c.save()
    text = p.read_text()
    assert '["tag", "b"],   # repeated keys are fine' in text
    assert 'profile = "demo-thinger"   # the default profile' in text
    assert "# list the devices\n[[requests]]" in text
    assert 'url = "/v1/users/{{user}}/devices?x=1"' in text
    assert 'etag = "header:ETag"\ntotal = "$.total"\n' in text
    assert "max_ms = 900\n" in text and "max_ms = 500" not in text
    assert 'user = "other"\n' in text
    assert len(text.splitlines()) == len(EXAMPLE.splitlines()) + 1


def test_remove_and_reorder(tmp_path: Path) -> None:
    p = write(tmp_path, EXAMPLE)
    c = load_collection(p)
    c.requests.reverse()
    c.save()
    again = load_collection(p)
    assert again.names() == ["switch relay", "list devices"]
    assert '# list the devices\n[[requests]]\nname = "list devices"' in p.read_text()
    again.remove_request("list devices")
    again.save()
    text = p.read_text()
    assert "list devices" not in text and "# list the devices" not in text
    assert text.startswith("# Thinger smoke tests -- shared in git\nversion = 1\n")
    assert load_collection(p).names() == ["switch relay"]


def test_crlf_files_stay_crlf(tmp_path: Path) -> None:
    p = write(tmp_path, EXAMPLE.replace("\n", "\r\n"))
    c = load_collection(p)
    c.add_request(
        CollectionRequest(spec=RequestSpec(url="/x", name="x", body_kind="text", body="a\nb"))
    )
    c.save()
    raw = p.read_bytes()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert load_collection(p).request("x").spec.body == "a\nb"


def test_new_collection_and_to_toml(tmp_path: Path) -> None:
    c = new_collection(tmp_path / "sub" / "new.toml", "My API", profile="demo-thinger")
    c.variables["user"] = "demo"
    c.add_request(CollectionRequest(spec=RequestSpec(url="/v1/{{user}}", name="one")))
    with pytest.raises(CollectionError, match="already exists"):
        c.add_request(CollectionRequest(spec=RequestSpec(url="/v2", name="one")))
    assert c.unique_name("one") == "one (2)"
    c.save()
    text = c.path.read_text()
    assert text == to_toml(c)
    assert text == (
        'version = 1\n\n[collection]\nname = "My API"\nprofile = "demo-thinger"\n\n'
        '[variables]\nuser = "demo"\n\n[[requests]]\nname = "one"\nmethod = "GET"\nurl = "/v1/{{user}}"\n'
    )
    other = new_collection(c.path, "again")
    with pytest.raises(CollectionChangedOnDisk):
        other.save()
    assert c.path.read_text() == text


def test_changed_on_disk_is_detected_and_force_overwrites(tmp_path: Path) -> None:
    p = write(tmp_path, EXAMPLE)
    c = load_collection(p)
    assert not c.changed_on_disk()
    os.utime(p, None)  # touching is not a change
    assert not c.changed_on_disk()
    theirs = EXAMPLE.replace('user = "demo"', 'user = "someone"')
    p.write_text(theirs)
    assert c.changed_on_disk()
    c.variables["user"] = "me"
    with pytest.raises(CollectionChangedOnDisk) as info:
        c.save()
    assert isinstance(info.value, CollectionError) and info.value.path == str(p)
    assert p.read_text() == theirs
    c.save(force=True)
    assert load_collection(p).variables["user"] == "me"
    assert not c.changed_on_disk()
    p.unlink()
    assert c.changed_on_disk()


def test_a_failed_write_leaves_the_file_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = write(tmp_path, EXAMPLE)
    c = load_collection(p)
    c.variables["user"] = "x"

    def boom(path, data, **kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(coll_mod, "atomic_write", boom)
    with pytest.raises(CollectionError, match="No space left"):
        c.save()
    assert p.read_text() == EXAMPLE
    assert [f.name for f in tmp_path.iterdir()] == ["c.toml"]


def test_saves_go_through_a_temp_file_in_the_same_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = write(tmp_path, EXAMPLE)
    c = load_collection(p)
    seen: list[str] = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(str(src))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    c.variables["user"] = "y"
    c.save()
    assert (
        len(seen) == 1
        and Path(seen[0]).parent == tmp_path
        and Path(seen[0]).name.startswith(".c.toml.")
    )


# --- secrets are never saved --------------------------------------------------------------


def test_a_request_sent_with_a_real_token_is_saved_without_it(emulator, tmp_path: Path) -> None:
    base = emulator.base_url + "/thinger"
    password = "thinger-demo-pass-1157"
    login = RequestSpec(
        method="POST",
        url=f"{base}/oauth/token",
        body_kind="form",
        name="login",
        form=[("grant_type", "password"), ("username", "demo"), ("password", password)],
    )
    with httpx.Client() as client:
        answer = send(client, login)
        assert answer.status == 200, answer.text()
        tokens = answer.json()
        token, refresh = tokens["access_token"], tokens["refresh_token"]
        devices = RequestSpec(
            url=f"{base}/v1/users/demo/devices",
            name="devices",
            headers=[("Authorization", f"Bearer {token}"), ("Accept", "application/json")],
        )
        assert send(client, devices).status == 200
        by_query = RequestSpec(
            url=f"{base}/v1/users/demo/devices?authorization={token}", name="by query"
        )
        assert send(client, by_query).status == 200
    refresh_req = RequestSpec(
        method="POST",
        url=f"{base}/oauth/token",
        body_kind="json",
        name="refresh",
        body=f'{{"grant_type": "refresh_token", "refresh_token": "{refresh}"}}',
    )
    basic = RequestSpec(
        url=f"{base}/x",
        name="basic",
        headers=[
            ("Authorization", "Basic " + base64.b64encode(f"demo:{password}".encode()).decode()),
            ("X-Api-Key", "key-1234567"),
        ],
    )
    c = new_collection(tmp_path / "saved.toml", "saved")
    for spec in (login, devices, by_query, refresh_req, basic):
        c.add_request(CollectionRequest(spec=spec))
    notes = c.save()
    raw = (tmp_path / "saved.toml").read_bytes()
    secrets = [
        token,
        refresh,
        password,
        "key-1234567",
        base64.b64encode(f"demo:{password}".encode()).decode(),
    ]
    for secret in secrets:
        for form in {
            secret,
            quote(secret, safe=""),
            quote_plus(secret),
            base64.b64encode(secret.encode()).decode(),
        }:
            assert form.encode() not in raw
        assert secret[:20].encode() not in raw
    assert any("Authorization header" in n for n in notes)
    saved = load_collection(tmp_path / "saved.toml")
    assert saved.variables["token"] == SessionRef("access_token")
    assert saved.request("devices").spec.headers[0] == ("Authorization", "Bearer {{token}}")
    assert saved.request("by query").spec.url.endswith("?authorization={{token}}")
    assert dict(saved.request("login").spec.form)["password"] == "{{password}}"
    assert '"refresh_token": "{{refresh_token}}"' in saved.request("refresh").spec.body
    assert saved.request("basic").spec.headers == [
        ("Authorization", "Basic {{basic_auth}}"),
        ("X-Api-Key", "{{api_key}}"),
    ]
    # and the saved requests replay with the session's token
    values = resolve_variables(
        saved.variables,
        session={"access_token": token},
        resolver=SecretResolver(environ={"PASSWORD": password}),
        names=["token", "password"],
    )
    with httpx.Client() as client:
        assert (
            send(client, saved.request("devices").prepare({**values, "user": "demo"})).status == 200
        )


def test_known_secrets_are_a_last_line_of_defence(tmp_path: Path) -> None:
    # a known secret in a variable or a request becomes a reference (issue 11) ...
    c = new_collection(tmp_path / "k.toml", "k")
    c.variables["note"] = "my-very-secret-value"
    notes = c.save(known_secrets=["my-very-secret-value"])
    assert notes and "my-very-secret-value" not in (tmp_path / "k.toml").read_text()
    assert isinstance(load_collection(tmp_path / "k.toml").variables["note"], SecretRef)
    # ... and anywhere else (here the description) the save is refused
    d = new_collection(tmp_path / "d.toml", "d", description="see my-very-secret-value")
    with pytest.raises(CollectionError, match="would contain a secret"):
        d.save(known_secrets=["my-very-secret-value"])
    assert not (tmp_path / "d.toml").exists()


def test_literal_secret_variables_become_references(tmp_path: Path) -> None:
    c = new_collection(tmp_path / "v.toml", "v")
    c.variables.update({"password": "hunter2", "token": "abc", "user": "me"})
    notes = c.save()
    assert len(notes) == 2
    saved = load_collection(tmp_path / "v.toml")
    assert saved.variables == {
        "password": SecretRef("password", env="PASSWORD", prompt="password"),
        "token": SessionRef("access_token"),
        "user": "me",
    }
    assert b"hunter2" not in (tmp_path / "v.toml").read_bytes()


def test_clean_references_are_left_alone(tmp_path: Path) -> None:
    c = new_collection(tmp_path / "r.toml", "r")
    c.variables["mine"] = SecretRef("mine", env="MY_TOKEN")
    c.add_request(
        CollectionRequest(
            spec=RequestSpec(
                url="/x",
                name="x",
                headers=[("Authorization", "Bearer {{mine}}"), ("X-Api-Key", "{{from_cli}}")],
            )
        )
    )
    assert c.save() == []
    assert load_collection(tmp_path / "r.toml").request("x").spec.headers[0] == (
        "Authorization",
        "Bearer {{mine}}",
    )


def test_resolve_variables() -> None:
    variables = {"a": "1", "s": SecretRef("s", env="S_VAR"), "t": SessionRef("access_token")}
    got = resolve_variables(
        variables,
        resolver=SecretResolver(environ={"S_VAR": "sv"}),
        session=lambda f: "tok" if f == "access_token" else None,
    )
    assert got == {"a": "1", "s": "sv", "t": "tok"}
    with pytest.raises(SecretError, match="no session"):
        resolve_variables(variables, names=["t"])
    with pytest.raises(SecretError, match="S_VAR"):
        resolve_variables(variables, resolver=SecretResolver(environ={}), names=["s"])


# --- round-trips (hypothesis) -------------------------------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
_LINE = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=30
)
_NAME = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
    min_size=1,
    max_size=20,
).filter(str.strip)
_VAR = st.from_regex(r"v_[A-Za-z0-9_]{0,8}", fullmatch=True)
_HEADER = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,12}", fullmatch=True).filter(
    lambda h: secret_kind(h, "header") is None and not maybe_secret_name(h)
)
_FIELD = _TEXT.filter(
    lambda k: not any(secret_kind(k, w) for w in ("query", "form")) and not maybe_secret_name(k)
)
_URL = st.one_of(
    st.from_regex(
        r"https?://[a-z0-9.]{1,12}(:[0-9]{2,5})?(/[A-Za-z0-9_.~{}-]{0,8}){0,4}", fullmatch=True
    ),
    st.from_regex(r"/[A-Za-z0-9_/{}.-]{0,20}", fullmatch=True),
    _NAME.filter(lambda u: "?" not in u and "@" not in u),
)
_JSON_SCALAR = st.one_of(
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    _TEXT,
)
_JSON = st.recursive(
    _JSON_SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_TEXT, inner, max_size=3)),
    max_leaves=6,
)
_PATH = st.sampled_from(["$", "$.a", "$.data[0].id", "$['odd key']", "$.data[*].id", "$[-1]"])


@st.composite
def _expect(draw) -> Expect:
    return Expect(
        status=draw(
            st.lists(st.one_of(st.integers(100, 599), st.sampled_from(["2xx", "4xx"])), max_size=2)
        ),
        headers=draw(
            st.dictionaries(
                _HEADER,
                st.one_of(
                    st.builds(Check, st.just("equals"), _LINE),
                    st.builds(Check, st.just("contains"), _LINE),
                    st.builds(Check, st.just("exists"), st.booleans()),
                ),
                max_size=2,
            )
        ),
        json=draw(
            st.dictionaries(
                _PATH,
                st.one_of(
                    st.builds(Check, st.just("equals"), _JSON),
                    st.builds(Check, st.just("contains"), _JSON),
                    st.builds(Check, st.just("exists"), st.booleans()),
                    st.builds(Check, st.just("type"), st.sampled_from(["null", "array"])),
                ),
                max_size=3,
            )
        ),
        exists=draw(st.lists(st.one_of(_PATH, st.just("header:ETag")), max_size=2)),
        max_ms=draw(st.one_of(st.none(), st.integers(0, 10000), st.floats(0, 1e5))),
    )


@st.composite
def _request(draw, name: str) -> CollectionRequest:
    kind = draw(st.sampled_from(["none", "json", "text", "form"]))
    spec = RequestSpec(
        method=draw(st.sampled_from(METHODS)),
        url=draw(_URL),
        name=name,
        params=draw(st.lists(st.tuples(_FIELD, _TEXT), max_size=3)),
        headers=draw(st.lists(st.tuples(_HEADER, _LINE), max_size=3)),
        body_kind=kind,
        body=draw(_TEXT) if kind in ("json", "text") else "",
        form=draw(st.lists(st.tuples(_FIELD, _TEXT), max_size=3)) if kind == "form" else [],
    )
    return CollectionRequest(
        spec=spec,
        captures=draw(st.dictionaries(_VAR, st.one_of(_PATH, st.just("header:X-Id")), max_size=2)),
        expect=draw(_expect()),
        profile=draw(st.one_of(st.none(), st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True))),
    )


@st.composite
def collections(draw) -> Collection:
    names = draw(st.lists(_NAME, max_size=4, unique=True))
    return Collection(
        path=Path("gen.toml"),
        name=draw(_NAME),
        description=draw(_TEXT),
        profile=draw(st.one_of(st.none(), st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True))),
        variables=draw(
            st.dictionaries(
                _VAR,
                st.one_of(
                    _TEXT,
                    st.builds(SessionRef, st.sampled_from(["access_token", "id_token"])),
                    st.builds(
                        SecretRef,
                        st.just("x"),
                        env=st.from_regex(r"[A-Z_]{1,8}", fullmatch=True),
                        prompt=st.one_of(st.none(), _NAME),
                    ),
                ),
                max_size=3,
            )
        ),
        requests=[draw(_request(n)) for n in names],
    )


def _clean(c: Collection) -> Collection:
    # secret references carry their variable's name
    c.variables = {
        k: (SecretRef(k, env=v.env, prompt=v.prompt) if isinstance(v, SecretRef) else v)
        for k, v in c.variables.items()
    }
    return c


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(collections())
def test_collection_toml_collection_round_trip(c: Collection) -> None:
    c = _clean(c)
    text = to_toml(c)
    back = loads_collection(text, "gen.toml")
    assert back.data() == c.data()
    assert [r.spec for r in back.requests] == [r.spec for r in c.requests]
    assert to_toml(back) == text  # the canonical text is stable


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(collections(), collections(), st.data())
def test_edits_saved_into_a_commented_file_read_back_exactly(
    tmp_path: Path, first: Collection, second: Collection, data: st.DataObject
) -> None:
    first, second = _clean(first), _clean(second)
    path = tmp_path / "edit.toml"
    path.unlink(missing_ok=True)
    # a file with the user's comments around every table
    text = to_toml(first)
    text = re.sub(r"^(\[\[requests\]\])$", "# user comment\n\\1", text, flags=re.M)
    text = "# top comment\n" + text + "# the end\n"
    path.write_text(text)
    c = load_collection(path)
    for r in second.requests:  # append, replace or remove
        action = data.draw(st.sampled_from(["add", "replace", "remove"]))
        if action == "replace" and c.requests:
            victim = data.draw(st.sampled_from(c.names()))
            if r.name == victim or r.name not in c.names():
                c.replace_request(victim, r.copy())
        elif action == "remove" and c.requests:
            c.remove_request(data.draw(st.sampled_from(c.names())))
        elif r.name not in c.names():
            c.add_request(r.copy())
    c.variables.update(second.variables)
    if data.draw(st.booleans()):
        c.description = second.description
    c.save()
    saved = path.read_text()
    assert loads_collection(saved).data() == c.data()
    assert saved.startswith("# top comment\n")
    assert "# the end\n" in saved


def test_generated_names_cover_the_alphabet() -> None:
    # sanity for the strategies above: quoting-sensitive characters reach the writer
    c = Collection(
        path=Path("q.toml"),
        name="q",
        requests=[
            CollectionRequest(
                spec=RequestSpec(
                    url="/" + string.punctuation,
                    name="a\"b'c\\d\te",
                    body_kind="text",
                    body="'''\"\"\"\\\n\x01\x7f",
                )
            )
        ],
    )
    assert loads_collection(to_toml(c)).data() == c.data()


def test_saving_nothing_new_does_not_touch_the_file(tmp_path: Path) -> None:
    p = write(tmp_path, EXAMPLE)
    os.utime(p, ns=(1_000_000_000, 1_000_000_000))
    c = load_collection(p)
    assert c.save() == []
    assert p.stat().st_mtime_ns == 1_000_000_000 and p.read_text() == EXAMPLE


def test_discover_collections(tmp_path: Path) -> None:
    from workbench.core.collection.collection import discover_collections

    write(tmp_path, EXAMPLE, "a.toml")
    write(tmp_path, "version = 1\nbogus = 1\n", "b.toml")
    (tmp_path / "notes.txt").write_text("x")
    found = discover_collections(tmp_path)
    assert [c.name for c in found.collections] == ["thinger smoke"]
    assert len(found.errors) == 1 and found.errors[0].line == 2 and found.errors[0].key == "bogus"
    assert discover_collections(tmp_path / "missing").collections == []


def test_a_file_without_a_final_newline(tmp_path: Path) -> None:
    p = write(tmp_path, 'version = 1\n[collection]\nname = "n"  # the name\n[variables]\na = "1"')
    c = load_collection(p)
    c.variables["b"] = "2"
    c.description = "now described"
    c.add_request(CollectionRequest(spec=RequestSpec(url="/x", name="x")))
    c.save()
    assert p.read_text() == (
        'version = 1\n[collection]\nname = "n"  # the name\ndescription = "now described"\n'
        '[variables]\na = "1"\nb = "2"\n\n[[requests]]\nname = "x"\nmethod = "GET"\nurl = "/x"\n'
    )
