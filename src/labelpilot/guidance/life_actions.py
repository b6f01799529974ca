"""Actions for where a confirmed track's life starts and ends: accept the proposed life, check a weak end.

For each confirmed track that came from a candidate (``Provenance("candidate", ...)``: it has
detections of its own to go by), ``automation.life_evidence.propose_life`` proposes a first and last
frame from detection coverage, sensor coverage and point support:

* **accept_life** (one key): set the track's life to the proposal. Offered until the track carries
  the attribute ``life_accepted`` (the editor sets it when the key is pressed). ``life`` is the
  proposed (first, last); the item opens the track at the proposed last frame;
* **check_end**: one per end the evidence leaves weak, opened at that end's frame in the side
  close-up (where a box's presence and extent are judged), until the track's attribute
  ``life_checked_first`` (``life_checked_last``) holds that frame: the editor records there the end a
  person has looked at.

Tracks a person drew have no detections: their lives are the person's.
"""

from __future__ import annotations

from collections.abc import Sequence

from labelpilot.automation.life_evidence import DEFAULT_LIFE_SETTINGS, EndName, LifeSettings, propose_life
from labelpilot.automation.sweep_access import SweepSource
from labelpilot.guidance.actions import Action
from labelpilot.guidance.costs import accept_life_price, check_end_price
from labelpilot.scenes import Scene
from labelpilot.tracks import Track

LIFE_ACCEPTED = "life_accepted"
LIFE_CHECKED = {"first": "life_checked_first", "last": "life_checked_last"}


def life_actions(
    scene: Scene,
    layer: str,
    tracks: Sequence[Track],
    sweeps: SweepSource | None = None,
    settings: LifeSettings = DEFAULT_LIFE_SETTINGS,
) -> list[Action]:
    """``accept_life`` and ``check_end`` actions for ``tracks`` (confirmed tracks of ``layer``)."""
    actions: list[Action] = []
    for track in tracks:
        if track.provenance.kind != "candidate" or not track.frames():
            continue
        proposal = propose_life(scene, track, sweeps, settings)
        accepted = track.attributes.get(LIFE_ACCEPTED) is True
        if not accepted:
            reasons = f"starts at {proposal.first.frame} ({proposal.first.reason}), ends at {proposal.last.frame} ({proposal.last.reason})"
            actions.append(
                Action.priced(
                    "accept_life",
                    accept_life_price(),
                    reason=f"{track.label}: proposed life {reasons}",
                    track_id=track.track_id,
                    frame=proposal.last.frame,
                    layer=layer,
                    life=proposal.frames,
                )
            )
        names: tuple[EndName, EndName] = ("first", "last")
        for name in names:
            end = proposal.end(name)
            checked = track.attributes.get(LIFE_CHECKED[name])
            if not end.weak or (isinstance(checked, int) and checked == end.frame):
                continue
            actions.append(
                Action.priced(
                    "check_end",
                    check_end_price(),
                    reason=f"{track.label}: is the {name} frame {end.frame} right? {end.reason}",
                    track_id=track.track_id,
                    frame=end.frame,
                    view="side",
                    layer=layer,
                    life=proposal.frames,
                )
            )
    return actions
