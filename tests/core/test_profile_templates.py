"""New profiles from templates: every template makes a profile that loads; nothing is overwritten."""

from __future__ import annotations

import pytest

from workbench.core.errors import ProfileError
from workbench.core.profile_templates import TEMPLATES, create_profile
from workbench.core.profiles import discover, load_profile


@pytest.mark.parametrize("platform", TEMPLATES)
def test_every_template_makes_a_loadable_profile(platform: str) -> None:
    path = create_profile(f"my-{platform}", platform)
    profile = load_profile(path, "user")
    assert profile.name == f"my-{platform}" and profile.platform == platform
    assert not profile.is_demo and profile.verify_tls
    assert f"my-{platform}" in discover().profiles


def test_no_overwrite_and_bad_names() -> None:
    create_profile("mine", "thinger")
    with pytest.raises(ProfileError, match="already exists"):
        create_profile("mine", "thinger")
    with pytest.raises(ProfileError, match="letters, digits"):
        create_profile("../evil", "thinger")
    with pytest.raises(ProfileError, match="no template"):
        create_profile("x", "mars")
