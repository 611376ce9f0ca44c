"""Log in with a profile: fields driven by its flow, a live auth timeline, failures explained.

A browser login also offers paste-back (over SSH, or a redirect URI that is not on this
machine): the authorization URL unwrapped and selectable, a Copy button (OSC 52 through
Textual's ``App.copy_to_clipboard``; the URL is also written to a file whose path is shown,
for terminals that ignore OSC 52), the ``ssh -L`` command that would let the loopback
listener receive the callback, and a field for the redirect URL the browser ended on. The
first of the callback and the paste wins (core/auth/callback.py)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import getters, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Footer, Header, Input, Label, Static, TextArea

from workbench.core.auth.base import Exchange
from workbench.core.auth.callback import PasteOffer
from workbench.core.errors import SecretError, WorkbenchError
from workbench.core.profiles import Profile
from workbench.core.text import escape_control, escape_keep_newlines
from workbench.tui.app import WorkbenchApp
from workbench.tui.widgets.auth_timeline import AuthTimeline, failure_text
from workbench.tui.widgets.device_code import DeviceCodePanel
from workbench.tui.widgets.dialogs import AskScreen

if TYPE_CHECKING:
    from workbench.core.auth.oauth2_device_code import DevicePrompt


def remember_key(profile: Profile, name: str) -> str:
    ref = profile.auth.secrets.get(name)
    return ref.keyring if ref is not None and ref.keyring else f"{profile.name}.{name}"


# Where a person signs in to the demo cloud's own pages (a browser login or a device code's
# approval page), by platform: the emulated users (README, `workbench demo --serve`). Shown
# only for the built-in demo profiles, whose URLs are all on loopback.
DEMO_SIGN_IN = {
    "plgd": (("user", "demo"), ("password", "plgd-demo-pass-6604")),
    "thinger": (("user", "demo"), ("password", "thinger-demo-pass-1157")),
}


@dataclass(frozen=True)
class DemoCredentials:
    """A demo profile's credentials for the login screen: (label, value, is_secret) items and
    where they go (pre-filled in the form, or typed on the demo cloud's own page)."""

    items: tuple[tuple[str, str, bool], ...]
    where: str


def login_fields(profile: Profile) -> list[str]:
    """The flow's parameters the login form shows as fields. A private_key_jwt client signs
    with a key (a file or a reference, shown as such), so it has no client-secret field."""
    spec = profile.auth.spec
    mode = profile.auth.params.get("client_auth")
    return [
        name
        for name, param in spec.params.items()
        if param.login_field and not (name == "client_secret" and mode == "private_key_jwt")
    ]


def key_source(profile: Profile) -> str | None:
    """Where a private_key_jwt profile's signing key comes from, in words (never the key)."""
    if profile.auth.params.get("client_auth") != "private_key_jwt":
        return None
    path = profile.auth.params.get("private_key_file")
    ref = profile.auth.secrets.get("private_key")
    where = (
        f"the file {path}"
        if path
        else f"{ref.describe()}"
        if ref is not None
        else "nowhere: the profile names neither private_key_file nor private_key"
    )
    kid = profile.auth.params.get("private_key_kid")
    return f"client key (private_key_jwt, no client secret): from {where}" + (
        f", key id {kid}" if kid else ""
    )


def demo_credentials(profile: Profile) -> DemoCredentials | None:
    """The credentials of a demo profile (every URL on loopback: demo values are allowed
    only there), or None. Values come from the profile's own ``demo`` references and literal
    login fields; for a browser or device-code login, the demo cloud's user of that platform
    (built-in demo profiles only)."""
    if not profile.is_demo:
        return None
    spec = profile.auth.spec
    items: list[tuple[str, str, bool]] = []
    for name in login_fields(profile):
        ref = profile.auth.secrets.get(name)
        literal = profile.auth.params.get(name)
        value = ref.demo if ref is not None else literal if isinstance(literal, str) else None
        if value:
            items.append((name.replace("_", " "), value, spec.params[name].kind == "secret"))
    if spec.interactive and profile.source == "builtin" and profile.platform in DEMO_SIGN_IN:
        page = (
            "on the demo cloud's device-code approval page"
            if "device" in spec.name
            else "in the browser, on the demo cloud's login page"
        )
        sign_in = tuple(
            (label, value, label == "password") for label, value in DEMO_SIGN_IN[profile.platform]
        )
        return DemoCredentials(sign_in, f"sign in with them {page}")
    if not items:
        return None
    return DemoCredentials(tuple(items), "pre-filled below")


def demo_text(creds: DemoCredentials, shown: bool) -> Text:
    """The demo credentials line: secrets masked until asked for."""
    out = Text("Demo credentials: ", style="bold")
    for i, (label, value, secret) in enumerate(creds.items):
        if i:
            out.append(" · ", style="dim")
        out.append(f"{label} ")
        out.append(
            escape_control(value) if shown or not secret else "●" * 8,
            style="bold cyan",
        )
    out.append(f" — {creds.where} (the emulated cloud's, not real secrets)", style="dim")
    return out


class LoginScreen(Screen[None]):
    app = getters.app(WorkbenchApp)  # typed: this screen only runs in WorkbenchApp

    DEFAULT_CSS = """
    #login-demo { height: auto; margin-bottom: 1; }
    #login-demo-text { width: 1fr; }
    """

    BINDINGS = [
        Binding("escape", "back", "Back / cancel", id="login.back"),
        Binding("ctrl+l", "login", "Log in", id="login.submit"),
    ]

    def __init__(self, profile: Profile) -> None:
        super().__init__()
        self.profile = profile
        self.spec = profile.auth.spec
        self.fields = login_fields(profile)
        self.demo = demo_credentials(profile)
        self.demo_shown = False
        self._prefilled = False
        self._cancel: threading.Event | None = None
        self._offer: PasteOffer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="login-form"):
            title = Text.assemble(
                (self.profile.name, "bold"),
                "  ",
                (self.profile.platform, "cyan"),
                "  ",
                (self.spec.label, "dim"),
            )
            yield Static(title, id="login-title")
            notes = []
            if self.spec.legacy:
                notes.append(
                    "This is a legacy grant (the password is sent to the token endpoint); the platform requires it."
                )
            if self.profile.tls_note:
                notes.append(f"[b red]{self.profile.tls_note}[/]")
            if notes:
                yield Static("\n".join(notes), id="login-notes")
            if self.demo is not None:
                with Horizontal(id="login-demo"):
                    yield Static(demo_text(self.demo, False), id="login-demo-text")
                    if any(secret for _, _, secret in self.demo.items):
                        yield Button("Show", id="login-demo-show")
            key = key_source(self.profile)
            if key is not None:
                yield Static(Text(escape_control(key)), id="login-key")
            for name in self.fields:
                param = self.spec.params[name]
                secret = param.kind == "secret"
                label = name.replace("_", " ")
                yield Label(f"{label} — {param.help}" if param.help else label)
                yield Input(
                    password=secret, id=f"field-{name}", placeholder=self._source_text(name)
                )
            if self.fields:
                yield Checkbox("remember secrets in the OS keyring", id="login-remember")
            with Horizontal(id="login-buttons"):
                yield Button("Log in", variant="primary", id="login-go")
                yield Button("Cancel", id="login-cancel", disabled=True)
            yield Static("", id="login-url")
            with Vertical(id="login-paste-box"):
                yield Static("", id="login-paste-help")
                yield TextArea("", id="login-url-text", read_only=True, soft_wrap=False)
                with Horizontal(id="login-paste-buttons"):
                    yield Button("Copy URL", id="login-copy")
                yield Static("", id="login-url-file")
                yield Static("", id="login-ssh")
                yield Input(  # masked: the pasted URL carries the authorization code
                    placeholder="paste the redirect URL the browser ended on, then Enter",
                    password=True,
                    id="login-paste",
                )
                yield Static("", id="login-paste-result")
            yield Static("", id="login-result")
        yield DeviceCodePanel(id="login-device-code")
        yield AuthTimeline(id="login-timeline")
        yield Footer()

    def _source_text(self, name: str) -> str:
        ref = self.profile.auth.secrets.get(name)
        if ref is None:
            return ""
        return f"from {ref.describe()}"

    def on_mount(self) -> None:
        self.sub_title = f"log in: {self.profile.name}"
        if not self.profile.verify_tls:
            self.sub_title += " · ⚠ TLS OFF"
        self.prefill()
        self.try_restore()

    @work(thread=True, exclusive=True, group="login-restore")
    def try_restore(self) -> None:
        """A stored session that is still valid (or renewable) skips the form."""
        from workbench.core.session import Session

        try:
            session = Session.restore(self.profile)
        except WorkbenchError as err:
            self.app.call_from_thread(
                self.notify,
                escape_keep_newlines(err.describe()),
                severity="warning",
                markup=False,
            )
            return
        if session is None:
            self._explain_no_restore()
            return
        if session.tokens is None:
            return
        remaining = session.tokens.remaining(self.app.clock())
        if remaining is not None and remaining <= 0 and not session.tokens.refresh_token:
            return
        self.app.call_from_thread(self._restored, session)

    def _explain_no_restore(self) -> None:
        """Tokens stored for other servers or other TLS settings: say why they are not used."""
        from workbench.core.store import TokenStore

        why = TokenStore().why_not(
            self.profile.name, self.profile.origins(), tls=self.profile.tls_settings()
        )
        if why:
            self.app.call_from_thread(
                self.notify,
                escape_keep_newlines(f"{why}: log in again"),
                severity="warning",
                timeout=10,
                markup=False,
            )

    def _restored(self, session: Any) -> None:
        if self._cancel is None and self.app.screen is self:
            self.notify(f"using the stored session of {self.profile.name}")
            self.app.show_main(self.profile, session)

    @work(thread=True, exclusive=True, group="login-prefill")
    def prefill(self) -> None:
        """Fill fields from literal params, env, keyring or demo values (off the UI thread: keyring may be slow)."""
        from workbench.core.keyring_access import keyring_get
        from workbench.core.secrets import SecretResolver

        resolver = SecretResolver()
        values: dict[str, str] = {}
        for name in self.fields:
            ref = self.profile.auth.secrets.get(name)
            value = resolver.peek(ref) if ref is not None else self.profile.auth.params.get(name)
            if not value:
                value = keyring_get(remember_key(self.profile, name))
            if value:
                values[name] = str(value)
        self.app.call_from_thread(self._apply_prefill, values)

    def _apply_prefill(self, values: dict[str, str]) -> None:
        self._prefilled = True
        for name, value in values.items():
            field = self.query_one(f"#field-{name}", Input)
            if not field.value:
                field.value = value
        first_empty = next(
            (
                self.query_one(f"#field-{n}", Input)
                for n in self.fields
                if not self.query_one(f"#field-{n}", Input).value
            ),
            None,
        )
        (first_empty or self.query_one("#login-go", Button)).focus()

    def values(self) -> dict[str, str]:
        return {
            n: self.query_one(f"#field-{n}", Input).value
            for n in self.fields
            if self.query_one(f"#field-{n}", Input).value
        }

    @on(Button.Pressed, "#login-demo-show")
    def toggle_demo(self) -> None:
        """Show (or hide again) the demo credentials' secret values."""
        if self.demo is None:
            return
        self.demo_shown = not self.demo_shown
        self.query_one("#login-demo-text", Static).update(demo_text(self.demo, self.demo_shown))
        self.query_one("#login-demo-show", Button).label = "Hide" if self.demo_shown else "Show"

    def missing_field(self) -> str | None:
        """A required field left empty that nothing else fills (after the prefill has looked
        at the environment, the keyring and the demo values), or None."""
        if not self._prefilled:
            return None  # the prefill may still fill it; the login asks for what is missing
        for name in self.fields:
            param = self.spec.params[name]
            if param.required and not self.query_one(f"#field-{name}", Input).value:
                return name
        return None

    @on(Input.Submitted)
    @on(Button.Pressed, "#login-go")
    def action_login(self) -> None:
        if self._cancel is not None:  # (Enter in the paste field: on_paste_submitted)
            return
        missing = self.missing_field()
        if missing is not None:
            label = missing.replace("_", " ")
            ref = self.profile.auth.secrets.get(missing)
            whence = f" (the profile takes it from {ref.describe()}: none answered)" if ref else ""
            self.query_one("#login-result", Static).update(
                Text(f"Type the {label} in its field above{whence}, then log in.", style="yellow")
            )
            self.query_one(f"#field-{missing}", Input).focus()
            return
        self.query_one(AuthTimeline).clear()
        self.query_one("#login-result", Static).update(Text("logging in…", style="dim"))
        self.query_one("#login-go", Button).disabled = True
        self.query_one("#login-cancel", Button).disabled = False
        self._cancel = threading.Event()
        remember = bool(self.fields) and self.query_one("#login-remember", Checkbox).value
        self.run_login(self.values(), remember, self._cancel)

    @work(thread=True, exclusive=True, group="login")
    def run_login(self, values: dict[str, str], remember: bool, cancel: threading.Event) -> None:
        from workbench.core.keyring_access import keyring_set
        from workbench.core.secrets import SecretResolver
        from workbench.core.session import Session

        resolver = SecretResolver(
            values=values, prompter=lambda label, sec: self._ask(label, sec, cancel)
        )
        session = Session(self.profile, resolver=resolver)
        session.on_exchange(lambda ex: self._exchange_threadsafe(ex, cancel))
        try:
            session.login(
                open_browser=self._open_browser,
                show_url=self._show_url_threadsafe,
                cancelled=cancel,
                offer_paste=self._offer_paste_threadsafe,
                show_device_code=lambda prompt: self.app.call_from_thread(
                    self._show_device_code, prompt
                ),
            )
        except WorkbenchError as err:
            self.app.call_from_thread(self._failed, err, session)
            return
        finally:
            # the session outlives this screen: its later renewals never open a dialog here
            resolver.prompter = None
        stored = []
        if remember:
            for name in self.fields:
                if self.spec.params[name].kind == "secret" and values.get(name):
                    stored.append(keyring_set(remember_key(self.profile, name), values[name]))
        self.app.call_from_thread(self._succeeded, session, remember and not all(stored))

    def _ask(self, label: str, secret: bool, cancel: threading.Event) -> str:
        """The login's prompter: the person is here, so ask in a dialog over this screen
        (from the login worker: blocks it, never the UI; Escape gives nothing)."""
        done = threading.Event()
        box: dict[str, str | None] = {}

        def answered(value: str | None) -> None:
            box["value"] = value
            done.set()

        def ask() -> None:
            self.app.push_screen(
                AskScreen(
                    f"{label} — the profile gives no value for it here: type it (Esc cancels)",
                    password=secret,
                ),
                answered,
            )

        self.app.call_from_thread(ask)
        while not done.wait(0.1):
            if cancel.is_set():
                return ""
        return box.get("value") or ""

    def _open_browser(self, url: str) -> bool:
        import webbrowser

        self._show_url_threadsafe(url)
        try:
            return webbrowser.open(url)
        except Exception:
            return False

    def _show_url_threadsafe(self, url: str) -> None:
        self.app.call_from_thread(self._show_url, url)

    def _show_url(self, url: str) -> None:
        shown = self.query_one("#login-url", Static)
        shown.update(
            Text.assemble(
                (
                    "Open this URL in a browser to log in (waiting for the callback; Escape cancels):\n",
                    "bold",
                ),
                (escape_control(url), "cyan underline"),
            )
        )
        self._show_last()

    def _offer_paste_threadsafe(self, offer: PasteOffer) -> None:
        """From the login worker: keep the URL in a file too (for a terminal without OSC 52),
        then show the paste-back part of the form."""
        from workbench.core.auth.url_file import write_login_url

        path = write_login_url(self.profile.name, offer.authorization_url)
        self.app.call_from_thread(self._offer_paste, offer, path)

    def _offer_paste(self, offer: PasteOffer, path: str | None) -> None:
        from workbench.core.auth.ssh_hint import ssh_forward_command

        self._offer = offer
        if offer.loopback_port is None:
            help_text = (
                f"The redirect URI {offer.redirect_uri} is not on this machine: after logging in, "
                "copy the address the browser ends on and paste it below."
            )
        else:
            help_text = (
                "Browser on another machine (SSH)? Open the URL there, log in, then copy the "
                f"address the browser ends on ({offer.redirect_uri}?code=…, the page may fail to "
                "load) and paste it below."
            )
        self.query_one("#login-paste-help", Static).update(Text(escape_control(help_text)))
        self.query_one("#login-url", Static).update(
            Text(
                "Log in with this URL in a browser (waiting for the callback or the pasted "
                "redirect URL; Escape cancels):",
                style="bold",
            )
        )
        self.query_one("#login-url-text", TextArea).load_text(offer.authorization_url)
        self.query_one("#login-url-file", Static).update(
            Text(f"The URL is also in {escape_control(path)}", style="dim") if path else ""
        )
        ssh = self.query_one("#login-ssh", Static)
        if offer.loopback_port is not None:
            ssh.update(
                Text.assemble(
                    "Or forward the callback from your laptop: ",
                    (ssh_forward_command(offer.loopback_port), "bold"),
                )
            )
        else:
            ssh.update("")
        self.query_one("#login-paste-result", Static).update("")
        field = self.query_one("#login-paste", Input)
        field.value = ""
        self.query_one("#login-paste-box").add_class("offered")
        field.focus()  # ready for the paste
        self._show_last()

    @on(Button.Pressed, "#login-copy")
    def copy_url(self) -> None:
        if self._offer is None:
            return
        self.app.copy_to_clipboard(self._offer.authorization_url)
        where = str(self.query_one("#login-url-file", Static).content)
        self.notify(
            "URL sent to the clipboard (OSC 52: your terminal must allow it). "
            + (where.replace("The URL is also in", "It is also in") if where else ""),
            markup=False,
        )

    @on(Input.Submitted, "#login-paste")
    def on_paste_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        offer = self._offer
        if offer is None or self._cancel is None:
            return
        problem = offer.submit(event.value)
        shown = self.query_one("#login-paste-result", Static)
        if problem is not None:
            shown.update(Text(escape_control(problem), style="yellow"))
            return
        shown.update(Text("redirect URL taken: checking it and exchanging the code…", style="dim"))

    def _hide_paste(self) -> None:
        self._offer = None
        self.query_one("#login-paste-box").remove_class("offered")

    def _show_device_code(self, prompt: DevicePrompt) -> None:
        """The device flow's prompt: the panel takes the body while the worker polls."""
        self.query_one(DeviceCodePanel).show(prompt)
        self.add_class("-device-code")

    def _show_last(self) -> None:
        """The URL and the outcome are the form's last lines, below the fields: bring them into view.
        Anchored, the form stays at its end while they are laid out (a scroll made before their
        new height is known would stop short); moving the focus or scrolling releases it."""
        self.query_one("#login-form", VerticalScroll).anchor()

    def _exchange_threadsafe(self, ex: Exchange, cancel: threading.Event) -> None:
        # The session outlives this screen: its later refreshes (from a worker thread that
        # cannot reach the app through this detached screen, or from the UI thread itself)
        # belong to the main screen, not to this login.
        if self._cancel is cancel:
            self.app.call_from_thread(self._exchange, ex)

    def _exchange(self, ex: Exchange) -> None:
        self.query_one(AuthTimeline).add(ex)

    def _done(self) -> None:
        self._cancel = None
        self._hide_paste()
        self.query_one(DeviceCodePanel).clear()
        self.remove_class("-device-code")
        self.query_one("#login-go", Button).disabled = False
        self.query_one("#login-cancel", Button).disabled = True

    def _failed(self, err: WorkbenchError, session: Any) -> None:
        self._done()
        trace = getattr(session, "trace", None)
        failure = getattr(trace, "failure", None) if trace is not None else None
        if isinstance(err, SecretError):
            # the person at the keyboard was asked and gave nothing: no environment
            # variable or terminal to point to, the value is typed here
            text = Text(escape_keep_newlines(err.message), style="red")
            text.append(
                "\n  type it in its field above, or when the login asks for it, and log in again",
                style="yellow",
            )
        elif failure is not None:
            text = failure_text(failure)
        else:
            text = Text(escape_keep_newlines(err.describe()), style="red")
        result = self.query_one("#login-result", Static)
        result.update(text)
        self._show_last()

    def _succeeded(self, session: Any, keyring_failed: bool) -> None:
        self._done()
        from workbench.core.session import sent_to_text

        self.query_one("#login-result", Static).update(Text("✓ logged in", style="bold green"))
        origins = getattr(session, "token_origins", None)
        if callable(origins):  # where the token goes from now on (plgd: + the hub's gateway)
            self.notify(sent_to_text(origins()), title="logged in")
        if keyring_failed:
            self.notify("no working OS keyring: secrets were not remembered", severity="warning")
        self.app.show_main(self.profile, session)

    @on(Button.Pressed, "#login-cancel")
    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self.query_one("#login-result", Static).update(Text("cancelling…", style="yellow"))

    def action_back(self) -> None:
        if self._cancel is not None:
            self.cancel()
            return
        self.app.pop_screen()
