"""The price table is the effort model's, and the oracle answers only what a paid look shows."""

from __future__ import annotations

import json
import re
from importlib import resources

import numpy as np
import pytest

from labelpilot.effort import prices
from labelpilot.effort.ground_truth import GroundTruth
from labelpilot.effort.ledger import Ledger
from labelpilot.effort.oracle import HonestyError, Oracle, cheapest_corrections
from labelpilot.geometry import Cuboid, Pose
from labelpilot.guidance import costs
from labelpilot.tracks import Track


def test_every_action_costs_its_operators_and_guidance_uses_the_same_table() -> None:
    table = prices.price_table()
    assert "Card, Moran & Newell" in table.citation
    assert table.operator_seconds == {"K": 0.2, "P": 1.1, "B": 0.1, "H": 0.4, "M": 1.35}
    assert table.seconds("draw_cuboid") == pytest.approx(9.85)
    assert table.actions["move"].operators == ("P", "B", "P", "B")
    assert (table.seconds("inspect"), table.seconds("draw_cuboid")) == (costs.INSPECT, costs.DRAW_CUBOID)


def test_a_table_whose_seconds_disagree_with_its_operators_is_refused() -> None:
    text = resources.files("labelpilot.effort").joinpath(prices.TABLE_FILE).read_text(encoding="utf-8")
    data = json.loads(text)
    data["actions"]["inspect"]["seconds"] = 1.0
    with pytest.raises(ValueError, match=re.escape("'inspect' says 1.0 s but its operators sum to 1.35 s")):
        prices._parse(data)
    data["actions"]["inspect"]["seconds"] = 1.35
    del data["actions"]["submit"]
    with pytest.raises(ValueError, match="'submit' is missing"):
        prices._parse(data)


def _car(track_id: str, xs: list[float]) -> Track:
    keys = {f: Pose.from_yaw(0.0, [x, 0.0, 0.0]) for f, x in enumerate(xs)}
    return Track.keyframed(track_id, "Car", [4.0, 1.8, 1.5], keys)


def test_the_oracle_refuses_ground_truth_no_paid_look_has_shown() -> None:
    truth = GroundTruth([_car("a", [0.0, 1.0, 2.0]), _car("b", [20.0, 20.0, 20.0])])
    ledger = Ledger()
    oracle = Oracle(truth, ledger)
    with pytest.raises(HonestyError, match="object a in frame 1 was never looked at"):
        oracle.measured("a", 1)
    assert oracle.scan(1, [Cuboid.from_yaw([20.0, 0.0, 0.0], [4.0, 1.8, 1.5], 0.0)]) == ["a"]
    assert oracle.measured("a", 1).center.tolist() == [1.0, 0.0, 0.0]
    with pytest.raises(HonestyError):  # the scan covered frame 1 only
        oracle.measured("a", 2)
    off = Cuboid.from_yaw([3.0, 0.0, 0.0], [4.0, 1.8, 1.5], 0.0)
    verdict = oracle.inspect(off, "Car", 2)  # which object is this box on?
    assert (verdict.object_id, verdict.present, verdict.passes, verdict.corrections) == (
        "a",
        True,
        False,
        ("move",),
    )
    assert oracle.corrected(off, "a", 2, verdict.corrections).center.tolist() == [2.0, 0.0, 0.0]
    assert oracle.inspect(off, "Van", 2, "a").corrections == ("move", "set_class")
    assert not oracle.look_for("b", 3)  # the scene has no frame 3
    assert [e.action for e in ledger.entries] == ["scan_frame", "inspect", "inspect", "inspect"]
    assert ledger.seconds == pytest.approx(2.7 + 3 * 1.35)


def test_cheapest_corrections_pick_the_fewest_that_pass() -> None:
    truth = Cuboid.from_yaw([0.0, 0.0, 0.0], [4.0, 1.8, 1.5], 0.0)
    assert cheapest_corrections(truth, truth, 0.7) == ()
    turned = Cuboid.from_yaw([0.0, 0.0, 0.0], [4.0, 1.8, 1.5], np.pi / 4)
    assert cheapest_corrections(turned, truth, 0.7) == ("rotate",)
    short = Cuboid.from_yaw([0.0, 0.0, 0.0], [2.0, 1.8, 1.5], 0.0)
    assert cheapest_corrections(short, truth, 0.7) == ("resize:length",)
    assert cheapest_corrections(short, truth, 0.45) == ()  # a pedestrian-like threshold lets it pass
