"""Pieces the headless commands share: getting a logged-in session without a person."""

from __future__ import annotations

import sys

from workbench.commands.browser_login import browser_hooks
from workbench.commands.device_code import DeviceCodeDisplay
from workbench.commands.output import emit, field, warn_tls
from workbench.core.profiles import Profile
from workbench.core.secrets import SecretResolver, tty_prompter
from workbench.core.session import Session
from workbench.core.store import TokenStore


def headless_session(profile: Profile, *, quiet: bool = False) -> Session:
    """The stored session for `profile` when there is one, else a fresh login.

    Secrets come from the environment / demo values / keyring, or a prompt on a TTY.
    The browser flow opens the browser when one can open, else offers paste-back on a
    terminal, else fails at once (browser_login.py): never a wait for a callback that
    cannot come.
    A profile with TLS verification off gets a WARNING line; stored tokens obtained for
    other origins or with other TLS settings are not used, and a note says why.
    Raises the core's AuthError / SecretError / TransportError; callers turn them into words.
    """
    warn_tls(profile)
    store = TokenStore()
    resolver = SecretResolver(prompter=tty_prompter())
    session = Session.restore(profile, store=store, resolver=resolver)
    if session is not None:
        return session
    why = store.why_not(profile.name, profile.origins(), tls=profile.tls_settings())
    if why:
        emit(f"note: {field(why)}; logging in again", sys.stderr)
    session = Session(profile, resolver=resolver, store=store)
    if not quiet:
        emit(f"logging in to {field(profile.name)} ({profile.auth.spec.label})…", sys.stderr)
    hooks = browser_hooks()
    device_display = DeviceCodeDisplay()
    try:
        session.login(
            open_browser=hooks.open_browser,
            show_url=hooks.show_url,
            offer_paste=hooks.offer_paste,
            show_device_code=device_display,
        )
    finally:
        device_display.stop()
    return session
