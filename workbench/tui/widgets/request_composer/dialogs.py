"""Small dialogs of the request composer: import a pasted curl command, save to a collection."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from workbench.core.collection.credentials import KnownSecrets
from workbench.core.errors import WorkbenchError
from workbench.core.requests import RequestSpec
from workbench.core.text import escape_control, escape_keep_newlines
from workbench.tui.widgets.collection_browser.entries import collections_dir
from workbench.tui.widgets.dialogs import DIALOG_CSS

if TYPE_CHECKING:
    from workbench.core.profiles import Profile


def templated_url(url: str, urls: dict[str, str]) -> str:
    """``url`` with the profile's base URL it starts with written as ``{{urls.NAME}}``
    (so a saved request follows the profile to another server or port)."""
    matches = [
        (len(base.rstrip("/")), name)
        for name, base in urls.items()
        if base.rstrip("/")
        and url.startswith(base.rstrip("/"))
        and url[len(base.rstrip("/")) :][:1] in ("", "/", "?")
    ]
    if not matches:
        return url
    size, name = max(matches)
    return "{{urls." + name + "}}" + url[size:]


class CurlScreen(ModalScreen[RequestSpec | None]):
    """Paste a curl command; Ctrl+S (or Import) parses it. Errors stay in the dialog, in words."""

    DEFAULT_CSS = DIALOG_CSS.replace("{name}", "CurlScreen") + (
        "CurlScreen > #dialog { height: 90%; max-height: 24; } CurlScreen #curl-text { height: 1fr; min-height: 3; }"
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="curl.cancel"),
        Binding("ctrl+s", "import_curl", "Import", id="curl.import"),
    ]

    def __init__(self, profile: Profile | None = None) -> None:
        super().__init__()
        self.profile = profile  # whose session signs the request (its credentials are dropped)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Paste a curl command (several lines with \\ are fine)", classes="title")
            yield TextArea(id="curl-text", soft_wrap=True, tab_behavior="focus")
            yield Static("", id="curl-error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Import (Ctrl+S)", id="curl-import", variant="primary", compact=True)
                yield Button("Cancel (Esc)", id="curl-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#curl-text", TextArea).focus()

    @on(Button.Pressed, "#curl-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#curl-import")
    def action_import_curl(self) -> None:
        from workbench.core.collection.curl import drop_session_credentials, import_curl

        text = self.query_one("#curl-text", TextArea).text
        error = self.query_one("#curl-error", Static)
        if not text.strip():
            error.update("paste a curl command first")
            return
        try:
            result = import_curl(text)
        except WorkbenchError as err:
            error.update(f"cannot import: {escape_keep_newlines(err.describe())}")
            return
        spec = result.spec
        notes = list(result.notes) + drop_session_credentials(spec, self.profile)
        if notes:
            self.notify(
                escape_keep_newlines("\n".join(notes)),
                title="curl import",
                timeout=8,
                markup=False,
            )
        self.dismiss(spec)


class SaveRequestScreen(ModalScreen[Path | None]):
    """Save a request into a collection (a new file or an existing one); no secret is written."""

    DEFAULT_CSS = DIALOG_CSS.replace("{name}", "SaveRequestScreen")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="save.cancel"),
    ]

    def __init__(
        self,
        spec: RequestSpec,
        *,
        profile: str | None = None,
        known_secrets: KnownSecrets = (),
        variables: Mapping[str, str] | None = None,
        source: Path | None = None,
        provided: Iterable[str] = (),
    ) -> None:
        super().__init__()
        self.spec = spec
        self.profile = profile
        self.variables = dict(variables or {})
        """Values the composer knows beyond the profile's (a collection's, replay captures)."""
        self.source = source
        """The collection the request was opened from (its variable definitions are copied)."""
        self.provided = set(provided)
        """Variables the profile gives at run time (urls.*, demo_url, its [variables])."""
        self.known_secrets: KnownSecrets = (
            known_secrets if isinstance(known_secrets, Mapping) else [s for s in known_secrets if s]
        )

    def compose(self) -> ComposeResult:
        default = collections_dir() / f"{self.profile or 'requests'}.toml"
        name = (
            self.spec.name or f"{self.spec.method} {self.spec.url.rsplit('/', 1)[-1] or 'request'}"
        )
        with Vertical(id="dialog"):
            yield Label("Save the request into a collection", classes="title")
            yield Label("Collection file (created when it does not exist)")
            yield Input(str(default), id="save-collection")
            yield Label("Request name")
            yield Input(name, id="save-name")
            yield Static("", id="save-error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save (Enter)", id="save-ok", variant="primary", compact=True)
                yield Button("Cancel (Esc)", id="save-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#save-name", Input).focus()

    @on(Button.Pressed, "#save-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    @on(Button.Pressed, "#save-ok")
    def _save(self, event: Input.Submitted | Button.Pressed) -> None:
        event.stop()
        path = Path(self.query_one("#save-collection", Input).value.strip()).expanduser()
        name = self.query_one("#save-name", Input).value.strip()
        error = self.query_one("#save-error", Static)
        try:
            notes = save_request(
                path,
                name,
                self.spec,
                profile=self.profile,
                known_secrets=self.known_secrets,
                variables=self.variables,
                source=self.source,
                provided=self.provided,
            )
        except WorkbenchError as err:
            error.update(escape_keep_newlines(err.describe()))
            return
        except OSError as exc:
            error.update(escape_control(f"cannot write {path}: {exc.strerror or exc}"))
            return
        lines = [f"saved '{name}' in {path}", *notes]
        self.notify(
            "\n".join(escape_control(line) for line in lines), title="collection", markup=False
        )
        self.dismiss(path)


def save_request(
    path: Path,
    name: str,
    spec: RequestSpec,
    *,
    profile: str | None = None,
    known_secrets: KnownSecrets = (),
    variables: Mapping[str, str] | None = None,
    source: Path | None = None,
    provided: Iterable[str] = (),
) -> list[str]:
    """Add (or replace, same name) `spec` as `name` in the collection at `path`; returns notes.

    The ``{{variables}}`` the request uses come along (see
    :func:`workbench.core.collection.collection.carry_variables`): their definitions from
    the `source` collection, else the values the composer knew (`variables`), a secret as a
    reference, never its value. A request of another profile than the collection's names
    its `profile`, so the profile's URLs and variables resolve when it runs.

    The files of a multipart body, read from the `source` collection's folder (else the
    working directory), are rewritten to name the same files from the folder of `path`;
    one outside that folder is refused (CollectionError, nothing written), see
    :func:`workbench.core.collection.model.rebase_part_files`."""
    from dataclasses import replace

    from workbench.core.collection.collection import carry_variables, load_collection, load_or_new
    from workbench.core.collection.model import CollectionRequest, Variable, rebase_part_files
    from workbench.core.errors import CollectionError

    if not name:
        raise CollectionError("the request needs a name")
    notes: list[str] = []
    parts = spec.parts
    if any(p.file is not None for p in parts):
        files_dir = source.parent if source is not None else Path.cwd()
        parts, notes = rebase_part_files(name, parts, files_dir, path.parent)
    path.parent.mkdir(parents=True, exist_ok=True)
    collection = load_or_new(path)
    if collection.profile is None and not collection.requests and profile:
        collection.profile = profile
    request = CollectionRequest(spec=replace(spec, name=name, parts=parts))
    if profile and collection.profile and collection.profile != profile:
        request.profile = profile
    if name in collection.names():
        collection.replace_request(name, request)
        notes.append(f"replaced the earlier request named '{name}'")
    else:
        collection.add_request(request)
    definitions: dict[str, Variable] = {}
    if source is not None and source.resolve() != path.resolve():
        try:
            definitions = dict(load_collection(source).variables)
        except CollectionError:
            notes.append(f"could not read {source.name} for the variables' definitions")
    elif source is not None:
        definitions = dict(collection.variables)
    notes += carry_variables(
        collection,
        spec.variables(),
        definitions=definitions,
        values=variables,
        provided=provided,
        known_secrets=known_secrets,
        source=source.name if source is not None and source.resolve() != path.resolve() else "",
    )
    return [*notes, *collection.save(known_secrets=known_secrets)]
