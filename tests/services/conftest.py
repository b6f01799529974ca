"""Fixtures shared by the service tests."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.services.scene_rows import EditScene, make_edit_scene


@pytest.fixture
def edit_scene(db_factory: sessionmaker[Session]) -> EditScene:
    """``make_edit_scene``: a team, the KITTI scene with tracker candidates, and ann's task started."""
    return make_edit_scene(db_factory)
