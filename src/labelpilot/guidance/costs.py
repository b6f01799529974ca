"""What guidance actions cost and save, in seconds of an annotator's effort.

Every price is a sum of the actions of the project's effort model (``shared/EFFORT_MODEL.md``,
Keystroke-Level Model operators), so the guidance queue and the effort benchmark speak the same
currency. An action's ``cost`` is what doing it takes; its ``saves`` is what the slower path it
replaces would take minus that cost (never negative); the queue ranks by ``saves / cost``.

The paths compared (``n`` frames in the object's life, ``k`` keyframes that reproduce its trajectory):

* frame by frame: select the object, accept it, then step through every frame and inspect it:
  ``SELECT + ACCEPT + n * (NEXT_FRAME + INSPECT)``;
* by keyframes, walked from the queue: open the first keyframe, judge it, accept, then go to each
  further keyframe by key and judge it: ``NEXT_ITEM + INSPECT + ACCEPT + (k - 1) * (NEXT_ITEM + INSPECT)``;
* stationary: open it, judge it once, mark it stationary: ``NEXT_ITEM + INSPECT + MARK_STATIONARY``.

Corrections (move, rotate, resize) are left out where both paths would need the same ones; where an
action exists to make one (measuring a size, fixing a flagged frame, drawing a missed object) it is
counted, weighted by how likely it is needed. The few assumptions that are not in the effort model
are named constants below.
"""

from __future__ import annotations

from dataclasses import dataclass

from labelpilot.effort.prices import seconds

# The effort model's actions (seconds), read from the benchmark's price table so both speak one currency.
NEXT_FRAME = seconds("next_frame")
JUMP_TO_FRAME = seconds("jump_to_frame")
NEXT_ITEM = seconds("next_item")
INSPECT = seconds("inspect")
SCAN_FRAME = seconds("scan_frame")
SELECT = seconds("select")
ACCEPT = seconds("accept")
REJECT = seconds("reject")
MARK_STATIONARY = seconds("mark_stationary")
MOVE = seconds("move")
ROTATE = seconds("rotate")
RESIZE = seconds("resize")
SET_CLASS = seconds("set_class")
DRAW_CUBOID = seconds("draw_cuboid")
SUBMIT = seconds("submit")

VIEW_SEARCH_LOOKS = 2
"""Assumption: without a suggested view a person tries this many extra frames (a jump and a look
each) before finding one that shows a dimension well."""
FLAG_SEARCH_SHARE = 0.5
"""Assumption: without a flag a person steps through this share of a track's life to find a problem."""


@dataclass(frozen=True)
class Price:
    """Seconds an action costs and saves; ``priority`` is saves per second of cost."""

    cost_seconds: float
    saves_seconds: float

    @property
    def priority(self) -> float:
        return self.saves_seconds / self.cost_seconds if self.cost_seconds > 0 else 0.0


def _price(cost: float, slow_path: float) -> Price:
    return Price(round(cost, 3), round(max(slow_path - cost, 0.0), 3))


def frame_by_frame_seconds(frames: int) -> float:
    """Labelling an object by stepping through each of its ``frames`` (see the module doc)."""
    return SELECT + ACCEPT + frames * (NEXT_FRAME + INSPECT)


def keyframe_walk_seconds(keyframes: int) -> float:
    """Confirming an object and judging it at each of its ``keyframes``, walked by key."""
    return NEXT_ITEM + INSPECT + ACCEPT + max(keyframes - 1, 0) * (NEXT_ITEM + INSPECT)


def stationary_seconds() -> float:
    """Confirming an object as stationary: one look, one key."""
    return NEXT_ITEM + INSPECT + MARK_STATIONARY


def confirm_stationary_price(keyframes_needed: int) -> Price:
    """One world box instead of confirming it by the ``keyframes_needed`` its own trajectory takes."""
    return _price(stationary_seconds(), keyframe_walk_seconds(keyframes_needed))


def confirm_moving_price(frames: int, keyframes: int) -> Price:
    """Walking ``keyframes`` suggested keyframes instead of stepping through all ``frames``."""
    return _price(keyframe_walk_seconds(keyframes), frame_by_frame_seconds(frames))


def reject_price() -> Price:
    """Rejecting a candidate the queue opens, instead of finding it (select) and judging it."""
    return _price(NEXT_ITEM + INSPECT + REJECT, SELECT + INSPECT + REJECT)


def measure_price(dimensions: int) -> Price:
    """Resizing ``dimensions`` sides at the suggested view, instead of searching for a view first."""
    resize = dimensions * RESIZE
    guided = NEXT_ITEM + INSPECT + resize
    searching = JUMP_TO_FRAME + INSPECT + VIEW_SEARCH_LOOKS * (JUMP_TO_FRAME + INSPECT) + resize
    return _price(guided, searching)


def review_flag_price(severity: float, life_frames: int) -> Price:
    """Looking at a flagged frame (and fixing it, with probability ``severity``), instead of stepping
    through part of the track's life to find the problem. The problem is real with probability
    ``severity``; only then would the search have been spent."""
    fix = severity * MOVE
    stepping = JUMP_TO_FRAME + FLAG_SEARCH_SHARE * life_frames * (NEXT_FRAME + INSPECT)
    return _price(NEXT_ITEM + INSPECT + fix, severity * stepping + fix)


def look_at_missed_price(strength: float) -> Price:
    """Looking where an object without a shape seems to be (and, with probability ``strength``, taking
    the box the tool saw there and moving it onto the object), instead of jumping to that frame,
    scanning all of it and drawing the object; the scan would have found something only if the object
    is real (probability ``strength``)."""
    take = strength * (ACCEPT + MOVE)
    return _price(NEXT_ITEM + INSPECT + take, strength * (JUMP_TO_FRAME + SCAN_FRAME + DRAW_CUBOID))


def keyframes_instead_of_stepping_price(frames_left: int, keyframes_left: int) -> Price:
    """Visiting the ``keyframes_left`` suggested keyframes by key instead of stepping through the
    ``frames_left`` frames still ahead of a person who keys every frame."""
    return _price(keyframes_left * (NEXT_ITEM + INSPECT), frames_left * (NEXT_FRAME + INSPECT))


def stationary_instead_of_stepping_price(frames_left: int) -> Price:
    """Making an object stationary instead of going on editing it frame by frame for ``frames_left``
    more frames (the path a person who keeps editing single frames is on)."""
    return _price(stationary_seconds(), frames_left * (NEXT_FRAME + INSPECT))


BOUNDARY_SEARCH_LOOKS = 3
"""Assumption: finding where a life ends by bisection between scans a second (10 frames) apart takes
this many probes (a jump and a look each, log2 of 10)."""


def accept_life_price() -> Price:
    """Accepting both ends of a proposed life with one key, instead of finding each by bisection."""
    return _price(ACCEPT, 2 * BOUNDARY_SEARCH_LOOKS * (JUMP_TO_FRAME + INSPECT))


def check_end_price() -> Price:
    """Looking at a flagged end the queue opens, instead of jumping there and searching for the end."""
    return _price(NEXT_ITEM + INSPECT, (1 + BOUNDARY_SEARCH_LOOKS) * (JUMP_TO_FRAME + INSPECT))
