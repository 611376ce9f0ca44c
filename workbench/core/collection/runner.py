"""Replaying a collection: variables, captures and expectations, request by request.

Used by `workbench run` and by the TUI's "replay". Pure core: sessions come from a
callable the caller supplies (`session_for(profile_name) -> Session | None`), so the
runner never decides how a person logs in.

Variables, later ones winning: the profile's (`{{urls.NAME}}`, `{{demo_url}}`, [variables]),
the collection's [variables] (secret references resolved, `{session = "access_token"}`
taken from the session), `--var K=V`, then values captured by earlier requests.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from workbench.core.collection.collection import Collection
from workbench.core.collection.expectations import (
    CaptureResult,
    CheckResult,
    captured,
    check_expectations,
    run_captures,
)
from workbench.core.collection.model import CollectionRequest, SessionRef
from workbench.core.errors import CollectionError, TransportError, WorkbenchError
from workbench.core.requests import ResponseRecord, send
from workbench.core.secret_binding import (
    EXTENSION,
    Secret,
    SecretBinding,
    check_request,
    token_secrets,
)
from workbench.core.secrets import (
    Redactor,
    SecretRef,
    SecretResolver,
    looks_like_credential,
    maybe_secret_name,
    secret_kind,
)
from workbench.core.text import escape_keep_newlines

if TYPE_CHECKING:
    import httpx

    from workbench.core.profiles import Profile
    from workbench.core.session import Session


@dataclass
class RequestResult:
    index: int
    name: str
    method: str
    url: str
    profile: str | None
    status: int | None = None
    elapsed_ms: float | None = None
    size: int | None = None
    checks: list[CheckResult] = field(default_factory=list)
    captures: list[CaptureResult] = field(default_factory=list)
    error: str | None = None  # the request could not be made / answered (words)

    @property
    def passed(self) -> bool:
        return (
            self.error is None
            and all(c.passed for c in self.checks)
            and all(c.ok for c in self.captures)
        )

    def failures(self) -> list[str]:
        out = [c.message for c in self.checks if not c.passed]
        out += [c.message for c in self.captures if not c.ok]
        if self.error:
            out.insert(0, self.error)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "method": self.method,
            "url": self.url,
            "profile": self.profile,
            "passed": self.passed,
            "status": self.status,
            "elapsed_ms": self.elapsed_ms,
            "size": self.size,
            "error": self.error,
            "checks": [c.to_json() for c in self.checks],
            "captures": [c.to_json() for c in self.captures],
        }


@dataclass
class RunReport:
    collection: str
    path: str
    results: list[RequestResult] = field(default_factory=list)
    started_at: float = field(default_factory=time.time)
    duration_ms: float = 0.0
    bailed: bool = False
    skipped: int = 0

    @property
    def passed(self) -> int:
        return sum(1 for r in self.results if r.passed)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def to_json(self) -> dict[str, Any]:
        """The stable `workbench run --json` shape (documented in docs/collections.md)."""
        return {
            "version": 1,
            "collection": self.collection,
            "path": self.path,
            "ok": self.ok,
            "total": len(self.results) + self.skipped,
            "passed": self.passed,
            "failed": self.failed,
            "skipped": self.skipped,
            "bailed": self.bailed,
            "duration_ms": round(self.duration_ms, 1),
            "requests": [r.to_json() for r in self.results],
        }

    def to_junit(self) -> str:
        """JUnit XML: one testsuite for the collection, one testcase per request."""
        from xml.etree import ElementTree as ET

        suites = ET.Element("testsuites", name="workbench run")
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=self.collection,
            tests=str(len(self.results) + self.skipped),
            failures=str(sum(1 for r in self.results if not r.passed and r.error is None)),
            errors=str(sum(1 for r in self.results if r.error is not None)),
            skipped=str(self.skipped),
            time=f"{self.duration_ms / 1000:.3f}",
        )
        for r in self.results:
            case = ET.SubElement(
                suite,
                "testcase",
                name=r.name,
                classname=self.collection,
                time=f"{(r.elapsed_ms or 0) / 1000:.3f}",
            )
            if r.error is not None:
                err = ET.SubElement(case, "error", message=r.error)
                err.text = r.error
            elif not r.passed:
                fail = ET.SubElement(case, "failure", message="; ".join(r.failures()))
                fail.text = "\n".join(r.failures())
            out = [f"{r.method} {r.url} -> {r.status} ({r.elapsed_ms} ms)"]
            out += [("PASS " if c.passed else "FAIL ") + c.message for c in r.checks]
            out += [("CAPTURE " if c.ok else "NO CAPTURE ") + c.message for c in r.captures]
            ET.SubElement(case, "system-out").text = "\n".join(out)
        ET.indent(suites)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            + ET.tostring(suites, encoding="unicode")
            + "\n"
        )


SessionFor = Callable[[str], "Session"]
MAX_LEARN = 2 * 1024 * 1024  # answers up to this size are searched for issued credentials


def secret_capture(c: CaptureResult) -> bool:
    """True when a captured value is a credential: its variable or the field / header it
    came from is named like one (`token`, `*secret*`, `password`, ...), or it looks like
    one (a JWT, a long high-entropy run). Reports then show it redacted, wherever it goes."""
    value = c.value or ""
    names = [c.name.rsplit(".", 1)[-1]]
    if c.source.lower().startswith("header:"):
        header = c.source.split(":", 1)[1].strip()
        if secret_kind(header, "header"):
            return True
        names.append(header)
    else:
        names += re.findall(r"[A-Za-z_][A-Za-z0-9_-]*", c.source)[-1:]
    return (
        any(secret_kind(n, "query") for n in names)
        or (any(maybe_secret_name(n) for n in names) and len(value) >= 6)
        or looks_like_credential(value)
    )


REFUSED = {401: "the server refused the credentials", 403: "the server refused access"}


def refused_check(
    status: int, wanted: list[int | str], profile_name: str | None
) -> CheckResult | None:
    """A failed status check for a 401 / 403 answer when the request has no status
    expectation (which then decides alone): a refused request never counts as passed."""
    if status not in REFUSED or wanted:
        return None
    why = (
        "the request has no profile, so nothing signed it: set `profile` in the collection "
        "or pass --profile"
        if profile_name is None
        else f"is the session of '{profile_name}' the right one for this URL?"
    )
    message = (
        f"status {status}: {REFUSED[status]} ({why}); "
        f"add `status = {status}` to the request's [requests.expect] if this is what it tests"
    )
    return CheckResult("status", "status", False, message, [], status)


class Runner:
    """Runs a collection's requests in order. Auth failures propagate (AuthError, exit 3);
    everything else about a request becomes that request's result."""

    def __init__(
        self,
        collection: Collection,
        *,
        session_for: SessionFor | None = None,
        profile_for: Callable[[str], Profile] | None = None,
        default_profile: str | None = None,
        variables: Mapping[str, str] | None = None,
        resolver: SecretResolver | None = None,
        bail: bool = False,
        on_result: Callable[[RequestResult], None] | None = None,
        client_for: Callable[[Session | None], httpx.Client] | None = None,
        files_anywhere: bool = False,
    ) -> None:
        self.collection = collection
        self.session_for = session_for
        self.profile_for = profile_for
        self.default_profile = default_profile or collection.profile
        self.overrides = dict(variables or {})
        self.resolver = resolver or SecretResolver()
        self.bail = bail
        self.on_result = on_result
        self._client_for = client_for
        self.files_anywhere = files_anywhere  # multipart files outside the collection's folder
        self._clients: dict[str | None, httpx.Client] = {}
        self._sessions: dict[str, Session] = {}
        self.redactor = Redactor()
        self._resolved: list[Secret] = []  # secret references resolved (found by value too)

    # -- pieces ------------------------------------------------------------------------
    def _session(self, name: str | None) -> Session | None:
        if name is None or self.session_for is None:
            return None
        if name not in self._sessions:
            self._sessions[name] = self.session_for(name)
        return self._sessions[name]

    def _client(self, profile_name: str | None, session: Session | None) -> httpx.Client:
        if profile_name not in self._clients:
            if self._client_for is not None:
                self._clients[profile_name] = self._client_for(session)
            elif session is not None:
                self._clients[profile_name] = session.client()
            else:
                from workbench.core.http import make_client

                self._clients[profile_name] = make_client(None)
        return self._clients[profile_name]

    def _variables(self, session: Session | None) -> dict[str, str]:
        out: dict[str, str] = {}
        if session is not None:
            out.update(session.profile.template_vars())
        for name, value in self.collection.variables.items():
            if isinstance(value, SessionRef):
                tokens = session.ensure_fresh() if session is not None else None
                secret = getattr(tokens, value.field, None) if tokens is not None else None
                if secret:
                    out[name] = secret
                    self.redactor.add(secret)
            elif isinstance(value, SecretRef):
                secret = self.resolver.resolve(value)
                out[name] = secret
                self.redactor.add(secret)
                self._resolved.append(Secret(name, secret, value.describe()))
            else:
                out[name] = value
        return out

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    # -- the run ----------------------------------------------------------------------
    def run(self) -> RunReport:
        report = RunReport(collection=self.collection.name, path=str(self.collection.path))
        start = time.perf_counter()
        captures: dict[str, str] = {}
        base_vars: dict[str | None, dict[str, str]] = {}
        try:
            for i, req in enumerate(self.collection.requests, 1):
                result = self.run_one(i, req, captures, base_vars)
                report.results.append(result)
                if self.on_result:
                    self.on_result(result)
                if self.bail and not result.passed:
                    report.bailed = True
                    report.skipped = len(self.collection.requests) - i
                    break
        finally:
            report.duration_ms = (time.perf_counter() - start) * 1000
            self.close()
        return report

    def run_one(
        self,
        index: int,
        req: CollectionRequest,
        captures: dict[str, str],
        base_vars: dict[str | None, dict[str, str]],
    ) -> RequestResult:
        profile_name = req.profile or self.default_profile
        session = self._session(profile_name)
        if profile_name not in base_vars:
            base_vars[profile_name] = self._variables(session)
            if session is not None and session.tokens is not None:
                for secret in session.tokens.secrets():
                    self.redactor.add(secret)
            if session is not None:  # what the login sent: the password, the client secret
                for trace in getattr(session, "traces", ()):
                    self.redactor.extend(trace.redactor)
        variables = {**base_vars[profile_name], **self.overrides, **captures}
        base_url = session.profile.base_url if session is not None else None
        result = RequestResult(
            index=index,
            name=req.name,
            method=req.spec.method.upper(),
            url=self._safe(req.spec.url),
            profile=profile_name,
        )
        try:
            spec = req.prepare(
                variables,
                base_url,
                files_dir=self.collection.path.parent,
                files_anywhere=self.files_anywhere,
            )
        except CollectionError as err:
            result.error = err.describe()
            return result
        result.url = self._safe(spec.url)
        # secrets go only to the profile's own origins (refused before anything is sent)
        carried = check_request(
            req.spec,
            spec,
            self._secrets(profile_name, variables, captures),
            self._binding(profile_name, session),
            known=[
                *token_secrets(session.tokens if session is not None else None),
                *self._resolved,
            ],
        )
        client = self._client(profile_name, session)
        try:
            response: ResponseRecord = send(
                client, spec, extensions={EXTENSION: carried} if carried else None
            )
        except TransportError as err:
            result.error = self._safe(err.describe())
            return result
        except WorkbenchError as err:
            if err.__class__.__name__ in (
                "SecretOriginError",
                "AuthError",
                "LoginRequired",
                "SecretError",
                "CallbackError",
            ):
                raise
            result.error = self._safe(err.describe())
            return result
        result.status = response.status
        result.elapsed_ms = response.elapsed_ms
        result.size = response.size
        if response.size <= MAX_LEARN:  # tokens the answer issued (fields named like secrets, JWTs)
            self.redactor.learn(response.text())
        checks = check_expectations(req.expect, response)
        refused = refused_check(response.status, req.expect.status, profile_name)
        if refused is not None:
            checks.insert(0, refused)
        taken = run_captures(req.captures, response)
        for c in taken:
            if c.ok and c.value is not None and secret_capture(c):
                self.redactor.add(c.value)
        captures.update(captured(taken))
        result.checks = [replace(c, message=self._safe(c.message)) for c in checks]
        result.captures = [self._safe_capture(c) for c in taken]
        return result

    def _secrets(
        self, profile_name: str | None, variables: Mapping[str, str], captures: Mapping[str, str]
    ) -> list[Secret]:
        """The variables of this request that hold a secret from a reference (a session
        token, env, prompt, keyring), unless --var or a capture replaced them."""
        out: list[Secret] = []
        for name, value in self.collection.variables.items():
            if not isinstance(value, SessionRef | SecretRef):
                continue
            if name in self.overrides or name in captures or name not in variables:
                continue
            out.append(Secret(name, variables[name], value.describe()))
        return out

    def _binding(self, profile_name: str | None, session: Session | None) -> SecretBinding:
        """Where this profile's secrets may go: its own origins."""
        if session is not None:
            return SecretBinding(frozenset(session.origins), profile_name)
        if profile_name is not None and self.profile_for is not None:
            return SecretBinding(frozenset(self.profile_for(profile_name).origins()), profile_name)
        return SecretBinding(frozenset(), profile_name)

    def _safe(self, text: str) -> str:
        return escape_keep_newlines(self.redactor(text))

    def _safe_capture(self, c: CaptureResult) -> CaptureResult:
        return CaptureResult(c.name, c.source, c.ok, c.value, self._safe(c.message))
