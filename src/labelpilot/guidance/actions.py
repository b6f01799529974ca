"""One step the editor offers a person: what to do, where, with which key, and what it saves."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from labelpilot.guidance.costs import Price

ActionKind = Literal[
    "confirm_stationary",
    "confirm_moving",
    "measure",
    "review_flag",
    "reject_false_positive",
    "look_at_missed",
    "accept_life",
    "check_end",
]
View = Literal["bev", "side", "back", "top"]

KEYS: dict[str, str] = {
    "confirm_stationary": "s",
    "confirm_moving": "Enter",
    "measure": "m",
    "review_flag": "f",
    "reject_false_positive": "x",
    "look_at_missed": "n",
    "accept_life": "a",
    "check_end": "g",
}
"""The one key that does each action in the editor."""

KIND_ORDER: dict[str, int] = {kind: i for i, kind in enumerate(KEYS)}
"""Breaks ties between equal priorities: confirming before measuring before reviewing."""


@dataclass(frozen=True)
class Proposal:
    """A box the tool offers to start a track from (a missed object's): world centre, heading of its
    x axis, size (length, width, height), class (None: the person picks one), and whether the object
    stood still wherever it was seen (then one world box over the action's ``life``)."""

    center: tuple[float, float, float]
    yaw: float
    size: tuple[float, float, float]
    label: str | None
    stationary: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "center": list(self.center),
            "yaw": self.yaw,
            "size": list(self.size),
            "label": self.label,
            "stationary": self.stationary,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Proposal:
        c, s = data["center"], data["size"]
        return cls(
            (float(c[0]), float(c[1]), float(c[2])),
            float(data["yaw"]),
            (float(s[0]), float(s[1]), float(s[2])),
            None if data.get("label") is None else str(data["label"]),
            bool(data.get("stationary", False)),
        )


@dataclass(frozen=True)
class Action:
    """A next best action.

    ``frame`` and ``view`` are where the editor opens it; ``keyframes`` are the frames to walk for a
    moving candidate (empty otherwise). ``saves_seconds`` and ``cost_seconds`` are priced with the
    effort model (``guidance.costs``), ``priority = saves_seconds / cost_seconds``. ``layer`` names
    the layer the track is in (a built candidate layer is ``candidates:<auto layer>``) and
    ``center_world`` where to look when there is no track (a missed object).
    """

    kind: ActionKind
    reason: str
    track_id: str | None
    frame: int
    view: str
    keyframes: tuple[int, ...]
    saves_seconds: float
    priority: float
    key: str
    layer: str | None = None
    cost_seconds: float = 0.0
    center_world: tuple[float, float, float] | None = None
    life: tuple[int, int] | None = None
    """``accept_life``: the proposed (first, last) frame; ``check_end``: the track's proposed life;
    ``look_at_missed``: the first and last frame the object was seen in."""
    proposal: Proposal | None = None
    """``look_at_missed``: the box seen at ``frame``, to take instead of drawing one."""

    @classmethod
    def priced(
        cls,
        kind: ActionKind,
        price: Price,
        *,
        reason: str,
        track_id: str | None,
        frame: int,
        view: View = "bev",
        keyframes: Iterable[int] = (),
        layer: str | None = None,
        center_world: tuple[float, float, float] | None = None,
        life: tuple[int, int] | None = None,
        proposal: Proposal | None = None,
    ) -> Action:
        """An action of ``kind`` with its key, saving and priority taken from ``price``."""
        return cls(
            kind=kind,
            reason=reason,
            track_id=track_id,
            frame=int(frame),
            view=view,
            keyframes=tuple(int(f) for f in keyframes),
            saves_seconds=price.saves_seconds,
            priority=round(price.priority, 6),
            key=KEYS[kind],
            layer=layer,
            cost_seconds=price.cost_seconds,
            center_world=center_world,
            life=None if life is None else (int(life[0]), int(life[1])),
            proposal=proposal,
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Action:
        """The action of a ``to_json`` answer (the guidance API's items)."""
        center = data.get("center_world")
        life = data.get("life")
        proposal = data.get("proposal")
        return cls(
            kind=data["kind"],
            reason=data["reason"],
            track_id=data["track_id"],
            frame=int(data["frame"]),
            view=data["view"],
            keyframes=tuple(int(f) for f in data["keyframes"]),
            saves_seconds=float(data["saves_seconds"]),
            priority=float(data["priority"]),
            key=data["key"],
            layer=data.get("layer"),
            cost_seconds=float(data.get("cost_seconds", 0.0)),
            center_world=None if center is None else (float(center[0]), float(center[1]), float(center[2])),
            life=None if life is None else (int(life[0]), int(life[1])),
            proposal=None if proposal is None else Proposal.from_json(proposal),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "reason": self.reason,
            "track_id": self.track_id,
            "frame": self.frame,
            "view": self.view,
            "keyframes": list(self.keyframes),
            "saves_seconds": self.saves_seconds,
            "priority": self.priority,
            "key": self.key,
            "layer": self.layer,
            "cost_seconds": self.cost_seconds,
            "center_world": None if self.center_world is None else list(self.center_world),
            "life": None if self.life is None else list(self.life),
            "proposal": None if self.proposal is None else self.proposal.to_json(),
        }


def ranked(actions: Iterable[Action]) -> list[Action]:
    """Highest priority first; equal priorities in a fixed order (kind, frame, track) so runs agree and
    items of one frame follow each other (a person changes frames as rarely as possible)."""
    return sorted(
        actions,
        key=lambda a: (-a.priority, KIND_ORDER[a.kind], a.layer or "", a.frame, a.track_id or "", a.reason),
    )
