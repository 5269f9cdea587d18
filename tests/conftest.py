"""Shared by every test package: kept small on purpose."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

import pytest

_counter = itertools.count(1)


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> Callable[[], str]:
    """Valid HQ resource names that no other test uses, readable in a failure:
    `test_patch_merges_metadata[/v1]` -> `patch-merges-metadata-v1-17`."""
    stem = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower().removeprefix("test_")).strip("-")[:48].strip("-")
    return lambda: f"{stem}-{next(_counter)}"
