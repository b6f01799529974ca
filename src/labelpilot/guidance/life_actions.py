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

A track a person drew (``Provenance("manual")``) has no detections, but its boxes can be carried past
its last frame: a stationary one's world box through the poses like a stationary candidate's (sensor
view, point support), a moving one keyed at two frames or more where its keyframes lead
(``tracks.extrapolation``; the editor extends it there when the life is accepted). Its first frame is
the person's: people draw an object where they first find it, working forwards through the scene, so
only where it ends is ahead of them. It is offered the proposed life while the proposal goes past its
last frame and no one has looked past that frame (``life_checked_last`` beyond it: the object was found
gone there); once the life is accepted, the proposal is carried on from the new last frame, so a
long-lived object is taken a stretch at a time, each ending in a look where the evidence is weak.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from labelpilot.automation.life_evidence import (
    DEFAULT_LIFE_SETTINGS,
    EndName,
    LifeEnd,
    LifeProposal,
    LifeSettings,
    propose_end,
    propose_life,
)
from labelpilot.automation.sweep_access import SweepSource
from labelpilot.guidance.actions import Action
from labelpilot.guidance.costs import accept_life_price, check_end_price
from labelpilot.guidance.memo import GuidanceMemo, scene_fingerprint, sweeps_kind, track_fingerprint
from labelpilot.scenes import Scene
from labelpilot.tracks import Keyframed, Track

LIFE_ACCEPTED = "life_accepted"
LIFE_CHECKED = {"first": "life_checked_first", "last": "life_checked_last"}


def _drawn(track: Track) -> bool:
    """A track a person drew that has a box to carry on: stationary, or keyed at two frames or more."""
    if track.provenance.kind != "manual":
        return False
    motion = track.motion
    return track.is_stationary or (isinstance(motion, Keyframed) and len(motion.keyframes) >= 2)


def proposal_for(
    scene: Scene, track: Track, sweeps: SweepSource | None, settings: LifeSettings = DEFAULT_LIFE_SETTINGS
) -> LifeProposal | None:
    """The life proposed for a confirmed track (see the module doc), None where there is no evidence."""
    if not track.frames():
        return None
    if track.provenance.kind == "candidate":
        return propose_life(scene, track, sweeps, settings)
    if not _drawn(track):
        return None
    first = LifeEnd(track.first_frame, False, "a person drew it from here")
    last = propose_end(scene, track, "last", sweeps, settings, judged_box=True)
    return LifeProposal(track.track_id, first, last)


def _offered(track: Track, proposal: LifeProposal) -> bool:
    """Whether ``accept_life`` is still offered for the track."""
    if _drawn(track):
        # A person looked past the last frame (and found the object gone there): nothing to carry on.
        looked = track.attributes.get(LIFE_CHECKED["last"])
        looked_past = isinstance(looked, int) and looked > track.last_frame
        return proposal.last.frame > track.last_frame and not looked_past
    return track.attributes.get(LIFE_ACCEPTED) is not True


def _track_life_actions(
    scene: Scene, layer: str, track: Track, sweeps: SweepSource | None, settings: LifeSettings
) -> tuple[Action, ...]:
    """``accept_life`` and ``check_end`` actions for one confirmed track of ``layer``."""
    proposal = proposal_for(scene, track, sweeps, settings)
    if proposal is None:
        return ()
    actions: list[Action] = []
    if _offered(track, proposal):
        first, last = proposal.first, proposal.last
        reasons = f"starts at {first.frame} ({first.reason}), ends at {last.frame} ({last.reason})"
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
    return tuple(actions)


def life_actions(
    scene: Scene,
    layer: str,
    tracks: Sequence[Track],
    sweeps: SweepSource | None = None,
    settings: LifeSettings = DEFAULT_LIFE_SETTINGS,
    memo: GuidanceMemo | None = None,
) -> list[Action]:
    """``accept_life`` and ``check_end`` actions for ``tracks`` (confirmed tracks of ``layer``).

    With a ``memo``, a track's actions are computed only when the track, the scene's frames and
    sensors, whether (and which kind of) sweeps are given or the settings changed.
    """
    if memo is None:
        return [a for track in tracks for a in _track_life_actions(scene, layer, track, sweeps, settings)]
    scene_key, sweeps_key = scene_fingerprint(scene), sweeps_kind(sweeps)
    actions: list[Action] = []
    for track in tracks:
        key = ("life_actions", scene_key, track_fingerprint(track), layer, sweeps_key, settings)
        compute = partial(_track_life_actions, scene, layer, track, sweeps, settings)
        actions.extend(memo.get_or_compute(key, compute))
    return actions
