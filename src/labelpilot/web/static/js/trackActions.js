// @ts-check
/**
 * The controller's track edits (EditorController extends this class): draw, move, resize, class,
 * confirm or reject a candidate (or many at once), stationary or moving, keyframes, delete, fit to
 * the points. Each changes the model at once and goes to the server through the edit session; an
 * edit on a candidate confirms it first.
 */

import { MAX_BATCH, sendDecision, showDecision } from './candidateBatch.js';
import { EditSession } from './editSession.js';
import { quatFromYaw } from './geometry.js';
import { poseAt, poseRows } from './trackShapes.js';

/** @typedef {import('./editorTypes.js').Track} Track */
/** @typedef {import('./editorTypes.js').WorldPose} WorldPose */
/** @typedef {import('./model.js').EditorModel} EditorModel */
/** @typedef {import('./api.js').Api} Api */
/** @typedef {{fitBoxToPoints(id: string): {center: number[], size: number[], yaw: number} | null}} BoxFitter */

export class TrackActions {
  /**
   * @param {EditorModel} model
   * @param {Api} api
   */
  constructor(model, api) {
    this.model = model;
    this.api = api;
    this.edits = new EditSession(model, api, () => this.saved());
    this.pipeline = this.edits.pipeline;
    this.history = this.edits.history;
    /** @type {BoxFitter | null} the scene view, which knows the points (set by the facade) */
    this.boxFitter = null;
    /** @type {string} the class of the next drawn box */
    this.drawLabel = model.classes[0];
  }

  /** Called after every saved edit. */
  saved() {}

  /**
   * A new box at the current frame: a keyframed track of the task's layer; or, with ``stationary``,
   * one world box over ``life`` (first, last frame; default the current frame).
   * @param {{center: number[], size?: number[], yaw: number, label?: string, stationary?: boolean, life?: number[]}} box world frame
   */
  async createBox({ center, size, yaw, label, stationary = false, life }) {
    if (!this.edits.editable()) return null;
    const model = this.model;
    const frame = model.frameIndex;
    const [first, last] = life ?? [frame, frame];
    const cls = label ?? this.drawLabel;
    // Without a size the server starts from the class's size in this project.
    const dims = size ?? model.sizePriors[cls]?.mean ?? null;
    const tempId = this.edits.newTempId();
    const pose = poseRows(center, quatFromYaw(yaw));
    model.putTrack({
      ...this.edits.blankTrack(tempId, cls, dims ?? [4, 1.8, 1.6]),
      first_frame: first,
      last_frame: last,
      ...(stationary ? { stationary: true, stationary_pose: pose } : { keyframes: { [frame]: pose } }),
    });
    model.setMode('idle');
    model.setSelection(tempId);
    const { api, sceneId, layer, taskId } = this.edits.target;
    const body = {
      layer,
      label: cls,
      ...(stationary
        ? { stationary_pose: { center, yaw }, first_frame: first, last_frame: last }
        : { keyframes: { [frame]: { center, yaw } } }),
      task_id: taskId,
      ...(dims ? { size: dims } : {}),
    };
    return this.edits.transact([tempId], async () => {
      const result = await this.pipeline.send({
        describe: `draw a ${cls}`,
        trackId: null,
        call: () => api.post(`/api/scenes/${sceneId}/tracks`, body),
      });
      this.pipeline.rename(tempId, String(result.track.id));
      this.history.record({ label: `draw a ${cls}`, id: String(result.track.id), before: null, after: result.track });
      return result;
    });
  }

  /**
   * Move or turn a box at the current frame: a keyframe there, or the stationary box's one pose.
   * @param {string} id
   * @param {{center?: number[], yaw?: number}} change world frame
   */
  moveBox(id, change) {
    const frame = this.model.frameIndex;
    const found = this.model.find(id);
    const pose = found ? this.#poseHere(found.track) : null;
    if (!pose) return this.edits.refuse('this track has no box to move');
    const center = change.center ?? pose.center;
    const quat = change.yaw === undefined ? pose.quat_xyzw : quatFromYaw(change.yaw);
    const wire = change.yaw === undefined ? { center, quat_xyzw: quat } : { center, yaw: change.yaw };
    return this.edits.change(
      'move the box',
      id,
      (t) => {
        if (t.stationary) t.stationary_pose = poseRows(center, quat);
        else t.keyframes[String(frame)] = poseRows(center, quat);
        return t;
      },
      (at, track) =>
        track.stationary
          ? this.edits.send('move the box', at, 'POST', `/tracks/${at}/stationary`, { pose: wire })
          : this.edits.send('move the box', at, 'PUT', `/tracks/${at}/keyframes/${frame}`, { pose: wire }),
    );
  }

  /**
   * @param {string} id
   * @param {number[]} size length, width, height
   */
  resizeBox(id, size) {
    return this.edits.change(
      'resize the box',
      id,
      (t) => ({ ...t, size: [size[0], size[1], size[2]] }),
      (at) => this.edits.send('resize the box', at, 'PATCH', `/tracks/${at}`, { size }),
    );
  }

  /**
   * @param {string} id
   * @param {string} label
   */
  setLabel(id, label) {
    this.drawLabel = label;
    return this.edits.change(
      `make it a ${label}`,
      id,
      (t) => ({ ...t, label }),
      (at) => this.edits.send(`make it a ${label}`, at, 'PATCH', `/tracks/${at}`, { label }),
    );
  }

  /**
   * Class key n (1-9): the selected track's class, and the class of the next drawn box.
   * @param {number} n
   */
  setClass(n) {
    const label = this.model.classes[n - 1];
    if (!label) return Promise.resolve(null);
    this.drawLabel = label;
    if (this.model.selectedId === null) {
      this.model.notify(`next box: ${label}`);
      return Promise.resolve(null);
    }
    return this.setLabel(this.model.selectedId, label);
  }

  /**
   * Accept a candidate into the task's layer (keyed at ``keyframes`` when given).
   * @param {string} id
   * @param {number[]} [keyframes]
   */
  confirmCandidate(id, keyframes) {
    if (this.model.find(id)?.kind !== 'candidate') return this.edits.refuse('select a candidate to confirm');
    return this.edits.change('confirm the candidate', id, null, null, keyframes);
  }

  /** @param {string} id */
  async rejectCandidate(id) {
    if (!this.edits.editable()) return null;
    if (this.model.find(id)?.kind !== 'candidate') return this.edits.refuse('select a candidate to reject');
    const before = /** @type {Track} */ (this.pipeline.serverTrack(id));
    this.model.putCandidate({ ...before, status: 'rejected' });
    const label = 'reject the candidate';
    const result = await this.edits.transact([id], async () => {
      const rejected = await this.edits.send(label, id, 'POST', `/tracks/${id}/reject`);
      // Undo reopens it (the candidate is pending again); redo rejects it again.
      this.history.record({ label, id, before: null, after: null, candidate: { id, decision: 'reject' } });
      return rejected;
    });
    if (result) this.model.notify('rejected as a false positive');
    return result;
  }

  /**
   * Reject many candidates as false positives in one request (all or nothing): one undo step.
   * Answers the server's results, or null when nothing was rejected.
   * @param {string[]} ids
   */
  async rejectCandidates(ids) {
    if (!this.edits.editable()) return null;
    const pending = [...new Set(ids)].filter((id) => this.model.find(id)?.kind === 'candidate');
    if (!pending.length) return this.edits.refuse('no pending candidate to reject');
    const batch = pending.slice(0, MAX_BATCH);
    const label = `reject ${batch.length} candidate${batch.length === 1 ? '' : 's'}`;
    showDecision(this.pipeline, batch, 'reject');
    return this.edits.transact(batch, async () => {
      const results = await sendDecision(this.pipeline, this.edits.target, batch, 'reject');
      // Undo reopens them all (one request); redo rejects them all again.
      this.history.record({ label, id: batch[0], before: null, after: null, rejected: batch });
      return results;
    });
  }

  /** @param {string} id */
  markStationary(id) {
    const found = this.model.find(id);
    if (found?.track.stationary && found.kind === 'track') return this.edits.refuse('already stationary');
    const pose = found ? this.#poseHere(found.track) : null;
    return this.edits.change(
      'mark stationary',
      id,
      (t) => {
        if (pose) t.stationary_pose = poseRows(pose.center, pose.quat_xyzw);
        return { ...t, stationary: true, keyframes: {} };
      },
      async (at, track) =>
        // A candidate may already be stationary: confirming it is all there is to do.
        track.stationary ? null : this.edits.send('mark stationary', at, 'POST', `/tracks/${at}/stationary`),
    );
  }

  /**
   * The track lives from ``first`` to ``last`` (the proposed life), marked as accepted so the queue
   * stops offering it: one request, one edit (``POST /tracks/{id}/accept-life``). The server continues a
   * moving track a person keyed where its keyframes lead; the optimistic copy shows the new life.
   * @param {string} id
   * @param {number} first
   * @param {number} last
   */
  acceptLife(id, first, last) {
    const found = this.model.find(id);
    if (found?.kind !== 'track') return this.edits.refuse('select a track of your layer');
    const attributes = { ...found.track.attributes, life_accepted: true };
    const describe = `live from frame ${first} to ${last}`;
    return this.edits.change(
      describe,
      id,
      (t) => ({ ...t, first_frame: first, last_frame: last, attributes }),
      (at) => this.edits.send(describe, at, 'POST', `/tracks/${at}/accept-life`, { first_frame: first, last_frame: last }),
    );
  }

  /**
   * Record that the person looked at a weak end of the track's life (the queue's ``check_end``).
   * @param {string} id
   * @param {'first' | 'last'} end
   * @param {number} frame
   */
  markEndChecked(id, end, frame) {
    const found = this.model.find(id);
    if (found?.kind !== 'track') return this.edits.refuse('select a track of your layer');
    const attributes = { ...found.track.attributes, [`life_checked_${end}`]: frame };
    return this.edits.change(
      `checked the ${end} frame`,
      id,
      (t) => ({ ...t, attributes }),
      (at) => this.edits.send(`checked the ${end} frame`, at, 'PATCH', `/tracks/${at}`, { attributes }),
    );
  }

  /** @param {string} id */
  markMoving(id) {
    const found = this.model.find(id);
    if (found && !found.track.stationary) return this.edits.refuse('already moving');
    return this.edits.change('mark moving', id, null, (at) =>
      this.edits.send('mark moving', at, 'POST', `/tracks/${at}/moving`),
    );
  }

  /**
   * A keyframe at the current frame holding the box where it is (a stationary track becomes moving).
   * @param {string} id
   */
  setKeyframe(id) {
    const frame = this.model.frameIndex;
    const found = this.model.find(id);
    const pose = found ? this.#poseHere(found.track) : null;
    if (!pose) return this.edits.refuse('this track has no box to key');
    const wire = { center: pose.center, quat_xyzw: pose.quat_xyzw };
    return this.edits.change(
      `set a keyframe at frame ${frame}`,
      id,
      (t) => {
        t.keyframes[String(frame)] = poseRows(pose.center, pose.quat_xyzw);
        t.first_frame = Math.min(t.first_frame, frame);
        t.last_frame = Math.max(t.last_frame, frame);
        return { ...t, stationary: false, stationary_pose: null };
      },
      async (at, track) => {
        if (track.stationary) await this.edits.send('mark moving', at, 'POST', `/tracks/${at}/moving`);
        return this.edits.send(`set a keyframe at frame ${frame}`, at, 'PUT', `/tracks/${at}/keyframes/${frame}`, {
          pose: wire,
        });
      },
    );
  }

  /** @param {string} id */
  deleteKeyframe(id) {
    const frame = this.model.frameIndex;
    const found = this.model.find(id);
    if (found?.kind !== 'track' || !(String(frame) in found.track.keyframes)) {
      return this.edits.refuse(`no keyframe at frame ${frame}`);
    }
    if (Object.keys(found.track.keyframes).length < 2) {
      return this.edits.refuse('this is the only keyframe: delete the track instead');
    }
    return this.edits.change(
      `delete the keyframe at frame ${frame}`,
      id,
      (t) => {
        delete t.keyframes[String(frame)];
        return t;
      },
      (at) => this.edits.send('delete the keyframe', at, 'DELETE', `/tracks/${at}/keyframes/${frame}`),
    );
  }

  /** @param {string} id */
  deleteTrack(id) {
    if (this.model.find(id)?.kind !== 'track') return this.edits.refuse('select a track of your layer');
    return this.edits.change(
      'delete the track',
      id,
      (t) => ({ ...t, deleted: true }),
      (at) => this.edits.send('delete the track', at, 'DELETE', `/tracks/${at}`),
    );
  }

  /**
   * Fit the box to the points around it at this frame (the scene view finds them).
   * @param {string} id
   */
  async fitToPoints(id) {
    const fit = this.boxFitter?.fitBoxToPoints(id) ?? null;
    if (!fit) return this.edits.refuse('too few lidar points near this box to fit it');
    const frame = this.model.frameIndex;
    const quat = quatFromYaw(fit.yaw);
    const pose = { center: fit.center, yaw: fit.yaw };
    const size = fit.size;
    return this.edits.change(
      'fit the box to the points',
      id,
      (t) => {
        if (t.stationary) t.stationary_pose = poseRows(fit.center, quat);
        else t.keyframes[String(frame)] = poseRows(fit.center, quat);
        return { ...t, size: [size[0], size[1], size[2]] };
      },
      async (at, track) => {
        await this.edits.send('fit the size', at, 'PATCH', `/tracks/${at}`, { size });
        return track.stationary
          ? this.edits.send('fit the box', at, 'POST', `/tracks/${at}/stationary`, { pose })
          : this.edits.send('fit the box', at, 'PUT', `/tracks/${at}/keyframes/${frame}`, { pose });
      },
    );
  }

  /**
   * The track's world pose at the current frame (held past its ends).
   * @param {Track} track
   * @returns {WorldPose | null}
   */
  #poseHere(track) {
    return poseAt(track, this.model.frameIndex);
  }
}
