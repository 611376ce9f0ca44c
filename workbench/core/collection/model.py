"""The pieces of a collection: its saved requests (:class:`CollectionRequest`), variables
(literal strings, secret references, :class:`SessionRef`), the format's key names, and the
canonical data each of them is written as (what round-trips through a file)."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from workbench.core.collection.expectations import Expect, expect_to_data
from workbench.core.errors import CollectionError
from workbench.core.requests import BodyPart, RequestSpec
from workbench.core.secrets import SecretRef

FORMAT_VERSION = 1
TOP_KEYS = ("version", "collection", "variables", "requests")
COLLECTION_KEYS = ("name", "description", "profile")
REQUEST_KEYS = (
    "name",
    "method",
    "url",
    "profile",
    "deadline",
    "query",
    "headers",
    "body",
    "capture",
    "expect",
)
BODY_KEYS = ("json", "text", "form", "multipart")
PART_KEYS = ("name", "value", "file", "content_type", "filename")
REF_KEYS = ("env", "prompt", "keyring")
SESSION_FIELDS = ("access_token", "id_token")


@dataclass(frozen=True)
class SessionRef:
    """`{ session = "access_token" }`: a value the logged-in session provides at send time."""

    field: str = "access_token"

    def describe(self) -> str:
        return f"the session's {self.field.replace('_', ' ')}"


Variable = str | SecretRef | SessionRef


@dataclass(frozen=True)
class FileStamp:
    """What the file was when loaded or saved (to tell whether it changed on disk since)."""

    mtime_ns: int
    size: int
    sha256: str

    @classmethod
    def of(cls, path: Path, data: bytes) -> FileStamp:
        st = path.stat()
        return cls(st.st_mtime_ns, st.st_size, hashlib.sha256(data).hexdigest())


@dataclass
class CollectionRequest:
    spec: RequestSpec
    captures: dict[str, str] = field(default_factory=dict)  # variable -> "$.path" | "header:Name"
    expect: Expect = field(default_factory=Expect)
    profile: str | None = None
    origin: int | None = field(default=None, repr=False, compare=False)  # index in the loaded file

    @property
    def name(self) -> str:
        return self.spec.name

    def data(self) -> dict[str, Any]:
        return request_data(self)

    def copy(self) -> CollectionRequest:
        return copy.deepcopy(self)

    def prepare(
        self,
        variables: Mapping[str, object],
        base_url: str | None = None,
        *,
        files_dir: Path | None = None,
        files_anywhere: bool = False,
    ) -> RequestSpec:
        """The spec with every {{name}} rendered and a relative URL ("/path") joined to
        `base_url`. Unknown variables raise CollectionError naming them.

        With `files_dir` (the collection's folder) the files of a multipart body are
        resolved against it and must stay inside it (``..``, absolute paths and symlinks
        leading out are refused with CollectionError) unless `files_anywhere`."""
        try:
            spec = self.spec.render(variables)
        except KeyError as exc:
            names = exc.args[0]
            raise CollectionError(
                f"request '{self.name}' uses unknown variable(s): {names}",
                hint="define them in [variables], capture them from an earlier request, or pass --var NAME=VALUE",
            ) from None
        spec.url = resolve_url(spec.url, base_url)
        if files_dir is not None and spec.parts:
            spec.parts = part_files(self.name, spec.parts, files_dir, files_anywhere)
        return spec


OUTSIDE_HINT = (
    "keep uploaded files in the collection's folder (or below it); if you trust "
    "this collection, run it with --allow-outside-files"
)


def part_files(
    request: str,
    parts: Sequence[BodyPart],
    files_dir: Path,
    anywhere: bool = False,
    *,
    hint: str = OUTSIDE_HINT,
) -> list[BodyPart]:
    """The parts of a multipart body with each file made an absolute path resolved against
    `files_dir` (a collection's folder), fields as they are. The one rule for a collection's
    files, used by `workbench run`, the TUI's replay and its composer: CollectionError (with
    `hint`) for a file that leads out of that folder, unless `anywhere`."""
    return [
        replace(p, file=part_path(request, p, files_dir, anywhere, hint=hint))
        if p.file is not None
        else p
        for p in parts
    ]


def part_path(
    request: str,
    part: BodyPart,
    files_dir: Path,
    anywhere: bool = False,
    *,
    hint: str = OUTSIDE_HINT,
) -> str:
    """The absolute path of a multipart part's file, relative to `files_dir` (a
    collection's folder); CollectionError when it leads out of that folder (unless
    `anywhere`). See docs/collections.md ("Multipart bodies")."""
    assert part.file is not None
    base = files_dir.resolve()
    try:
        path = (base / Path(part.file).expanduser()).resolve()
    except (OSError, RuntimeError, ValueError) as exc:
        raise CollectionError(
            f"request '{request}': the file '{part.file}' of part '{part.name}' is not a usable path ({exc})"
        ) from None
    if not anywhere and not path.is_relative_to(base):
        raise CollectionError(
            f"request '{request}': the file '{part.file}' of part '{part.name}' is outside the "
            f"collection's folder ({base}); it was not read, nothing was sent",
            hint=hint,
        )
    return str(path)


MOVED_HINT = (
    "copy the file into {folder} (or below it) and name the copy in the part, or save "
    "into a collection in a folder that holds the file"
)


def rebase_part_files(
    request: str, parts: Sequence[BodyPart], from_dir: Path, to_dir: Path
) -> tuple[list[BodyPart], list[str]]:
    """The parts of a multipart body, their files read from `from_dir` (the folder of the
    collection the request came from, or the working directory), rewritten to name the
    SAME files from `to_dir` (the folder of the collection it is saved into), and notes in
    plain words. See docs/collections.md ("Saving into another collection").

    Each file becomes a path relative to `to_dir` (a relative path is kept as written when
    both folders are one), and a file outside `to_dir` raises CollectionError (nothing is
    saved): `workbench run` would refuse an absolute path or a ``..`` leading out. A path
    that starts with a ``{{variable}}`` cannot be followed: it is kept, with a note."""
    src, dst = from_dir.resolve(), to_dir.resolve()
    out: list[BodyPart] = []
    notes: list[str] = []
    for part in parts:
        if part.file is None:
            out.append(part)
            continue
        if part.file.startswith("{{"):
            if src != dst:
                notes.append(
                    f"the file '{part.file}' of part '{part.name}' starts with a variable: kept "
                    f"as it is, now read relative to {dst}; check that it still names the file"
                )
            out.append(part)
            continue
        given = Path(part.file).expanduser()
        try:
            path = (src / given).resolve()
        except (OSError, RuntimeError, ValueError) as exc:
            raise CollectionError(
                f"request '{request}': the file '{part.file}' of part '{part.name}' is not a "
                f"usable path ({exc}); nothing was saved"
            ) from None
        if not path.is_relative_to(dst):
            raise CollectionError(
                f"request '{request}': the file '{part.file}' of part '{part.name}' ({path}) is "
                f"outside the folder of the collection it is saved into ({dst}); `workbench run` "
                "would refuse it, so nothing was saved",
                hint=MOVED_HINT.format(folder=dst),
            )
        if src == dst and not given.is_absolute():
            out.append(part)  # as written (its {{variables}} and ./ kept)
            continue
        written = path.relative_to(dst).as_posix()
        if written != part.file:
            notes.append(
                f"the file of part '{part.name}' is written as '{written}' (relative to "
                f"{dst}): the same file as '{part.file}' was"
            )
        if not _is_file(path):
            notes.append(f"the file '{written}' of part '{part.name}' does not exist (yet)")
        out.append(replace(part, file=written))
    return out, notes


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def resolve_url(url: str, base_url: str | None) -> str:
    """A URL starting with "/" is relative to the profile's base URL."""
    if url.startswith("/") and base_url:
        return base_url.rstrip("/") + url
    return url


# --- canonical data (what is written, and what round-trips) -------------------------------


def variable_data(value: Variable) -> Any:
    if isinstance(value, SessionRef):
        return {"session": value.field}
    if isinstance(value, SecretRef):
        return {k: getattr(value, k) for k in REF_KEYS if getattr(value, k) is not None}
    return value


def request_data(req: CollectionRequest) -> dict[str, Any]:
    spec = req.spec
    out: dict[str, Any] = {"name": spec.name, "method": spec.method.upper(), "url": spec.url}
    if req.profile:
        out["profile"] = req.profile
    if spec.deadline is not None:
        out["deadline"] = int(spec.deadline) if spec.deadline.is_integer() else spec.deadline
    if spec.params:
        out["query"] = [[k, v] for k, v in spec.params]
    if spec.headers:
        out["headers"] = [[k, v] for k, v in spec.headers]
    if spec.body_kind in ("json", "text"):
        out["body"] = {spec.body_kind: spec.body}
    elif spec.body_kind == "form":
        keys = [k for k, _ in spec.form]
        if len(set(keys)) == len(keys):
            out["body"] = {"form": dict(spec.form)}
        else:
            out["body"] = {"form": [[k, v] for k, v in spec.form]}
    elif spec.body_kind == "multipart":
        out["body"] = {"multipart": [part_data(p) for p in spec.parts]}
    if req.captures:
        out["capture"] = dict(req.captures)
    if not req.expect.is_empty():
        out["expect"] = expect_to_data(req.expect)
    return out


def part_data(part: BodyPart) -> dict[str, str]:
    """A multipart part as written: name, then value or file, then content_type, filename."""
    return {
        k: v
        for k in PART_KEYS
        if (v := getattr(part, k)) is not None and (k != "value" or part.file is None)
    }
