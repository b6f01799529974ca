"""`GET /api/scenes/{id}/layers/{layer}/tracks`: a whole layer as the editor loads it, on real sample data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.formats import read_scene
from labelpilot.tracks import Keyframed, world_shapes
from tests.api.authz_world import SUSTECH, World, make_world


@pytest.fixture
def world(api_app: FastAPI, db_factory: sessionmaker[Session]) -> World:
    return make_world(api_app, db_factory)


def _layer(client: TestClient, world: World, caller: str, layer: str) -> list[dict[str, Any]]:
    response = client.get(
        f"/api/scenes/{world.scene_id}/layers/{layer}/tracks", headers=world.team.auth(caller)
    )
    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()
    return listed


def test_a_layer_lists_every_track_with_its_derived_world_shapes(client: TestClient, world: World) -> None:
    domain = {t.track_id: t for t in read_scene("sustechpoints", SUSTECH).layer("ground_truth").tracks}
    listed = _layer(client, world, "rita", "ground_truth")
    assert sorted(item["track"]["key"] for item in listed) == sorted(domain)
    assert [item["track"]["id"] for item in listed] == sorted(item["track"]["id"] for item in listed)
    for item in listed:
        track, shapes = item["track"], item["shapes"]
        source = domain[track["key"]]
        expected = world_shapes(source)
        assert shapes["frames"] == expected.frames.tolist()
        np.testing.assert_allclose(shapes["centers"], expected.cuboids.centers, atol=1e-9)
        np.testing.assert_allclose(shapes["sizes"], expected.cuboids.sizes, atol=1e-12)
        np.testing.assert_allclose(shapes["yaws"], expected.cuboids.yaws, atol=1e-9)
        assert track["label"] == source.label and track["version"] == 1 and track["deleted"] is False
        assert isinstance(source.motion, Keyframed)
        assert sorted(int(f) for f in track["keyframes"]) == sorted(source.motion.keyframes)


def test_a_listed_track_is_what_its_last_edit_answered_and_deleted_ones_go(
    client: TestClient, world: World
) -> None:
    ann = world.team.auth("ann")
    assert _layer(client, world, "ann", "work") == []
    created = client.post(
        f"/api/scenes/{world.scene_id}/tracks",
        json={
            "label": "Car",
            "size": [4.2, 1.8, 1.5],
            "keyframes": {
                "0": {"center": [1.0, 2.0, 0.5], "yaw": 0.1},
                "2": {"center": [3.0, 2.0, 0.5], "yaw": 0.3},
            },
            "task_id": world.ann_task,
        },
        headers=ann,
    )
    assert created.status_code == 201, created.text
    track_id = created.json()["track"]["id"]
    stationary = client.post(
        f"/api/tracks/{track_id}/stationary",
        json={"expected_version": created.json()["track"]["version"], "task_id": world.ann_task},
        headers=ann,
    )
    assert stationary.status_code == 200, stationary.text
    assert _layer(client, world, "ann", "work") == [stationary.json()]
    deleted = client.delete(
        f"/api/tracks/{track_id}",
        params={"expected_version": stationary.json()["track"]["version"], "task_id": world.ann_task},
        headers=ann,
    )
    assert deleted.status_code == 200, deleted.text
    assert _layer(client, world, "ann", "work") == []


def test_unknown_layers_and_hidden_scenes_are_not_found(client: TestClient, world: World) -> None:
    missing = client.get(
        f"/api/scenes/{world.scene_id}/layers/no-such-layer/tracks", headers=world.team.auth("rita")
    )
    assert missing.status_code == 404
    assert "no-such-layer" in missing.json()["error"]
    hidden = client.get(
        f"/api/scenes/{world.scene_id}/layers/ground_truth/tracks", headers=world.team.auth("abe")
    )
    assert hidden.status_code == 404
