"""`workbench import curl` and `workbench export curl`.

``workbench import curl [CURL...] [--into FILE] [--name N] [--profile P]``
    Reads the curl command from the arguments (one quoted string, or the words after
    ``--``) or from stdin. Prints the request as a ``[[requests]]`` TOML table, or with
    ``--into`` appends it to the collection file (created when missing), keeping the
    rest of the file as it is. The request gets the profile whose base URL the URL starts
    with (``--profile`` to choose; of several, one with stored tokens, else the first by
    name) and its URL is written relative to it (``/path``, or ``{{urls.NAME}}/path``).
    The credentials the profile's session adds itself (Authorization, Cookie, ...) are
    dropped, exactly as the TUI's paste-curl does
    (workbench.core.collection.curl.drop_session_credentials); any other credential never
    reaches the output: it becomes a ``{{variable}}`` holding a reference (env, prompt).
    Multipart files (``-F name=@file``) are written relative to the collection's folder
    (one outside it is refused, exit 2).
    Every change is said on stderr ("note: ...").

``workbench export curl COLLECTION REQUEST [--profile P] [--with-secrets]``
    Prints the request (by name or 1-based index) as a multi-line curl command, with the
    profile's base URL, headers and the session's way of signing. Credentials are shell
    variables ($TOKEN, $PASSWORD, ...) unless ``--with-secrets``, which uses the stored
    session of the profile (``workbench login P`` first) and secrets from the
    environment/keyring.

Exit codes: 0 ok, 2 usage or file error.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from workbench.cli import EXIT_OK, EXIT_USAGE
from workbench.commands.output import emit, field, warn_tls

SENTINEL = "WBSESSIONTOKENSENTINEL"
MAX_INPUT = 1024 * 1024


def _fail(message: str, hint: str | None = None) -> int:
    emit(f"workbench: {field(message)}", sys.stderr)
    if hint:
        emit(f"  hint: {field(hint)}", sys.stderr)
    return EXIT_USAGE


def _notes(notes: list[str]) -> None:
    for n in notes:
        emit(f"note: {field(n)}", sys.stderr)


# --- import -------------------------------------------------------------------------------


def _read_command(words: list[str]) -> tuple[str | None, str | None]:
    if words:
        # one word: the whole command; more: words the shell already split (quote them back)
        text = words[0] if len(words) == 1 else shlex.join(words)
        if not re.match(r"\s*(\$\s+)?(\S*/)?curl(\.exe)?(\s|$)", text):
            text = "curl " + text
        return text, None
    stdin = sys.stdin
    if stdin is None:
        return None, "no curl command given and no stdin to read it from"
    try:
        if stdin.isatty():
            emit("Paste the curl command, then press Ctrl-D:", sys.stderr)
    except (ValueError, OSError):
        pass
    try:
        text = stdin.read(MAX_INPUT + 1)
    except (OSError, ValueError) as exc:
        return None, f"cannot read stdin: {exc}"
    if len(text) > MAX_INPUT:
        return None, "the input is larger than 1 MiB: that is not a curl command"
    if not text.strip():
        return None, "no curl command given (stdin was empty)"
    return text, None


def default_name(method: str, url: str) -> str:
    """A request name from its method and the last parts of its path: "GET devices"."""
    path = urlsplit(url).path if "://" in url else url.split("?", 1)[0]
    parts = [p for p in path.split("/") if p]
    tail = "/".join(parts[-2:]) if parts else (urlsplit(url).hostname or "request")
    return f"{method.upper()} {tail}"


def import_(args: argparse.Namespace) -> int:
    if getattr(args, "import_command", None) != "curl":
        return _fail("usage: workbench import curl [CURL...] [--into FILE] [--name N]")
    from workbench.core.collection.collection import load_or_new, request_to_toml
    from workbench.core.collection.curl import import_curl
    from workbench.core.collection.model import CollectionRequest, variable_data
    from workbench.core.collection.save import format_key, format_value
    from workbench.core.errors import WorkbenchError

    text, error = _read_command(list(args.curl or []))
    if error:
        return _fail(
            error, 'workbench import curl "curl -X POST https://..."  (or pipe the command in)'
        )
    assert text is not None
    try:
        result = import_curl(text)
    except WorkbenchError as err:
        return _fail(err.message, err.hint)
    spec = result.spec
    notes = list(result.notes)
    if args.name is not None and not args.name.strip():
        return _fail("--name must not be empty")
    name = default_name(spec.method, spec.url)
    try:
        profile = _profile_for(spec, getattr(args, "profile", None), args, notes)
    except WorkbenchError as err:
        return _fail(err.message, err.hint)
    if args.into:
        try:
            coll = load_or_new(args.into)
            spec.name = args.name or coll.unique_name(name)
            _file_paths(spec, Path(args.into).resolve().parent, notes)
            req_profile = profile if profile != coll.profile else None
            coll.add_request(CollectionRequest(spec=spec, profile=req_profile))
            notes += coll.save()
        except WorkbenchError as err:
            return _fail(err.message, err.hint)
        _notes(notes)
        emit(f"added request '{spec.name}' to {args.into}", sys.stderr)
        return EXIT_OK
    if any(p.file is not None for p in spec.parts):
        notes.append(
            "the files of the multipart body are written as given: in a collection they are "
            "relative to its folder (import with --into FILE to have them rewritten)"
        )
    spec.name = args.name or name
    table, added, more = request_to_toml(CollectionRequest(spec=spec, profile=profile))
    _notes(notes + more)
    out = []
    if added:
        out.append("# this request needs these variables in the collection's [variables]:")
        out += [f"# {format_key(k)} = {format_value(variable_data(v))}" for k, v in added.items()]
    out.append(table.rstrip("\n"))
    emit("\n".join(out), sys.stdout)
    return EXIT_OK


def _profile_for(
    spec: Any, forced: str | None, args: argparse.Namespace, notes: list[str]
) -> str | None:
    """The profile the imported request uses (its name), with its URL made relative to it
    and the credentials its session adds dropped from `spec`; notes say what was done."""
    from workbench.core.collection.curl import (
        drop_session_credentials,
        matching_profiles,
        relative_url,
        same_origin_profiles,
    )
    from workbench.core.profiles import discover, get_profile

    extra = getattr(args, "profiles", None)
    if forced:
        chosen = get_profile(forced, extra)
        candidates = [chosen]
    else:
        found = discover(extra).profiles
        candidates = [found[n] for n in sorted(found)]
    matches = matching_profiles(spec.url, candidates)
    profile: Any
    if matches:
        best = [m for m in matches if len(m.base) == len(matches[0].base)]
        match = next((m for m in best if _logged_in(m.profile)), best[0])
        others = [m.profile.name for m in best if m is not match]
        profile = match.profile
        url = relative_url(spec.url, match)
        notes.append(
            f"the URL is on the profile '{profile.name}' ({match.url_name} = {match.base}): "
            f"written as {url}"
        )
        if others:
            notes.append(
                f"the URL is also on {', '.join(others)}: --profile NAME to choose another"
            )
        spec.url = url
    else:
        same = same_origin_profiles(spec.url, candidates)
        profile = next((p for p in same if _logged_in(p)), same[0] if same else None)
        if profile is None and forced:
            profile = chosen
            notes.append(
                f"the URL is on none of the servers of '{forced}': its session will not sign it"
            )
        elif profile is not None:
            notes.append(
                f"the URL is on a server of '{profile.name}' but under none of its base URLs: "
                "kept as it is"
            )
        elif "://" in spec.url:
            notes.append(
                "no profile has this URL's server: nothing will sign the request "
                "(give --profile, or add the server to a profile's [urls])"
            )
    notes.extend(drop_session_credentials(spec, profile))
    return profile.name if profile is not None else None


def _logged_in(profile: Any) -> bool:
    from workbench.core.errors import WorkbenchError
    from workbench.core.store import TokenStore

    try:
        return TokenStore().get(profile.name, profile) is not None
    except WorkbenchError:
        return False


def _file_paths(spec: Any, folder: Path, notes: list[str]) -> None:
    """The files of a multipart body (curl read them relative to the working directory)
    made relative to the collection's `folder`; one outside it is refused (CollectionError),
    by the rule of every save into a collection (rebase_part_files)."""
    from workbench.core.collection.model import rebase_part_files

    if any(p.file is not None for p in spec.parts):
        spec.parts, more = rebase_part_files(spec.name, spec.parts, Path.cwd(), folder)
        notes.extend(more)


# --- export -------------------------------------------------------------------------------


def export(args: argparse.Namespace) -> int:
    if getattr(args, "export_command", None) != "curl":
        return _fail(
            "usage: workbench export curl COLLECTION REQUEST [--profile P] [--with-secrets]"
        )
    from workbench.core.errors import WorkbenchError

    try:
        text, notes = build_export(
            args.collection,
            args.request,
            profile_name=args.profile,
            with_secrets=args.with_secrets,
            profiles_dir=getattr(args, "profiles", None),
        )
    except WorkbenchError as err:
        return _fail(err.message, err.hint)
    _notes(notes)
    emit(text, sys.stdout)
    return EXIT_OK


def build_export(
    collection_path: str,
    request: str,
    *,
    profile_name: str | None = None,
    with_secrets: bool = False,
    profiles_dir: str | None = None,
) -> tuple[str, list[str]]:
    """(curl command, notes) for one request of a collection."""
    from dataclasses import replace

    from workbench.core.collection.collection import load_collection
    from workbench.core.collection.curl import shell_name, to_curl
    from workbench.core.collection.model import SessionRef, resolve_url
    from workbench.core.errors import SecretError
    from workbench.core.profiles import get_profile
    from workbench.core.secret_binding import Secret, SecretBinding, check_request
    from workbench.core.secrets import SecretRef, SecretResolver, tty_prompter
    from workbench.core.templating import render

    coll = load_collection(collection_path)
    req = coll.request(request)
    notes: list[str] = []
    name = profile_name or req.profile or coll.profile
    profile = get_profile(name, profiles_dir) if name else None
    if profile is not None:
        warn_tls(profile)

    values: dict[str, str] = dict(profile.template_vars()) if profile else {}
    placeholders: dict[str, str] = {}
    secrets: list[Secret] = []  # the secret values written into the command
    session = _session(profile, notes) if (profile and with_secrets) else None
    resolver = SecretResolver(prompter=tty_prompter()) if with_secrets else None
    for var, value in coll.variables.items():
        if isinstance(value, str):
            values[var] = value
        elif isinstance(value, SessionRef):
            token = _session_value(session, value.field) if session else None
            if token:
                values[var] = token
                secrets.append(Secret(var, token, value.describe()))
            else:
                placeholders[var] = "ID_TOKEN" if value.field == "id_token" else "TOKEN"
        elif isinstance(value, SecretRef):
            if resolver is not None:
                try:
                    values[var] = resolver.resolve(value)
                    secrets.append(Secret(var, values[var], value.describe()))
                    continue
                except SecretError as err:
                    notes.append(f"{err.message}; left as ${value.env or shell_name(var)}")
            placeholders[var] = value.env or shell_name(var)
    spec = req.spec
    unknown = [
        n for n in dict.fromkeys(spec.variables()) if n not in values and n not in placeholders
    ]
    for n in unknown:
        placeholders[n] = shell_name(n)
    if unknown:
        notes.append(
            "set these shell variables first (captured or given at run time): "
            + ", ".join(shell_name(n) for n in unknown)
        )

    def r(text: str) -> str:
        return render(text, values, strict=False)

    spec = replace(
        spec,
        url=r(spec.url),
        params=[(r(k), r(v)) for k, v in spec.params],
        headers=[(r(k), r(v)) for k, v in spec.headers],
        body=r(spec.body),
        form=[(r(k), r(v)) for k, v in spec.form],
        parts=[
            dataclasses.replace(
                p,
                value=None if p.value is None else r(p.value),
                file=None if p.file is None else _from_here(coll.path.parent, r(p.file)),
            )
            for p in spec.parts
        ],
    )
    base = profile.base_url if profile else None
    if spec.url.startswith("/") and not base:
        notes.append("the URL is relative: give --profile to export it with the profile's base URL")
    spec.url = resolve_url(spec.url, base)
    # --with-secrets: a secret is only written into a command for its profile's origins
    origins = session.origins if session is not None else (profile.origins() if profile else ())
    binding = SecretBinding(frozenset(origins), profile.name if profile else None)
    check_request(req.spec, spec, secrets, binding)
    if profile is not None:
        have = {k.lower() for k, _ in spec.headers}
        spec.headers = [
            (k, v) for k, v in profile.headers.items() if k.lower() not in have
        ] + spec.headers
        spec = _signed(profile, spec, session, placeholders, notes)
    if with_secrets:
        left = sorted(
            {placeholders[n] for n in spec.variables() if n in placeholders and n not in unknown}
        )
        if left:
            notes.append(
                "some credentials are still shell variables: " + ", ".join(f"${n}" for n in left)
            )
    else:
        notes.append(
            "credentials are shell variables ($TOKEN, ...); --with-secrets prints real ones"
        )
    return to_curl(spec, with_secrets=with_secrets, placeholders=placeholders), notes


def _from_here(folder: Path, file: str) -> str:
    """A multipart file of a collection (relative to its folder) as curl, run here, finds it."""
    path = folder / Path(file).expanduser()
    try:
        return os.path.relpath(path, Path.cwd())
    except ValueError:  # another drive
        return str(path.resolve())


def _session(profile: Any, notes: list[str]) -> Any:
    """The stored session of `profile` with fresh tokens, or None (with a note)."""
    if profile.auth.flow == "none":
        return None
    try:
        from workbench.core.session import Session
    except ImportError:
        notes.append("sessions are not available in this build; the token is left as $TOKEN")
        return None
    from workbench.core.errors import WorkbenchError

    try:
        session = Session.restore(profile)
    except WorkbenchError as err:
        notes.append(f"cannot read the stored session: {err.message}; the token is left as $TOKEN")
        return None
    if session is None:
        notes.append(
            f"not logged in with '{profile.name}' (run: workbench login {profile.name}); "
            "the token is left as $TOKEN"
        )
        return None
    tokens = session.tokens
    if tokens is not None and tokens.needs_refresh():
        try:
            session.ensure_fresh()
        except WorkbenchError as err:
            notes.append(
                f"the stored token could not be renewed ({err.message}); the token is left as $TOKEN"
            )
            return None
    return session


def _session_value(session: Any, field: str) -> str | None:
    tokens = getattr(session, "tokens", None)
    return getattr(tokens, field, None) if tokens is not None else None


def _signed(
    profile: Any, spec: Any, session: Any, placeholders: dict[str, str], notes: list[str]
) -> Any:
    """`spec` with what the profile's session adds when it sends it (Authorization, ...):
    the real token with a session, else a $TOKEN placeholder."""
    import httpx

    from workbench.core.auth.base import TokenSet, load_flow

    if profile.auth.flow == "none":
        return spec
    try:
        flow = session.flow if session is not None else load_flow(profile)
    except Exception as exc:  # a flow module that cannot load: fall back to a Bearer header
        notes.append(f"cannot load the profile's auth flow ({exc}); assuming a Bearer token")
        flow = None
    tokens = session.tokens if session is not None else TokenSet(access_token=SENTINEL)
    try:
        request = httpx.Request(
            spec.method, spec.url, params=spec.params or None, headers=spec.headers
        )
    except Exception:
        notes.append("the URL is not complete, so the session's credentials are not shown")
        return spec
    if session is not None and not session.may_sign(request.url):
        notes.append("the session would not sign this URL (another origin): no credential added")
        return spec
    before_url = str(request.url)
    before = {k.lower(): v for k, v in request.headers.items()}
    try:
        if flow is None:
            raise RuntimeError
        flow.apply(request, tokens)
    except Exception:
        request.headers["Authorization"] = f"Bearer {tokens.access_token}"
    token_ph = "__session_token__"
    placeholders.setdefault(token_ph, "TOKEN")

    def mark(value: str) -> str:
        return value.replace(SENTINEL, "{{" + token_ph + "}}")

    headers = list(spec.headers)
    for raw_key, raw_value in request.headers.raw:
        key, value = raw_key.decode("latin-1"), raw_value.decode("latin-1")
        if before.get(key.lower()) == value:
            continue
        headers = [(k, v) for k, v in headers if k.lower() != key.lower()]
        headers.append((key, mark(value)))
    out = dataclasses.replace(spec, headers=headers)
    if str(request.url) != before_url:
        url = request.url
        out.url = mark(str(url.copy_with(query=None)))
        out.params = [(k, mark(v)) for k, v in url.params.multi_items()]
    return out
