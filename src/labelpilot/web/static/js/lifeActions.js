// @ts-check
/**
 * The controller's edits of where a track lives (EditorController extends this class, which extends
 * TrackActions): set its life (the end search's result), "the object is not here" (shift+x), which
 * trims the life at its first or last frame and marks a frame inside it absent, and extend it to a frame
 * outside it (l). Each is one edit of the edit session: optimistic at once, versioned on the server, one
 * undo step (undo restores the life, the keyframes and the absent frames through editHistory's restore).
 */

import { TrackActions } from './trackActions.js';
import { shapeFrames } from './trackShapes.js';

/** @typedef {import('./editorTypes.js').Track} Track */

export class LifeActions extends TrackActions {
  /**
   * The track lives from ``first`` to ``last``: keyframes and absent marks outside go (the server keeps
   * the boxes that stay where they were).
   * @param {string} id
   * @param {number} first
   * @param {number} last
   * @param {string} [describe]
   */
  setLife(id, first, last, describe = `live from frame ${first} to ${last}`) {
    if (this.model.find(id)?.kind !== 'track') return this.edits.refuse('select a track of your layer');
    if (first > last) return this.edits.refuse(`frame ${first} is after frame ${last}`);
    return this.edits.change(
      describe,
      id,
      (t) => ({
        ...t,
        first_frame: first,
        last_frame: last,
        absent_frames: t.absent_frames.filter((f) => f >= first && f <= last),
      }),
      (at) => this.edits.send(describe, at, 'PUT', `/tracks/${at}/life`, { first_frame: first, last_frame: last }),
    );
  }

  /**
   * Extend the track's life to the current frame, a frame outside it (``l``). The server places the box
   * there: a moving track with two keyframes or more gets a keyframe where its keyframes lead (constant
   * velocity and turn rate), any other track holds its box. Shown at once as the longer life; the
   * server's answer brings the keyframe. Undo deletes that keyframe and sets the life back.
   * @param {string} id
   */
  extendTrack(id) {
    const frame = this.model.frameIndex;
    const found = this.model.find(id);
    if (found?.kind !== 'track') return this.edits.refuse('select a track of your layer');
    const { first_frame: first, last_frame: last } = found.track;
    if (frame >= first && frame <= last) {
      return this.edits.refuse(`this frame is inside the track's life (frames ${first} to ${last})`);
    }
    const describe = `extend the track to frame ${frame}`;
    return this.edits.change(
      describe,
      id,
      (t) => ({ ...t, first_frame: Math.min(t.first_frame, frame), last_frame: Math.max(t.last_frame, frame) }),
      (at) => this.edits.send(describe, at, 'POST', `/tracks/${at}/extend`, { frame }),
    );
  }

  /**
   * The object of the track is not in the current frame: at the first or last frame the life is
   * trimmed to the nearest frame with a box; inside the life the frame is marked absent (its
   * keyframe, if it has one, goes first: an absent frame holds none).
   * @param {string} id
   */
  markAbsent(id) {
    const frame = this.model.frameIndex;
    const found = this.model.find(id);
    if (found?.kind !== 'track') return this.edits.refuse('select a track of your layer');
    const track = found.track;
    const frames = shapeFrames(track);
    if (!frames.includes(frame)) return this.edits.refuse(`${track.label} has no box at frame ${frame}`);
    const others = frames.filter((f) => f !== frame);
    if (!others.length) return this.edits.refuse('this is its only frame: delete the track instead');
    if (frame === track.first_frame || frame === track.last_frame) {
      const first = others[0];
      const last = others[others.length - 1];
      return this.setLife(id, first, last, `not at frame ${frame}: live from frame ${first} to ${last}`);
    }
    const keyed = !track.stationary && String(frame) in track.keyframes;
    if (keyed && Object.keys(track.keyframes).length < 2) {
      return this.edits.refuse('frame holds the only keyframe: set another keyframe first');
    }
    const describe = `not at frame ${frame}`;
    return this.edits.change(
      describe,
      id,
      (t) => {
        delete t.keyframes[String(frame)];
        t.absent_frames = [...new Set([...t.absent_frames, frame])].sort((a, b) => a - b);
        return t;
      },
      async (at, server) => {
        if (!server.stationary && String(frame) in server.keyframes) {
          await this.edits.send('delete the keyframe', at, 'DELETE', `/tracks/${at}/keyframes/${frame}`);
        }
        return this.edits.send(describe, at, 'PUT', `/tracks/${at}/absent`, { frames: [frame], absent: true });
      },
    );
  }
}
