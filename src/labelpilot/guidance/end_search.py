"""The end search: where does a track's life really end (or start)? One rule for the editor and the
effort benchmark's annotator.

A search holds a frame where the object is (``present``) and one where it is gone (``absent``). Each
probe opens a frame between the two and the person's answer (here / not here) narrows the bracket;
once the two are adjacent the life ends (starts) at ``present``, in one edit.

It starts (``start_search``) at the frame on screen, where the person sees the object gone:

* **outside the life** (gone here, or not there yet): ``present`` is the nearest end of the life, and
  the first probe is the frame just past that end (``past_end``), since a track mostly ends where its
  evidence (detections, a proposal, a look) does: in 74 % of the effort benchmark's searches from
  outside a life on the KITTI dev sequences 0000-0010. Not so before the first frame of a track a
  person drew: that is where they first found the object, so the search bisects from the start;
* **inside the life** (the object is gone at a frame the life covers): ``present`` is the nearest
  frame where the person saw the object (``seen_frames``: looked at, and still in the life) on the
  side where there are such frames, so that a life found to start later than its candidate's first
  detection is searched toward the frames already seen; where there are some on both sides, on the
  side of the middle of the life (the person asks about the end nearer to this frame); where there
  are none, the keyframe nearest the middle on the middle's side, else the middle frame. The probes
  bisect the bracket from the start.

``probe`` is the next frame to open (None once the bracket is closed), ``narrow`` takes an answer,
``closed_life`` is the life the closed bracket gives.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from labelpilot.guidance.checks import Judged
from labelpilot.tracks import Keyframed, Track


@dataclass(frozen=True)
class EndSearch:
    present: int
    """A frame where the object is."""
    absent: int
    """A frame where it is gone (or not there yet)."""
    past_end: bool = False
    """The next probe is the frame just past ``present`` instead of the middle."""

    @property
    def closed(self) -> bool:
        return abs(self.absent - self.present) <= 1

    @property
    def finds_start(self) -> bool:
        """Whether the search is for where the life starts (the gone frame comes before)."""
        return self.absent < self.present


def seen_frames(track: Track, judged: Judged) -> set[int]:
    """Frames of the life where the person saw the object: every frame looked at where the track still
    has a shape (where a look found the object gone, the person cut the frame out or the search that
    started there trimmed the life), found right or corrected."""
    return {f for f in judged.looked | judged.right if track.has_shape(f)}


def _inside_present(track: Track, judged: Judged, frame: int) -> int | None:
    seen = seen_frames(track, judged)
    before = [f for f in seen if f < frame]
    after = [f for f in seen if f > frame]
    toward_later = frame - track.first_frame <= track.last_frame - frame  # the middle is later
    if before and after:
        return min(after) if toward_later else max(before)
    if after or before:
        return min(after) if after else max(before)
    middle = (track.first_frame + track.last_frame) / 2

    def beyond(f: int) -> bool:
        return track.has_shape(f) and (f > frame if toward_later else f < frame)

    keys = [f for f in track.motion.keyframes if beyond(f)] if isinstance(track.motion, Keyframed) else []
    if keys:
        return min(keys, key=lambda f: (abs(f - middle), f))
    mid = int(middle)
    return mid if beyond(mid) else None


def start_search(track: Track, judged: Judged, frame: int) -> EndSearch | None:
    """The search from ``frame``, where the object is gone (see the module doc); None when the life
    has no frame to search from (delete the track, or key it first)."""
    if not track.frames():
        return None
    if frame < track.first_frame or frame > track.last_frame:
        present = track.first_frame if frame < track.first_frame else track.last_frame
        drawn_start = frame < track.first_frame and track.provenance.kind == "manual"
        return EndSearch(present, frame, past_end=not drawn_start)
    present_frame = _inside_present(track, judged, frame)
    return None if present_frame is None else EndSearch(present_frame, frame)


def probe(search: EndSearch) -> int | None:
    """The frame to open next, None once the bracket is closed."""
    if search.closed:
        return None
    if search.past_end:
        return search.present + (1 if search.absent > search.present else -1)
    return (search.present + search.absent) // 2


def narrow(search: EndSearch, frame: int, here: bool) -> EndSearch:
    """The search after the person's answer at ``frame`` (inside the bracket): the object is here, or
    not."""
    low, high = sorted((search.present, search.absent))
    if not low < frame < high:
        raise ValueError(f"frame {frame} is outside the search (frames {low} to {high})")
    found = replace(search, present=frame) if here else replace(search, absent=frame)
    return replace(found, past_end=False)


def closed_life(track: Track, search: EndSearch) -> tuple[int, int]:
    """The life (first, last) a closed search gives the track."""
    if search.finds_start:
        return search.present, track.last_frame
    return track.first_frame, search.present
