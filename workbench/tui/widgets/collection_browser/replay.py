"""Plain helpers of the collection browser's replays (no widgets): :class:`SessionFinder`,
which gives the replay worker a session for each profile a collection names (the screen's,
one of the app's logged-in ones, else one restored from the stored tokens), the result row of
a request that could not be made (:func:`failed_result`), and :func:`call_ui`, a guarded
``App.call_from_thread`` (the worker asks for a secret in a dialog through it; its results
go to the browser as messages)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from textual.app import App

from workbench.core.errors import WorkbenchError
from workbench.core.text import escape_keep_newlines

if TYPE_CHECKING:
    from workbench.core.collection.model import CollectionRequest
    from workbench.core.collection.runner import RequestResult
    from workbench.core.profiles import Profile


class SessionFinder:
    """Profile name -> Session, for a replay (built on the UI thread, called from the worker).

    ``own``: the sessions of this screen (its profile's); ``others``: the app's logged-in
    sessions; ``profiles``: the profiles known to the app (else ``get_profile``). Any other
    profile's session is restored from its stored tokens with ``prompter`` asking for
    secrets; those are kept in ``restored`` (:meth:`close_restored` closes them). A profile
    that failed once fails again at once, with the same error."""

    def __init__(
        self,
        own: Mapping[str, Any],
        others: Mapping[str, Any] | None = None,
        profiles: Mapping[str, Profile] | None = None,
        prompter: Callable[[str, bool], str] | None = None,
    ) -> None:
        self.own = dict(own)
        self.others = dict(others or {})
        self.profiles = dict(profiles or {})
        self.prompter = prompter
        self.failed: dict[str, WorkbenchError] = {}
        self.restored: list[Any] = []

    def __call__(self, name: str) -> Any:
        from workbench.core.errors import LoginRequired

        if name in self.own:
            return self.own[name]
        if self.others.get(name) is not None:
            return self.others[name]
        if name in self.failed:
            raise self.failed[name]
        from workbench.core.profiles import get_profile
        from workbench.core.session import Session

        try:
            profile = self.profiles[name] if name in self.profiles else get_profile(name)
            session = Session.restore(profile, prompter=self.prompter)
            if session is None:
                raise LoginRequired(
                    f"log in to {name} first",
                    hint=f"open the profile {name} and log in; replays then use its session",
                )
        except WorkbenchError as err:
            self.failed[name] = err
            raise
        self.own[name] = session
        self.restored.append(session)
        return session

    def close_restored(self) -> None:
        """Close the sessions this finder restored (the replay is over)."""
        for session in self.restored:
            session.close()
        self.restored.clear()


def failed_result(
    index: int, req: CollectionRequest, profile: str | None, words: str
) -> RequestResult:
    """The row of a request that could not be made: ``words`` say why (escaped here)."""
    from workbench.core.collection.runner import RequestResult

    return RequestResult(
        index=index,
        name=req.name,
        method=req.spec.method.upper(),
        url=escape_keep_newlines(req.spec.url),
        profile=profile,
        error=escape_keep_newlines(words),
    )


def call_ui(app: App[Any], callback: Callable[..., Any], *args: Any) -> bool:
    """``app.call_from_thread``; False when the app is gone (closing while a replay runs)."""
    try:
        app.call_from_thread(callback, *args)
    except RuntimeError:
        return False
    return True
