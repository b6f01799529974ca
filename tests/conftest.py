"""Shared fixtures: the bundled real sample data, and ../shared/data when it is present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# The machines have 2 shared cores: no per-example deadline, a fixed example budget.
settings.register_profile("labelpilot", deadline=None, max_examples=100)
settings.load_profile("labelpilot")

pytest_plugins = ["tests.database"]

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "sample"


def _shared_data_dir() -> Path | None:
    configured = os.environ.get("LABELPILOT_SHARED_DATA")
    candidate = Path(configured) if configured else REPO.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The real data subsets bundled in the repo (data/sample)."""
    return SAMPLE


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The full shared data set; tests that need it are skipped where it is absent."""
    found = _shared_data_dir()
    if found is None:
        pytest.skip("../shared/data is not present on this machine")
    return found
