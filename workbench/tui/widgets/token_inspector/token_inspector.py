"""The token inspector: what is inside the session's tokens (or any pasted token), live.

It shows the JWT header and claims (with plain-words meanings), issued / not before /
expires as UTC and relative with a live countdown, the lifetime and an expiry bar (yellow
inside the session's early-refresh window, red once expired), the inspector's warnings and
the signature status. Actions: refresh now (a thread worker around
``Session.force_refresh``), verify the signature against the profile's JWKS (fetched in a
thread worker; never from a URL the token names itself), show / hide and copy the token, and
a "decode any token" paste box that is inspected locally on every keystroke.

Everything that comes from a token is escaped (``workbench.core.text``) and drawn as rich
``Text`` objects, never as markup. "Now" is the ``clock`` handed down (WorkbenchApp's
injectable clock) so snapshot tests can fix time.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Select, Static
from textual.worker import Worker, WorkerState

from workbench.core.auth.base import TokenSet
from workbench.core.text import escape_control, escape_keep_newlines, humanize_delta
from workbench.core.tokens.claims import claim_rows
from workbench.core.tokens.format import principal
from workbench.core.tokens.inspect import inspect_token
from workbench.core.tokens.report import TokenReport
from workbench.tui.widgets.token_inspector.expiry_bar import ExpiryBar
from workbench.tui.widgets.token_inspector.outcomes import (
    Outcome,
    cannot_verify,
    fetch_keys,
    refresh_tokens,
)
from workbench.tui.widgets.token_inspector.view import (
    COPY_CONFIRM_SECONDS,
    KEYS_HINT,
    KINDS,
    NOT_VERIFIED,
    PASTE_LIMIT,
    bar_state,
    column_widths,
    format_time_ts,
    header_text,
    labelled,
    mask_token,
    signature_table,
    times_table,
    warnings_table,
)


class TokenInspector(Vertical):
    """Claims, times, warnings and signature of the session's tokens or of a pasted token."""

    HELP = """\
## Token inspector

- **Which token**: the selector at the top (access / refresh / ID token), or `n`.
- **r** refresh now (asks the server for new tokens; Ctrl+R does it from anywhere on the
  main screen). Failures are explained in words. A static token (a CloudAPI token, a token
  the profile supplies) has nothing to refresh: it is only checked again.
- **v** verify the signature with the profile's public keys (JWKS from the profile's
  `jwks_url`, its OIDC `issuer`, or the token's `iss` when that is one of the profile's
  origins). Keys a token names itself (`jku`, `x5u`) are never fetched.
- **s** show / hide the token (hidden by default: first 8 and last 4 characters).
- **c** copy the token to the clipboard. While the token is hidden, press `c` **twice**
  (within 5 s) to confirm; when shown, one press copies.
- **p** go to the paste box: any token pasted there is decoded locally (nothing is sent)
  and shown instead of the session's; **x** (or emptying the box) goes back.
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh_now", "Refresh now", id="token.refresh"),
        Binding("v", "verify", "Verify", id="token.verify"),
        Binding("s", "toggle_reveal", "Show/hide", id="token.reveal"),
        Binding("c", "copy", "Copy", id="token.copy"),
        Binding("n", "next_token", "Next token", id="token.next", show=False),
        Binding("p", "focus_paste", "Paste box", id="token.paste", show=False),
        Binding("x", "clear_paste", "Clear pasted", id="token.clear", show=False),
    ]

    DEFAULT_CSS = """
    TokenInspector { height: 1fr; }
    TokenInspector #ti-toolbar { height: auto; padding: 0 1; }
    TokenInspector #ti-toolbar Select { width: 22; }
    TokenInspector #ti-toolbar Button { margin-left: 1; min-width: 8; }
    TokenInspector #ti-paste { margin: 1 1 0 1; }
    TokenInspector #ti-body { height: 1fr; padding: 0 1; }
    TokenInspector #ti-body > Static { height: auto; }
    TokenInspector #ti-source { margin-top: 1; }
    TokenInspector #ti-times, TokenInspector #ti-signature,
    TokenInspector #ti-warnings, TokenInspector #ti-header { margin-top: 1; }
    TokenInspector #ti-claims { height: auto; max-height: 16; margin-top: 1; }
    TokenInspector #ti-keys { color: $text-muted; margin-top: 1; }
    """

    class TokensChanged(Message):
        """The session's tokens changed (posted from whatever thread changed them)."""

    def __init__(
        self, session: Any, *, clock: Callable[[], float] = time.time, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.clock = clock
        """"Now" for countdowns and the bar (WorkbenchApp.clock; fixed in tests)."""
        self.which = "access"
        self.revealed = False
        self.pasted = ""
        self.report: TokenReport | None = None
        self.token: str | None = None
        self.source = "session"  # "session" | "pasted" | "none"
        self._table_key: tuple[Any, ...] | None = None
        self._keys: dict[str, Outcome] = {}  # token -> a successful verify (its JWKS)
        self._refresh_seq = 0
        self._verify_seq = 0
        self._copy_armed_until = 0.0
        self._status = Text()
        self._status_about: str | None = None
        self._kinds_shown: list[str] = ["access"]

    # --- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="ti-toolbar"):
            yield Select(
                self._options(), allow_blank=False, value="access", compact=True, id="ti-which"
            )
            yield Button("Refresh now", id="ti-refresh", compact=True)
            yield Button("Verify", id="ti-verify", compact=True)
            yield Button("Show", id="ti-reveal", compact=True)
            yield Button("Copy", id="ti-copy", compact=True)
        yield Input(
            placeholder="decode any token: paste it here (decoded locally, nothing is sent)",
            id="ti-paste",
            compact=True,
        )
        with VerticalScroll(id="ti-body"):
            yield Static(id="ti-source")
            yield Static(id="ti-token")
            yield Static(id="ti-status")
            yield Static(id="ti-times")
            yield ExpiryBar(id="ti-bar")
            yield Static(id="ti-signature")
            yield Static(id="ti-warnings")
            yield Static(id="ti-header")
            yield DataTable(id="ti-claims", cursor_type="row", zebra_stripes=True)
            yield Static(KEYS_HINT, id="ti-keys", markup=False)

    def on_mount(self) -> None:
        if self.session is not None and hasattr(self.session, "on_tokens"):
            self.session.on_tokens(self._tokens_changed_elsewhere)
        self.inspect_now()
        self.set_interval(1.0, self.tick)

    # --- state ----------------------------------------------------------------------------
    def now(self) -> float:
        """The clock handed down (WorkbenchApp.clock, fixed in tests)."""
        return float(self.clock())

    def _tokens(self) -> TokenSet | None:
        return getattr(self.session, "tokens", None) if self.session is not None else None

    def _options(self) -> list[tuple[str, str]]:
        tokens = self._tokens()
        present = {
            "access": True,
            "refresh": bool(tokens and tokens.refresh_token),
            "id": bool(tokens and tokens.id_token),
        }
        return [(label, kind) for kind, label in KINDS.items() if present[kind]]

    def _current(self) -> tuple[str | None, dict[str, Any]]:
        """The token to show and the inspect_token arguments for it."""
        text = self.pasted
        if text.strip():
            self.source = "pasted"
            return text, {}
        tokens = self._tokens()
        if tokens is None:
            self.source = "none"
            return None, {}
        self.source = "session"
        if self.which == "refresh" and tokens.refresh_token:
            return tokens.refresh_token, {}
        if self.which == "id" and tokens.id_token:
            return tokens.id_token, {}
        self.which = "access"
        extra: dict[str, Any] = {}
        if tokens.expires_at is not None:
            extra = {
                "expires_in": tokens.expires_at - tokens.obtained_at,
                "obtained_at": tokens.obtained_at,
            }
        return tokens.access_token, extra

    def _profile_params(self) -> dict[str, Any]:
        profile = getattr(self.session, "profile", None)
        return getattr(getattr(profile, "auth", None), "params", None) or {}

    # --- inspection and drawing -------------------------------------------------------------
    def inspect_now(self) -> None:
        """Inspect the current token again and redraw everything."""
        token, extra = self._current()
        if token != self.token:
            self._copy_armed_until = 0.0  # a confirmation is for one token only
        self.token = token
        if token is None:
            self.report = None
        elif self.source == "pasted" and len(token) > PASTE_LIMIT:
            self.report = TokenReport(
                error=f"the pasted text is {len(token):,} characters long: that is not a token"
            )
        else:
            known = self._keys.get(token)
            if known is not None:
                extra.update(jwks=known.jwks, issuer=known.issuer, audience=known.audience)
            report = inspect_token(token, now=self.now(), no_key_reason=NOT_VERIFIED, **extra)
            sig = report.signature
            if (
                sig.status == "not-checked"
                and sig.reason == NOT_VERIFIED
                and report.kind == "jwt"
                and (sig.algorithm or "").startswith("HS")
            ):
                sig.reason = (
                    f"{escape_control(sig.algorithm or '')} is signed with a shared "
                    "secret only the server knows; it cannot be checked here"
                )
            self.report = report
        self._sync_options()
        self._draw()

    def _sync_options(self) -> None:
        select = self.query_one("#ti-which", Select)
        options = self._options()
        kinds = [kind for _, kind in options]
        if kinds != self._kinds_shown:
            self._kinds_shown = kinds
            with select.prevent(Select.Changed):
                select.set_options(options)
                select.value = self.which if self.which in kinds else "access"
        select.disabled = self.source == "pasted"

    def _draw(self) -> None:
        report, token = self.report, self.token
        self.query_one("#ti-source", Static).update(self._source_text())
        self.query_one("#ti-token", Static).update(self._token_text())
        self._draw_status()
        self.query_one("#ti-reveal", Button).label = "Hide" if self.revealed else "Show"
        has_report = report is not None
        for wid in ("#ti-times", "#ti-signature", "#ti-warnings", "#ti-header"):
            self.query_one(wid).display = has_report
        self.query_one("#ti-claims").display = bool(report and report.claims)
        if report is None or token is None:
            self.query_one("#ti-bar").display = False
            self._fill_table(None)
            return
        self.query_one("#ti-signature", Static).update(signature_table(report))
        self.query_one("#ti-warnings", Static).update(warnings_table(report))
        header = self.query_one("#ti-header", Static)
        header.display = bool(report.header)
        header.update(header_text(report.header))
        self._fill_table(report)
        self._draw_times()

    def tick(self) -> None:
        """Every second: the countdown and the bar; a full redraw when expiry flips."""
        report = self.report
        if report is None:
            return
        now = self.now()
        remaining = report.remaining_at(now)
        nbf = report.not_before.timestamp() if report.not_before else None
        expired_now = remaining is not None and remaining <= 0
        not_yet_now = nbf is not None and nbf > now
        if expired_now != report.expired or not_yet_now != report.not_yet_valid:
            self.inspect_now()  # the warnings change (expired / not yet valid)
            return
        self._draw_times()

    def _draw_times(self) -> None:
        report = self.report
        if report is None:
            return
        now = self.now()
        self.query_one("#ti-times", Static).update(times_table(report, now))
        bar = self.query_one("#ti-bar", ExpiryBar)
        state = bar_state(report, now)
        bar.display = state is not None
        if state is not None:
            bar.set(*state)

    def _fill_table(self, report: TokenReport | None, *, force: bool = False) -> None:
        table = self.query_one("#ti-claims", DataTable)
        avail = max(40, (self.size.width or 80) - 6)  # body padding and its scrollbar
        key = (self.token, id(report), avail) if report is not None else None
        if key == self._table_key and not force:
            return
        rows = claim_rows(report) if report is not None else []
        same_claims = (
            self._table_key is not None and key is not None and self._table_key[0] == key[0]
        )
        self._table_key = key
        row = table.cursor_row if same_claims else 0
        table.clear(columns=True)
        widths = column_widths(rows, avail)
        for label, width in zip(("claim", "value", "meaning"), widths, strict=True):
            table.add_column(label, width=width, key=label)
        for cells in rows:
            texts = [
                Text(cell, style=style)
                for cell, style in zip(cells, ("bold", "", "dim"), strict=True)
            ]
            for text, width in zip(texts, widths, strict=True):
                text.truncate(width, overflow="ellipsis")
            table.add_row(*texts)
        if rows:
            table.move_cursor(row=min(row, len(rows) - 1))

    def on_show(self) -> None:
        """Shown (say, its tab was just chosen) with nothing focused: take the focus, so the
        keys (r, v, s, c...) work at once without a mouse."""
        if self.app.focused is None:
            select = self.query_one("#ti-which", Select)
            (select if not select.disabled else self.query_one("#ti-refresh", Button)).focus()

    def on_resize(self) -> None:
        if self.report is not None:
            self._fill_table(self.report)

    def _source_text(self) -> Text:
        out = Text()
        report = self.report
        if self.source == "pasted":
            out.append("PASTED TOKEN", style="bold reverse magenta")
            out.append("  not the session's: clear the paste box (x) to go back", style="dim")
        elif self.source == "none":
            out.append("no session token", style="bold")
            if self.session is None:
                out.append(": no session here; paste a token above to decode it", style="dim")
            else:
                name = getattr(getattr(self.session, "profile", None), "name", "?")
                out.append(
                    f": profile '{escape_control(str(name))}' is not logged in "
                    "(r logs in again when it can without asking); paste a token above "
                    "to decode it",
                    style="dim",
                )
            return out
        else:
            out.append("SESSION TOKEN", style="bold reverse green")
            out.append(f"  {KINDS[self.which]}", style="bold")
            tokens = self._tokens()
            if self.which == "access" and tokens is not None:
                out.append(f" ({escape_control(tokens.token_type)})")
            name = getattr(getattr(self.session, "profile", None), "name", None)
            if name:
                out.append(f" · profile {escape_control(str(name))}", style="dim")
            origins = getattr(self.session, "token_origins", None)
            if callable(origins):
                from workbench.core.session import sent_to_text

                out.append(f"\n{escape_control(sent_to_text(origins()))}", style="dim")
        if report is not None:
            out.append("\n")
            kind = {
                "jwt": "JWT",
                "jwe": "JWE (encrypted)",
                "opaque": "opaque token",
                "malformed": "malformed",
            }[report.kind]
            out.append(kind, style="bold red" if report.kind == "malformed" else "bold")
            if report.signature.algorithm and report.kind in ("jwt", "jwe"):
                out.append(f" {escape_control(report.signature.algorithm)}")
            who = principal(report)
            if who:
                out.append(" · for ")
                out.append(escape_control(who), style="bold")
            if self.source == "session" and self.which == "access":
                scope = getattr(self._tokens(), "scope", None)
                if scope:
                    out.append(f" · scope {escape_control(scope)}", style="dim")
        return out

    def _token_text(self) -> Table:
        token = self.token
        out = Text(overflow="fold")
        if token is None:
            out.append("none", style="dim")
        elif self.revealed:
            out.append(escape_control(token))
            out.append("  (s hides it)", style="dim")
        else:
            out.append(escape_control(mask_token(token)))
            out.append(f"  hidden, {len(token)} characters (s shows it)", style="dim")
        return labelled([("Token", out)])

    def _set_status(self, text: Text | str, style: str = "", *, about: str | None = None) -> None:
        """One line of outcome (refresh, verify, copy). ``about``: the token it is about; it
        is shown only while that token is on view (None: about the session in general)."""
        self._status = text if isinstance(text, Text) else Text(text, style=style)
        self._status_about = about
        self._draw_status()

    def _draw_status(self) -> None:
        status = self.query_one("#ti-status", Static)
        status.update(self._status)
        status.display = bool(self._status.plain) and (
            self._status_about is None or self._status_about == self.token
        )

    # --- session events ---------------------------------------------------------------------
    def _tokens_changed_elsewhere(self, tokens: TokenSet | None) -> None:
        """Session listener: may run in any thread (a refresh worker, an HTTP request)."""
        if not self.is_attached:
            return
        with contextlib.suppress(RuntimeError):  # RuntimeError: the app's loop is gone
            self.post_message(self.TokensChanged())  # thread-safe and never blocks the caller

    @on(TokensChanged)
    def _on_tokens_changed(self, event: TokensChanged) -> None:
        event.stop()
        self.inspect_now()  # always from session.tokens: a stale notification shows current state

    # --- refresh and verify (thread workers; their outcome comes back as StateChanged) -------
    def action_refresh_now(self) -> None:
        """Renew the session's tokens now (Session.force_refresh in a thread worker)."""
        if self.session is None or not hasattr(self.session, "force_refresh"):
            self._set_status(
                "no session to refresh: this view only decodes pasted tokens", "yellow"
            )
            return
        self._refresh_seq += 1
        self._set_status("refreshing the token…", "dim")
        self.query_one("#ti-refresh", Button).disabled = True
        self.run_worker(
            partial(refresh_tokens, self.session, self._refresh_seq),
            name="token-refresh",
            group="token-refresh",
            thread=True,
            exit_on_error=False,
        )

    def action_verify(self) -> None:
        """Check the signature with the profile's JWKS (fetched in a thread worker)."""
        report, token = self.report, self.token
        if report is None or token is None:
            self._set_status("no token to verify", "yellow")
            return
        why_not = cannot_verify(report, has_session=self.session is not None)
        if why_not:
            self._set_status(f"not verified: {why_not}", "yellow", about=token)
            return
        audience = None
        if self.source == "session" and self.which == "access":
            aud = self._profile_params().get("audience")
            audience = aud if isinstance(aud, str) and aud else None
        self._verify_seq += 1
        self._set_status("verifying: fetching the profile's public keys…", "dim", about=token)
        self.run_worker(
            partial(fetch_keys, self.session, self._verify_seq, token, report, audience),
            name="token-verify",
            group="token-verify",
            thread=True,
            exit_on_error=False,
        )

    def _refresh_done(self, result: Outcome | None) -> None:
        if result is not None and result.seq != self._refresh_seq:
            return  # a newer refresh was started: drop this one
        self.query_one("#ti-refresh", Button).disabled = False
        if result is None:
            self._set_status("refresh failed (an unexpected error)", "bold red")
        elif result.ok and result.unchanged:
            out = Text("static token: nothing to refresh", style="bold yellow")
            out.append(
                " (it has no refresh token; the same token was "
                + ("checked again: the server still accepts it)" if result.checked else "kept)")
            )
            self._set_status(out)
        elif result.ok and result.tokens is not None:
            now = self.now()
            tokens = result.tokens
            out = Text("✓ refreshed: ", style="bold green")
            if tokens.expires_at is not None:
                out.append(
                    f"the new access token expires {format_time_ts(tokens.expires_at)} "
                    f"({humanize_delta(tokens.expires_at - now, future='expires', past='expired')})"
                )
            else:
                out.append("new tokens (the server gave no expiry)")
            if self.source == "pasted":
                out.append("; the view shows the PASTED token (x goes back)", style="dim")
            self._set_status(out)
        else:
            out = Text("✗ refresh failed: ", style="bold red")
            out.append(escape_keep_newlines(result.words))
            self._set_status(out)
        self.inspect_now()

    def _verify_done(self, result: Outcome | None) -> None:
        if result is not None and result.seq != self._verify_seq:
            return
        if result is None:
            self._set_status("verify failed (an unexpected error)", "bold red")
            return
        if not result.ok:
            out = Text("✗ could not verify: ", style="bold red")
            out.append(escape_keep_newlines(result.words))
            self._set_status(out, about=result.token)
            return
        if result.token is not None:
            self._keys[result.token] = result
            while len(self._keys) > 8:
                self._keys.pop(next(iter(self._keys)))
        self.inspect_now()
        report = self.report
        if report is None or self.token != result.token:
            self._set_status(
                f"keys fetched from {escape_control(result.url or '?')}", "dim", about=result.token
            )
            return
        sig = report.signature
        words = {
            "valid": ("✓ signature valid", "bold green"),
            "invalid": ("✗ signature INVALID", "bold red"),
        }.get(sig.status, ("signature not checked", "yellow"))
        out = Text(words[0], style=words[1])
        out.append(f" (keys from {escape_control(result.url or '?')})", style="dim")
        self._set_status(out, about=result.token)

    @on(Worker.StateChanged)
    def _worker_done(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group not in ("token-refresh", "token-verify"):
            return
        event.stop()
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        result = worker.result if event.state == WorkerState.SUCCESS else None
        if worker.group == "token-refresh":
            self._refresh_done(result)
        else:
            self._verify_done(result)

    def action_toggle_reveal(self) -> None:
        self.revealed = not self.revealed
        self._draw()

    def action_copy(self) -> None:
        token = self.token
        if token is None:
            self._set_status("no token to copy", "yellow")
            return
        if not self.revealed:
            moment = time.monotonic()
            if moment > self._copy_armed_until:
                self._copy_armed_until = moment + COPY_CONFIRM_SECONDS
                self._set_status(
                    "the token is hidden: press c (Copy) again within 5 s to copy it "
                    "anyway, or s to show it first",
                    "yellow",
                    about=token,
                )
                return
        self._copy_armed_until = 0.0
        self.app.copy_to_clipboard(token)
        what = "pasted token" if self.source == "pasted" else f"session {KINDS[self.which]}"
        self._set_status(
            f"copied the {what} ({len(token)} characters) to the clipboard", "green", about=token
        )

    def action_next_token(self) -> None:
        if self.source == "pasted":
            return
        kinds = [kind for _, kind in self._options()]
        if len(kinds) <= 1:
            return
        self.which = (
            kinds[(kinds.index(self.which) + 1) % len(kinds)] if self.which in kinds else "access"
        )
        with self.query_one("#ti-which", Select).prevent(Select.Changed):
            self.query_one("#ti-which", Select).value = self.which
        self.inspect_now()

    def action_focus_paste(self) -> None:
        self.query_one("#ti-paste", Input).focus()

    def action_clear_paste(self) -> None:
        self.query_one("#ti-paste", Input).value = ""
        self.paste("")

    def paste(self, text: str) -> None:
        """Decode ``text`` as a pasted token (empty: back to the session's tokens)."""
        if text != self.pasted:
            self.pasted = text
            self._copy_armed_until = 0.0
            self.inspect_now()

    # --- events -----------------------------------------------------------------------------
    @on(Input.Changed, "#ti-paste")
    def _pasted(self, event: Input.Changed) -> None:
        event.stop()
        self.paste(event.value)

    @on(Select.Changed, "#ti-which")
    def _which_changed(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, str) and event.value in KINDS and event.value != self.which:
            self.which = event.value
            self._copy_armed_until = 0.0
            self.inspect_now()

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        actions = {
            "ti-refresh": self.action_refresh_now,
            "ti-verify": self.action_verify,
            "ti-reveal": self.action_toggle_reveal,
            "ti-copy": self.action_copy,
        }
        action = actions.get(event.button.id or "")
        if action is not None:
            event.stop()
            action()
