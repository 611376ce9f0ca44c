"""RequestComposer: edit a request, send it with the session, read the answer.

- Method, URL (``{{variables}}`` from the profile; unknown ones are named as you type and
  the request is not sent while any is unknown), query and headers (one ``name=value`` /
  ``Name: value`` a line), body (none / json / text / form; JSON validated as you type).
- The session's auth signs the request at send time; the composer never puts a token in
  the request (so a request saved to a collection holds none).
- Send (Ctrl+S, Ctrl+Enter, Enter in the URL) runs in an exclusive async worker: a newer
  send cancels the older one and its answer is dropped; Esc cancels. Errors are shown in
  words. A ``text/event-stream`` answer is streamed into the view as it arrives.
- Ctrl+O imports a pasted curl command; Ctrl+B saves the request into a collection.
- Each answer's Sent tab shows the request as it went on the wire (captured from the httpx
  request actually sent, masked by value in core: workbench.core.history.sent), and every
  answer is recorded, redacted, in the history (workbench.core.history.store), off the UI
  thread. The Variables tab lists the variables ``{{name}}`` can use and which one wins.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static, TabbedContent, TabPane, TextArea
from textual.worker import Worker

from workbench.core.errors import SecretOriginError, TransportError, WorkbenchError
from workbench.core.history.sent import Masker, SentRequest, Timings, capture_sent
from workbench.core.requests import BODY_KINDS, METHODS, BodyPart, RequestSpec
from workbench.core.secret_binding import (
    Carried,
    SecretBinding,
    check_request,
    mark,
    token_secrets,
)
from workbench.core.text import escape_control, escape_keep_newlines
from workbench.tui.widgets.key_value_editor import KeyValueEditor
from workbench.tui.widgets.response_view import ResponseView
from workbench.tui.widgets.variables_panel.layers import session_rows
from workbench.tui.widgets.variables_panel.variables_panel import VariablesPanel

if TYPE_CHECKING:
    import httpx

    from workbench.core.catalog.model import Operation
    from workbench.core.catalog.profile_catalogs import ProfileCatalog
    from workbench.core.history.store import HistoryEntry, HistoryStore
    from workbench.core.profiles import Profile
    from workbench.core.requests import ResponseRecord

EVENT_STREAM = "text/event-stream"


def resolve_url(url: str, base_url: str) -> str:
    """A URL starting with "/" is relative to the profile's base URL."""
    return base_url.rstrip("/") + url if url.startswith("/") and base_url else url


OUTSIDE_HINT = (
    "keep uploaded files in the collection's folder (or below it); "
    "`workbench run --allow-outside-files` sends a collection you trust"
)


def collection_files(spec: RequestSpec, files_dir: Path) -> RequestSpec:
    """``spec`` with its multipart files resolved against ``files_dir`` (a collection's
    folder; file-system work: call it off the UI thread): absolute paths that must stay in
    that folder, by the same rule as `workbench run` (CollectionError otherwise)."""
    from workbench.core.collection.model import part_files

    return replace(spec, parts=part_files(spec.name, spec.parts, files_dir, hint=OUTSIDE_HINT))


def with_files(template: RequestSpec, resolved: RequestSpec) -> RequestSpec:
    """The edited ``template`` with each file part's path as it was ``resolved`` (what the
    history keeps, so that reopening the entry finds the files wherever the app runs)."""
    if len(template.parts) != len(resolved.parts):
        return template
    parts = [
        replace(mine, file=sent.file) if mine.file is not None and sent.file is not None else mine
        for mine, sent in zip(template.parts, resolved.parts, strict=True)
    ]
    return replace(template, parts=parts)


class RequestComposer(Vertical):
    """The request editor on top, the :class:`ResponseView` below."""

    DEFAULT_CSS = """
    RequestComposer { height: 1fr; }
    RequestComposer #composer-bar { height: 1; margin: 0 1; }
    RequestComposer #composer-method { width: 12; }
    RequestComposer #composer-url { width: 1fr; margin: 0 1; }
    RequestComposer #composer-send { min-width: 8; }
    RequestComposer #composer-hint { height: 1; padding: 0 1; color: $text-muted; }
    RequestComposer #composer-hint.-warning { color: $text-warning; }
    RequestComposer #composer-api-check { height: auto; max-height: 2; padding: 0 1; color: $text-muted; display: none; }
    RequestComposer #composer-api-check.-warning { color: $text-warning; }
    RequestComposer #composer-tabs { height: 35%; min-height: 5; max-height: 14; }
    RequestComposer #composer-tabs > ContentSwitcher { height: 1fr; }
    RequestComposer #composer-tabs TabPane { padding: 0 1; height: 1fr; }
    RequestComposer #composer-body-bar { height: 1; }
    RequestComposer #composer-body-kind { width: 12; }
    RequestComposer #composer-body-error { width: 1fr; padding: 0 1; color: $text-success; }
    RequestComposer #composer-body-error.-invalid { color: $text-error; }
    RequestComposer #composer-tabs TextArea { height: 1fr; border: none; padding: 0 1; background: $boost; }
    RequestComposer #composer-tabs TextArea:focus { background: $boost 200%; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s,ctrl+enter", "send", "Send", id="composer.send"),
        Binding("escape", "cancel", "Cancel", id="composer.cancel"),
        Binding("ctrl+o", "paste_curl", "Paste curl", id="composer.paste_curl"),
        Binding("ctrl+b", "save_to_collection", "Save to collection", id="composer.save"),
    ]

    class Recorded(Message):
        """An exchange was written to the history (``entry_id``), or could not be (``error``)."""

        def __init__(self, entry_id: int | None, error: str | None = None) -> None:
            super().__init__()
            self.entry_id = entry_id
            self.error = error

    def __init__(
        self,
        profile: Profile,
        session: Any,
        *,
        history: HistoryStore | None | bool = True,
        **kwargs: Any,
    ) -> None:
        """`history`: the store to record every answer in (True: the default one in the data
        dir; False / None: none)."""
        super().__init__(**kwargs)
        self.profile = profile
        self.session = session
        self._history_arg = history
        self._history: HistoryStore | None = None
        self._session_path: str | None = None
        self.variables: dict[str, str] = {}
        """Extra variables (e.g. a collection's), over the profile's."""
        self.source_collection: Path | None = None
        """The collection file the loaded request came from (its variables go along on save;
        its multipart files are read from its folder, see :attr:`files_dir`)."""
        self.request_name = ""
        """The name of the loaded request (kept when it is saved to a collection)."""
        self.api_operation: tuple[ProfileCatalog, Operation] | None = None
        """The API-catalog operation the request was built from (checked as it is edited,
        its response checked against the documented schema); None for any other request."""
        self._api_generation = 0
        self._generation = 0
        self._worker: Worker[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._client_lock = asyncio.Lock()

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="composer-bar"):
            yield Select(
                [(m, m) for m in METHODS],
                value="GET",
                allow_blank=False,
                compact=True,
                id="composer-method",
            )
            yield Input(
                placeholder="https://… or {{urls.api}}/path — Enter sends",
                compact=True,
                id="composer-url",
            )
            yield Button("Send", id="composer-send", compact=True, variant="primary")
        yield Static("", id="composer-hint", markup=False)
        yield Static("", id="composer-api-check", markup=False)
        with TabbedContent(id="composer-tabs"):
            with TabPane("Query", id="composer-query-tab"):
                yield KeyValueEditor(
                    "=",
                    placeholder="name=value, one a line (# switches a line off)",
                    id="composer-query",
                )
            with TabPane("Headers", id="composer-headers-tab"):
                yield KeyValueEditor(
                    ":",
                    placeholder="Name: value, one a line (auth is added by the session)",
                    id="composer-headers",
                )
            with TabPane("Body", id="composer-body-tab"):
                with Horizontal(id="composer-body-bar"):
                    yield Select(
                        [(k, k) for k in BODY_KINDS],
                        value="none",
                        allow_blank=False,
                        compact=True,
                        id="composer-body-kind",
                    )
                    yield Label("", id="composer-body-error")
                yield TextArea(
                    id="composer-body",
                    soft_wrap=True,
                    tab_behavior="focus",
                    placeholder="the request body",
                )
                yield KeyValueEditor("=", placeholder="field=value, one a line", id="composer-form")
            with TabPane("Variables", id="composer-variables-tab"):
                yield VariablesPanel(id="composer-variables")
        yield ResponseView(id="response")

    def on_mount(self) -> None:
        self._body_kind_changed("none")
        self._update_hint()
        self.refresh_variables()
        # Warm up off the UI thread: the client's TLS context (~30 ms) and httpcore's
        # first-use imports would otherwise stall the first send.
        self.run_worker(self._get_client(), group="composer-client", exit_on_error=False)

    def on_show(self) -> None:
        """Shown (e.g. its tab was picked) with nothing focused: focus the URL."""
        if self.screen.focused is None:
            self.query_one("#composer-url", Input).focus()

    async def on_unmount(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    # ------------------------------------------------------------------ parts

    @property
    def response(self) -> ResponseView:
        return self.query_one(ResponseView)

    @property
    def sending(self) -> bool:
        return self._worker is not None and self._worker.is_running

    def known_variables(self) -> dict[str, str]:
        return {**self.profile.template_vars(), **self.variables}

    def refresh_variables(self) -> None:
        """Show the variables as they are now (profile, collection; secrets masked)."""
        secrets = getattr(getattr(self.session, "tokens", None), "secrets", None)
        known = [*(secrets() if callable(secrets) else ()), *self._handed_out()]
        headers, query = self._session_adds()  # (sets _session_path)
        self.query_one(VariablesPanel).show(
            self.profile.template_vars(),
            self.variables,
            known,
            session=session_rows(headers, query, known, path=self._session_path),
        )

    def _session_adds(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """The headers and query parameters the session's auth adds to a request to the
        profile's base URL (a throw-away request signed with the current tokens, no I/O)."""
        import httpx

        flow = getattr(self.session, "flow", None)
        tokens = getattr(self.session, "tokens", None)
        base = self.profile.base_url or next(
            iter(sorted(o.url for o in self.profile.origins())), ""
        )
        self._session_path = None
        if flow is None or tokens is None or not base:
            return [], []
        try:
            request = httpx.Request("GET", base)
            before_headers = set(request.headers.multi_items())
            before_query = set(request.url.params.multi_items())
            before_path = request.url.path
            flow.apply(request, tokens)
        except Exception:  # a flow that cannot sign offline: nothing to list
            return [], []
        if request.url.path != before_path:
            self._session_path = f"{before_path} -> {request.url.path}"
        headers = [p for p in request.headers.multi_items() if p not in before_headers]
        query = [p for p in request.url.params.multi_items() if p not in before_query]
        return headers, query

    def _handed_out(self) -> list[str]:
        """The secrets the session's resolver gave out so far (no keyring look-up: this runs
        on the UI thread)."""
        resolver = getattr(self.session, "resolver", None)
        return [v for v in getattr(resolver, "handed_out", ()) or () if isinstance(v, str)]

    def _secret_values(self) -> list[str]:
        """The values to mask: the session's tokens, the profile's secrets that can be had
        without asking (no prompt, no network)."""
        from workbench.core.collection.credentials import known_secrets_of

        return [v for v in known_secrets_of(self.session) if isinstance(v, str)]

    def masker(self) -> Masker:
        """What the Sent view and the history mask: every known secret, and the variables
        (profile's and collection's) named like credentials or looking like one."""
        from workbench.tui.widgets.variables_panel.layers import secret_variable_values

        masker = Masker(self._secret_values())
        for value in secret_variable_values(self.known_variables()):
            masker.add(value)
        return masker

    @property
    def history(self) -> HistoryStore | None:
        if self._history is None and self._history_arg:
            from workbench.core.history.store import HistoryStore

            arg = self._history_arg
            self._history = arg if isinstance(arg, HistoryStore) else HistoryStore()
        return self._history

    @property
    def spec(self) -> RequestSpec:
        """The request as edited (not rendered)."""
        method = self.query_one("#composer-method", Select).value
        kind = self.query_one("#composer-body-kind", Select).value
        form = self.query_one("#composer-form", KeyValueEditor).pairs
        parts: list[BodyPart] = []
        if kind == "multipart":  # the form lines in curl's -F syntax (name=@file;type=...)
            from workbench.core.collection.curl import form_parts

            parts, form = form_parts(form), []
        return RequestSpec(
            method=str(method) if isinstance(method, str) else "GET",
            url=self.query_one("#composer-url", Input).value.strip(),
            params=self.query_one("#composer-query", KeyValueEditor).pairs,
            headers=self.query_one("#composer-headers", KeyValueEditor).pairs,
            body_kind=str(kind) if isinstance(kind, str) else "none",
            body=self.query_one("#composer-body", TextArea).text,
            form=form,
            parts=parts,
            name=self.request_name,
        )

    @property
    def files_dir(self) -> Path | None:
        """The folder a multipart body's files are read from: the collection's folder for a
        request opened from a collection (a file outside it is refused, as `workbench run`
        does), else None (a relative path is relative to the working directory, as curl's)."""
        return self.source_collection.parent if self.source_collection is not None else None

    def load(
        self,
        spec: RequestSpec,
        *,
        operation: tuple[ProfileCatalog, Operation] | None = None,
        source: Path | None = None,
    ) -> None:
        """Fill every field from ``spec``; ``operation``: the API-catalog operation it was
        built from (its documented parameters and schemas are then checked as you edit);
        ``source``: the collection file it came from (None for any other request)."""
        self.api_operation = operation
        self.source_collection = source
        method = spec.method.upper() or "GET"
        select = self.query_one("#composer-method", Select)
        if method not in METHODS:
            select.set_options([(m, m) for m in (*METHODS, method)])
        select.value = method
        self.query_one("#composer-url", Input).value = spec.url
        self.query_one("#composer-query", KeyValueEditor).set_pairs(spec.params)
        self.query_one("#composer-headers", KeyValueEditor).set_pairs(spec.headers)
        self.query_one("#composer-body", TextArea).load_text(spec.body)
        if spec.body_kind == "multipart":
            from workbench.core.collection.curl import part_pairs

            self.query_one("#composer-form", KeyValueEditor).set_pairs(part_pairs(spec.parts))
        else:
            self.query_one("#composer-form", KeyValueEditor).set_pairs(spec.form)
        kind = spec.body_kind if spec.body_kind in BODY_KINDS else "text"
        self.query_one("#composer-body-kind", Select).value = kind
        self._body_kind_changed(kind)
        self.request_name = spec.name
        self._update_hint()
        self.refresh_variables()
        if self.screen.focused is None:
            self.query_one("#composer-url", Input).focus()

    def reopen(self, entry: HistoryEntry) -> None:
        """Load a history entry: its request (as edited) into the fields, and what was sent
        and answered then (as stored: redacted, the body cut at the history's cap) below."""
        from workbench.core.requests import ResponseRecord

        if entry.request is not None:
            self.load(entry.request)
        record = ResponseRecord(
            status=entry.status,
            reason=entry.reason,
            http_version="",
            url=entry.url,
            method=entry.method,
            headers=list(entry.response_headers),
            body=entry.body,
            elapsed_ms=entry.elapsed_ms,
            started_at=entry.created,
        )
        self.response.show(record)
        self.response.show_sent(entry.sent)
        self.notify(
            f"history entry #{entry.id} reopened (the answer shown is the stored one)", timeout=3
        )

    # ------------------------------------------------------------------ live checks

    def problems(self) -> list[str]:
        """Why the request cannot be sent as it is (empty when it can)."""
        spec = self.spec
        out: list[str] = []
        if not spec.url:
            out.append("the URL is empty")
        unknown = self.unknown_variables(spec)
        if unknown:
            out.append(self._unknown_text(unknown))
        for editor_id, what in (
            ("#composer-query", "query"),
            ("#composer-headers", "headers"),
            ("#composer-form", "form"),
        ):
            if editor_id == "#composer-form" and spec.body_kind != "form":
                continue
            out.extend(f"{what}, {p}" for p in self.query_one(editor_id, KeyValueEditor).problems)
        error = spec.json_error()
        if error:
            out.append(f"body: {error}")
        return out

    def unknown_variables(self, spec: RequestSpec | None = None) -> list[str]:
        known = self.known_variables()
        return [n for n in (spec or self.spec).variables() if n not in known]

    @staticmethod
    def _unknown_text(names: list[str]) -> str:
        listed = ", ".join("{{" + n + "}}" for n in names)
        return (
            f"unknown variable{'s' if len(names) > 1 else ''} {listed} — "
            "define in the profile's [variables]"
        )

    def _update_hint(self) -> None:
        self._schedule_api_check()
        hint = self.query_one("#composer-hint", Static)
        unknown = self.unknown_variables()
        if unknown:
            hint.update("⚠ " + escape_control(self._unknown_text(unknown)))
            hint.add_class("-warning")
            return
        hint.remove_class("-warning")
        hint.update(
            f"🔒 auth applied automatically from the session ({self.profile.auth.spec.label})"
        )

    # ------------------------------------------------------------------ API-catalog checks

    class ApiChecked(Message):
        def __init__(self, generation: int, operation_id: str, warnings: list[str]) -> None:
            super().__init__()
            self.generation = generation
            self.operation_id = operation_id
            self.warnings = warnings

    def _schedule_api_check(self) -> None:
        """Check the request against its documented operation, off the UI thread (a schema
        check of a big body against a big document is not free); a stale result is dropped."""
        line = self.query_one("#composer-api-check", Static)
        if self.api_operation is None:
            line.display = False
            return
        self._api_generation += 1
        generation, spec = self._api_generation, self.spec
        catalog, operation = self.api_operation

        def check() -> None:
            from workbench.core.catalog.validate import check_request

            try:
                warnings = check_request(catalog.opened.document(), operation, spec)
            except Exception as exc:  # noqa: BLE001 - a check must never break the composer
                warnings = [f"not checked: {type(exc).__name__}"]
            self.post_message(self.ApiChecked(generation, operation.operation_id, warnings))

        self.run_worker(check, thread=True, group="composer-api-check", exclusive=True)

    def on_request_composer_api_checked(self, event: ApiChecked) -> None:
        event.stop()
        if event.generation != self._api_generation or self.api_operation is None:
            return
        line = self.query_one("#composer-api-check", Static)
        line.display = True
        name = escape_control(event.operation_id)
        if not event.warnings:
            line.remove_class("-warning")
            line.update(f"📘 {name}: fits the documented operation")
            return
        line.add_class("-warning")
        shown = "; ".join(escape_control(w) for w in event.warnings[:3])
        more = f" (+{len(event.warnings) - 3} more)" if len(event.warnings) > 3 else ""
        line.update(f"📘 {name}: ⚠ {shown}{more} (warnings: it can still be sent)")

    async def _check_response(self, record: ResponseRecord) -> None:
        if self.api_operation is None:
            return
        from workbench.core.catalog.validate import check_response

        catalog, operation = self.api_operation
        try:
            findings = await asyncio.to_thread(
                check_response,
                catalog.opened.document(),
                operation,
                record.status,
                record.body,
                record.content_type,
            )
        except Exception as exc:  # noqa: BLE001 - a check must never break the response view
            findings = [f"not checked: {type(exc).__name__}"]
        self.response.show_schema_check(operation.operation_id, findings)

    def _body_kind_changed(self, kind: str) -> None:
        self.query_one("#composer-body", TextArea).display = kind in ("json", "text")
        self.query_one("#composer-form", KeyValueEditor).display = kind in ("form", "multipart")
        tabs = self.query_one("#composer-tabs", TabbedContent)
        tabs.get_tab("composer-body-tab").label = "Body" if kind == "none" else f"Body ({kind})"
        self._check_body()

    def _check_body(self) -> None:
        label = self.query_one("#composer-body-error", Label)
        spec = self.spec
        error = spec.json_error()
        label.set_class(error is not None, "-invalid")
        if error:
            label.update(Text("✗ " + escape_control(error)))
        elif spec.body_kind == "json" and spec.body.strip():
            label.update("✓ valid JSON")
        else:
            label.update("")

    def _count_label(self, tab_id: str, title: str, editor_id: str) -> None:
        count = len(self.query_one(editor_id, KeyValueEditor).pairs)
        self.query_one("#composer-tabs", TabbedContent).get_tab(tab_id).label = (
            f"{title} ({count})" if count else title
        )

    @on(Input.Changed, "#composer-url")
    def _url_changed(self) -> None:
        self._update_hint()

    @on(Select.Changed, "#composer-body-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self._body_kind_changed(event.value)
            self._update_hint()

    @on(TextArea.Changed)
    def _text_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        area_id = event.text_area.id
        if area_id == "composer-body":
            self._check_body()
        elif area_id == "composer-query":
            self._count_label("composer-query-tab", "Query", "#composer-query")
        elif area_id == "composer-headers":
            self._count_label("composer-headers-tab", "Headers", "#composer-headers")
        self._update_hint()

    # ------------------------------------------------------------------ sending

    @on(Input.Submitted, "#composer-url")
    @on(Button.Pressed, "#composer-send")
    def _send_pressed(self, event: Input.Submitted | Button.Pressed) -> None:
        event.stop()
        self.action_send()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.sending  # else Esc goes on to the screen
        return True

    def action_send(self) -> None:
        """Send the request (refused, with the reasons shown, while it has problems)."""
        problems = self.problems()
        if problems:
            self.response.show_error("\n".join(problems), title="not sent")
            if self.spec.json_error():
                self.query_one("#composer-tabs", TabbedContent).active = "composer-body-tab"
            return
        template = self.spec
        spec = template.render(self.known_variables())
        spec.url = resolve_url(spec.url, self.profile.base_url)
        try:
            carried = self._secrets_carried(template, spec)
        except SecretOriginError as err:
            self.response.show_error(err, title="not sent")
            return
        self._generation += 1
        self.response.show_sending(
            spec.method,
            spec.url,
            deadline=spec.deadline if spec.deadline is not None else self.profile.limits.deadline,
        )
        self._worker = self.run_worker(
            self._send(spec, self._generation, carried, template, self.files_dir),
            group="composer-send",
            exclusive=True,
            exit_on_error=False,
        )
        self.refresh_bindings()  # Esc cancels: show it in the footer

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "composer-send":
            self.refresh_bindings()

    def action_cancel(self) -> None:
        if self._worker is not None and self._worker.is_running:
            self._generation += 1  # whatever it still delivers is dropped
            self._worker.cancel()
            self.response.show_cancelled()

    async def _get_client(self) -> httpx.AsyncClient:
        async with self._client_lock:
            if self._client is None:
                self._client = await asyncio.to_thread(self._new_client)
            return self._client

    def _new_client(self) -> httpx.AsyncClient:
        with contextlib.suppress(ImportError):
            import anyio._backends._asyncio  # noqa: F401  (httpcore imports it on first use)
        client: httpx.AsyncClient = self.session.async_client()
        return client

    def _secrets_carried(self, template: RequestSpec, spec: RequestSpec) -> Carried | None:
        """Refuse (SecretOriginError) a request that holds the session's token (pasted, or
        captured by a replay) for an origin that is not the profile's; else what it carries
        (for the redirect hops)."""
        origins = getattr(self.session, "origins", None) or self.profile.origins()
        tokens = getattr(self.session, "tokens", None)
        return check_request(
            template,
            spec,
            [],
            SecretBinding(frozenset(origins), self.profile.name),
            known=token_secrets(tokens),
        )

    async def _send(
        self,
        spec: RequestSpec,
        generation: int,
        carried: Carried | None = None,
        template: RequestSpec | None = None,
        files_dir: Path | None = None,
    ) -> None:
        """Worker: send, then show the answer (or why there is none) unless a newer send started."""

        def current() -> bool:
            return generation == self._generation

        try:
            await self._exchange(spec, current, carried, template, files_dir)
        except WorkbenchError as err:
            if current():
                self.response.show_error(err)
        except Exception as exc:  # a bug: say so in words rather than fail silently
            if current():
                self.response.show_error(f"unexpected error: {type(exc).__name__}: {exc}")
            raise

    async def _exchange(
        self,
        spec: RequestSpec,
        current: Callable[[], bool],
        carried: Carried | None = None,
        template: RequestSpec | None = None,
        files_dir: Path | None = None,
    ) -> None:
        import httpx

        from workbench.core.http import asend_following_redirects, transport_error
        from workbench.core.requests import ResponseRecord

        client = await self._get_client()
        try:
            if spec.body_kind == "multipart":  # reads the files: off the UI thread
                if files_dir is not None:  # a collection's request: its folder's files
                    resolved = await asyncio.to_thread(collection_files, spec, files_dir)
                    template = with_files(template or spec, resolved)
                    spec = resolved
                request = await asyncio.to_thread(spec.to_httpx, client)
            else:
                request = spec.to_httpx(client)
        except (httpx.InvalidURL, ValueError) as exc:
            raise TransportError(
                f"the request could not be built: {exc}",
                hint="check the URL (http:// or https://, then a host)",
            ) from None
        mark(request, carried)  # a redirect to another origin drops what carried a secret
        masker = await asyncio.to_thread(self.masker)  # (a keyring may be slow)
        started = time.perf_counter()
        response = await asend_following_redirects(client, request, stream=True)
        timings = Timings(
            headers_ms=round((time.perf_counter() - started) * 1000, 1),
            redirects=len(response.history),
        )
        try:
            media = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if media == EVENT_STREAM:
                if current():
                    self.response.show_sent(capture_sent(response.request, masker, timings=timings))
                await self._stream(response, current)
                return
            try:
                await response.aread()
            except httpx.HTTPError as exc:
                raise transport_error(exc, request.url) from None
            timings.total_ms = round((time.perf_counter() - started) * 1000, 1)
            with contextlib.suppress(RuntimeError):  # set once the response is closed
                timings.httpx_elapsed_ms = round(response.elapsed.total_seconds() * 1000, 1)
            sent = capture_sent(response.request, masker, timings=timings)
            record = ResponseRecord.from_httpx(response, time.perf_counter() - started)
            if current():
                self.response.show(record)
                self.response.show_sent(sent)
        finally:
            await response.aclose()
        if current():
            await self._check_response(record)
        await self._record(template or spec, sent, record, masker)

    async def _record(
        self, template: RequestSpec, sent: SentRequest, record: ResponseRecord, masker: Masker
    ) -> None:
        """Write the exchange to the history (redacted there, off the UI thread); a failure
        is a warning, never a lost answer."""
        store = self.history
        if store is None:
            return
        try:
            entry_id = await asyncio.to_thread(
                store.add,
                profile=self.profile.name,
                spec=template,
                sent=sent,
                response=record,
                masker=masker,
            )
        except WorkbenchError as err:
            self.post_message(self.Recorded(None, err.message))
            return
        for note in store.notes:
            self.notify(escape_control(note), severity="warning", markup=False, timeout=8)
        store.notes.clear()
        self.post_message(self.Recorded(entry_id))

    def on_request_composer_recorded(self, event: Recorded) -> None:
        if event.error:
            self.notify(
                escape_control(f"not recorded in the history: {event.error}"),
                severity="warning",
                markup=False,
            )

    async def _stream(self, response: httpx.Response, current: Callable[[], bool]) -> None:
        """Append a live body (Server-Sent Events) until it ends or the worker is cancelled."""
        import httpx

        view = self.response
        view.begin_stream(
            response.status_code,
            response.reason_phrase,
            list(response.headers.multi_items()),
            response.headers.get("content-type", EVENT_STREAM),
        )
        try:
            async for text in response.aiter_text():
                if not current():
                    return
                view.append_stream(text)
        except httpx.HTTPError as exc:
            if current():
                view.end_stream(f"stream broke: {exc}")
            return
        if current():
            view.end_stream("stream ended by the server")

    # ------------------------------------------------------------------ curl & collections

    def action_paste_curl(self) -> None:
        from workbench.tui.widgets.request_composer.dialogs import CurlScreen

        def loaded(spec: RequestSpec | None) -> None:
            if spec is not None:
                self.load(spec)
                self.notify("curl command imported")

        self.app.push_screen(CurlScreen(self.profile), loaded)

    def action_save_to_collection(self) -> None:
        from workbench.tui.widgets.request_composer.dialogs import SaveRequestScreen, templated_url

        problems = [p for p in self.problems() if not p.startswith("unknown variable")]
        if problems:
            self.notify(
                escape_keep_newlines("\n".join(problems)),
                title="not saved",
                severity="error",
                markup=False,
            )
            return
        from workbench.core.collection.credentials import known_secrets_of

        secrets = known_secrets_of(self.session)  # the session's tokens, the profile's secrets
        spec = self.spec
        spec.url = templated_url(spec.url, self.profile.urls)
        self.app.push_screen(
            SaveRequestScreen(
                spec,
                profile=self.profile.name,
                known_secrets=secrets,
                variables=self.variables,
                source=self.source_collection,
                provided=self.profile.template_vars(),
            )
        )
