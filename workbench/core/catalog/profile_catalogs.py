"""A profile's catalogs: its ``[[catalogs]]`` entries opened, and the base URL each is under."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from workbench.core.catalog.cache import OpenedCatalog, open_catalog
from workbench.core.catalog.model import Operation
from workbench.core.catalog.search import search
from workbench.core.profiles import CatalogRef, Profile


@dataclass(slots=True)
class ProfileCatalog:
    ref: CatalogRef
    opened: OpenedCatalog

    @property
    def name(self) -> str:
        return self.ref.name


def open_profile_catalogs(profile: Profile) -> list[ProfileCatalog]:
    """Every catalog the profile names, opened (network for URLs: call off the UI thread).
    Raises CatalogError for the first that cannot be opened."""
    from workbench.core.http import tls_verify

    base_dir = profile.path.parent if profile.path is not None else None
    return [
        ProfileCatalog(ref, open_catalog(ref.spec, base_dir=base_dir, verify=tls_verify(profile)))
        for ref in profile.catalogs
    ]


def base_url_for(
    profile: Profile, ref: CatalogRef, gateway: Callable[[], str] | None = None
) -> str:
    """Where the catalog's paths are sent: the profile's URL named by ``base``; for plgd, whose
    HTTP gateway the hub names at run time, the adapter's gateway when one is given."""
    if profile.platform == "plgd" and gateway is not None and "gateway" not in profile.urls:
        return gateway()
    return profile.urls[ref.base]


def find_operation(
    catalogs: list[ProfileCatalog], operation_id: str
) -> tuple[ProfileCatalog, Operation] | None:
    for pc in catalogs:
        op = pc.opened.catalog.find(operation_id)
        if op is not None:
            return pc, op
    return None


def search_all(
    catalogs: list[ProfileCatalog], query: str, *, tag: str | None = None
) -> list[tuple[ProfileCatalog, Operation]]:
    out: list[tuple[ProfileCatalog, Operation]] = []
    for pc in catalogs:
        for op in search(pc.opened.catalog, query):
            if tag is None or tag.lower() in (t.lower() for t in op.tags):
                out.append((pc, op))
    return out
