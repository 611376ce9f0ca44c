"""Built-in profiles, profile errors (file, line, key) and discovery order."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.authkit import write_profile
from workbench.core import paths
from workbench.core.errors import ProfileError
from workbench.core.profiles import Origin, discover, get_profile, load_profile

BUILTINS = {
    "thinger",
    "thinger-token",
    "demo-thinger",
    "iotspot",
    "demo-iotspot",
    "plgd",
    "demo-plgd",
    "demo-plgd-m2m",
}
ROOT = Path(__file__).resolve().parents[2]

GOOD = """version = 1
platform = "thinger"
description = "{desc}"

[urls]
api = "https://api.example.com"

[auth]
flow = "oauth2_password"
token_url = "{{{{urls.api}}}}/oauth/token"
username = "me"
password = {{ env = "X_PASSWORD" }}
"""


def test_builtin_profiles_load_cleanly() -> None:
    found = discover()
    mine = [e for e in found.errors if Path(e.path or "").stem in BUILTINS]
    assert mine == []
    assert set(found.profiles) >= BUILTINS
    for name in BUILTINS:
        profile = found.profiles[name]
        assert profile.source == "builtin"
        assert profile.is_demo == name.startswith("demo-")
        assert profile.verify_tls is True


def test_builtin_profile_contents() -> None:
    thinger = get_profile("thinger")
    assert thinger.base_url == "https://api.thinger.io"
    assert thinger.auth.params["token_url"] == "https://api.thinger.io/oauth/token"
    assert thinger.auth.spec.legacy and "legacy" in thinger.auth.spec.label
    assert thinger.auth.secrets["password"].env == "THINGER_PASSWORD"
    token = get_profile("thinger-token")
    assert token.auth.flow == "static_token" and token.auth.secrets["token"].env == "THINGER_TOKEN"
    iotspot = get_profile("iotspot")
    assert (
        iotspot.auth.params["token_url"]
        == "https://iotspot-m2mauth-prod.auth.eu-central-1.amazoncognito.com/oauth2/token"
    )
    assert (
        iotspot.auth.params["client_auth"] == "basic"
        and iotspot.auth.params["scope"] == "iotspot/openapi"
    )
    assert "PLACEHOLDER" in iotspot.description and iotspot.urls["api"].endswith(".invalid/v1")
    plgd = get_profile("plgd")
    assert plgd.urls == {"hub": "https://try.plgd.cloud"}
    # the authority, client and gateway come from the hub's configuration at login
    assert plgd.auth.flow == "plgd_hub" and "client_id" not in plgd.auth.params
    assert plgd.origins() == {Origin.of("https://try.plgd.cloud")}
    demo_plgd = get_profile("demo-plgd")
    assert "redirect_uri" not in demo_plgd.auth.params  # ephemeral port
    assert demo_plgd.auth.flow == "plgd_hub" and "issuer" not in demo_plgd.auth.params
    m2m = get_profile("demo-plgd-m2m")
    assert m2m.auth.params["client_id"] == "workbench-demo-confidential"
    assert m2m.auth.secrets["client_secret"].demo == "plgd-demo-client-secret-3391"
    assert (
        get_profile("demo-iotspot").auth.secrets["client_secret"].demo == "iotspot+demo/secret=8852"
    )
    assert get_profile("demo-thinger").auth.secrets["password"].demo == "thinger-demo-pass-1157"


def test_demo_profiles_follow_the_demo_url(monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_DEMO_URL", "http://127.0.0.1:4242/")
    assert get_profile("demo-thinger").base_url == "http://127.0.0.1:4242/thinger"
    assert (
        get_profile("demo-iotspot").auth.params["token_url"]
        == "http://127.0.0.1:4242/iotspot/auth/oauth2/token"
    )


@pytest.mark.parametrize(
    ("text", "line", "key", "words"),
    [
        (
            GOOD.format(desc="x").replace("version = 1", 'version = 1\ncolour = "blue"'),
            2,
            "colour",
            "unknown key 'colour'",
        ),
        (
            GOOD.format(desc="x") + 'colour = "blue"\n',
            13,
            "auth.colour",
            "unknown key 'colour' for flow",
        ),
        (
            GOOD.format(desc="x").replace('username = "me"', 'username = "me"\nflavour = "x"'),
            12,
            "auth.flavour",
            "unknown key 'flavour'",
        ),
        (
            GOOD.format(desc="x") + 'client_auth = "digest"\n',
            13,
            "auth.client_auth",
            "must be one of",
        ),
        (
            GOOD.format(desc="x").replace(
                'password = { env = "X_PASSWORD" }', 'password = "hunter2-literal"'
            ),
            12,
            "auth.password",
            "never holds a secret value",
        ),
        (
            GOOD.format(desc="x").replace(
                'password = { env = "X_PASSWORD" }', 'password = { env = "X", demo = "demo-pw" }'
            ),
            12,
            "auth.password",
            "only allowed in profiles whose URLs are all on loopback",
        ),
        (
            GOOD.format(desc="x").replace("version = 1", "version = 2"),
            1,
            "version",
            "'version' must be 1",
        ),
        (
            GOOD.format(desc="x").replace('"https://api.example.com"', '"http://api.example.com"'),
            6,
            "urls.api",
            "plain http",
        ),
    ],
)
def test_profile_errors_name_file_line_and_key(tmp_path, text, line, key, words) -> None:
    path = write_profile(tmp_path, "broken", text)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    err = info.value
    assert err.path == str(path)
    assert err.line == line
    assert err.key == key
    assert words in err.message
    assert err.column is not None and f"{path}:{line}:{err.column}: " in str(err)


def test_malformed_toml_has_line_and_column(tmp_path) -> None:
    path = write_profile(tmp_path, "bad", 'version = 1\nplatform = "thinger"\n[urls\napi = "x"\n')
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert info.value.line == 3 and info.value.column is not None
    assert str(info.value).startswith(f"{path}:3:")
    assert "not valid TOML" in info.value.message


def test_discovery_order_dir_then_user_then_builtin(tmp_path) -> None:
    user_dir = paths.user_profiles_dir()
    write_profile(user_dir, "thinger", GOOD.format(desc="from the user dir"))
    write_profile(user_dir, "only-user", GOOD.format(desc="user only"))
    extra = tmp_path / "extra"
    write_profile(extra, "thinger", GOOD.format(desc="from --profiles"))
    found = discover(extra)
    assert found.profiles["thinger"].description == "from --profiles"
    assert found.profiles["thinger"].source == "dir"
    assert found.profiles["only-user"].source == "user"
    assert found.profiles["demo-thinger"].source == "builtin"
    found = discover()
    assert found.profiles["thinger"].description == "from the user dir"
    assert found.profiles["thinger"].source == "user"
    (user_dir / "thinger.toml").unlink()
    assert discover().profiles["thinger"].source == "builtin"


def test_broken_profile_is_listed_not_fatal(tmp_path) -> None:
    extra = tmp_path / "extra"
    write_profile(
        extra, "oops", 'version = 1\nplatform = "nope"\n[urls]\napi = "https://a.example"\n'
    )
    found = discover(extra)
    assert "thinger" in found.profiles
    assert (
        len(found.errors) == 1 and found.errors[0].line == 2 and found.errors[0].key == "platform"
    )
    with pytest.raises(ProfileError) as info:
        get_profile("oops", extra)
    assert info.value.key == "platform"
    with pytest.raises(ProfileError) as info:
        get_profile("no-such-profile")
    assert "demo-thinger" in info.value.hint


@pytest.mark.slow
def test_non_editable_install_finds_builtin_profiles(tmp_path) -> None:
    import shutil

    # build from a copy, so no build/ or egg-info lands in the working tree
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, src / name)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "workbench", src / "workbench", ignore=skip)
    shutil.copytree(ROOT / "profiles", src / "profiles", ignore=skip)
    target = tmp_path / "site"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            str(target),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    said = (build.stderr + build.stdout).lower()
    if build.returncode != 0 and ("could not find a version" in said or "network" in said):
        pytest.skip("pip cannot fetch the build backend (setuptools) here")
    assert build.returncode == 0, build.stderr[-2000:]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(target)
    code = (
        "import json, workbench; from workbench.core.profiles import discover;"
        "d = discover(); print(json.dumps({'file': workbench.__file__, "
        "'names': sorted(n for n, p in d.profiles.items() if p.source == 'builtin')}))"
    )
    run = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {code}"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    import json

    out = json.loads(run.stdout)
    assert out["file"].startswith(str(target))
    assert set(out["names"]) >= BUILTINS
