// @ts-check
/**
 * The machinery behind the controller's edits: an optimistic change shown at once, the requests
 * sent through the pipeline (a candidate confirmed first when the edit is on one), the undo entry
 * recorded, failures shown. Tracks not yet stored live under temporary (negative) ids until the
 * server answers with theirs.
 */

import { EditAborted, EditPipeline } from './editPipeline.js';
import { EditHistory, trackEdit } from './editHistory.js';
import { hasShapeAt } from './trackShapes.js';

/** @typedef {import('./editorTypes.js').Track} Track */
/** @typedef {import('./editorTypes.js').EditResult} EditResult */
/** @typedef {import('./model.js').EditorModel} EditorModel */
/** @typedef {import('./api.js').Api} Api */
/** @typedef {import('./editHistory.js').EditTarget} EditTarget */

export class EditSession {
  #tempIds = 0;

  /**
   * @param {EditorModel} model
   * @param {Api} api
   * @param {() => void} onSaved called after each saved edit (the guidance refreshes)
   */
  constructor(model, api, onSaved) {
    this.model = model;
    this.api = api;
    this.onSaved = onSaved;
    this.pipeline = new EditPipeline(model);
    this.history = new EditHistory(this.pipeline, () => this.target);
  }

  /** @returns {EditTarget} */
  get target() {
    const task = this.model.task;
    if (!task) throw new Error('no task is loaded');
    return { api: this.api, sceneId: task.scene_id, layer: task.layer, taskId: task.id };
  }

  /**
   * An edit of one track: an optimistic change, then (after confirming it, for a candidate) the
   * requests ``send`` makes; recorded for undo.
   * @param {string} label
   * @param {string} id a work track or a candidate
   * @param {((t: Track) => Track) | null} optimistic applied to a copy of the model's track
   * @param {((workId: string, server: Track) => Promise<EditResult | null>) | null} send
   * @param {number[]} [confirmKeyframes] keyframes of the confirmation, for a candidate
   */
  change(label, id, optimistic, send, confirmKeyframes) {
    if (!this.editable()) return Promise.resolve(null);
    const found = this.model.find(id);
    if (!found) return this.refuse('select a track first');
    const isCandidate = found.kind === 'candidate';
    const onScreen = this.model.frameIndex;
    const judgedFrame = isCandidate && hasShapeAt(found.track, onScreen) ? onScreen : undefined;
    const shownId = isCandidate ? this.showConfirmed(id) : id;
    if (optimistic) {
      const shown = /** @type {Track} */ (this.model.find(shownId)?.track);
      this.model.putTrack(optimistic(structuredClone(shown)));
    }
    return this.transact([id, shownId], async () => {
      let workId = this.pipeline.resolve(id);
      const before = isCandidate ? null : this.pipeline.serverTrack(workId);
      /** @type {EditResult | null} */
      let result = null;
      if (isCandidate) {
        // The frame on screen is where the person judged the box: the queue offers no measurement
        // where that is the candidate's best view (guidance/review_actions.py).
        /** @type {Record<string, unknown>} */
        const body = confirmKeyframes ? { keyframes: confirmKeyframes } : {};
        if (judgedFrame !== undefined) body.judged_frame = judgedFrame;
        result = await this.send('confirm the candidate', id, 'POST', `/tracks/${id}/confirm`, body);
        workId = String(result.track.id);
        this.pipeline.rename(shownId, workId);
      }
      if (send) result = (await send(workId, /** @type {Track} */ (this.pipeline.serverTrack(workId)))) ?? result;
      const after = /** @type {EditResult} */ (result).track;
      const shownLabel = isCandidate && send ? `confirm and ${label}` : label;
      /** @type {import('./editHistory.js').HistoryEntry} */
      const entry = { label: shownLabel, id: String(after.id), before, after };
      // Undo reopens the candidate; redo confirms it again with the same keyframes.
      if (isCandidate) entry.candidate = { id, decision: 'confirm', keyframes: confirmKeyframes, judgedFrame };
      this.history.record(entry);
      return result;
    });
  }

  /**
   * Run edits in the pipeline; guidance refreshes after. Failures are shown (by the pipeline) and
   * answer null.
   * @template T
   * @param {string[]} touched
   * @param {() => Promise<T>} work
   * @returns {Promise<T | null>}
   */
  async transact(touched, work) {
    try {
      const value = await this.pipeline.transact(touched, work);
      this.onSaved();
      return value;
    } catch (error) {
      return this.failed(error);
    }
  }

  /**
   * @param {unknown} error
   * @returns {null}
   */
  failed(error) {
    if (error instanceof EditAborted) this.model.notify(error.message);
    else if (!this.pipeline.busy) this.model.notify(error instanceof Error ? error.message : String(error), 'error');
    return null;
  }

  /**
   * @param {string} describe
   * @param {string} id
   * @param {'POST' | 'PUT' | 'PATCH' | 'DELETE'} method
   * @param {string} path
   * @param {Record<string, unknown>} [body]
   */
  send(describe, id, method, path, body) {
    const target = this.target;
    return this.pipeline.send({
      describe,
      trackId: id,
      // The id may have changed by the time the request goes out (a new track, an undone delete).
      call: (version, at) => trackEdit(target, method, path.replace(`/tracks/${id}`, `/tracks/${at}`), version, body),
    });
  }

  /**
   * Show a candidate as accepted at once: a temporary copy in the work layer, selected if the
   * candidate was. Returns the copy's id.
   * @param {string} id
   */
  showConfirmed(id) {
    const candidate = /** @type {Track} */ (this.model.candidates.get(id));
    const tempId = this.newTempId();
    const wasSelected = this.model.selectedId === id;
    this.model.putTrack({ ...structuredClone(candidate), id: Number(tempId), status: 'confirmed' });
    this.model.removeTrack(id);
    if (wasSelected) this.model.setSelection(tempId);
    return tempId;
  }

  newTempId() {
    this.#tempIds -= 1;
    return String(this.#tempIds);
  }

  /**
   * @param {string} id
   * @param {string} label
   * @param {number[]} size
   * @returns {Track}
   */
  blankTrack(id, label, size) {
    return {
      id: Number(id),
      key: 'new',
      layer_id: -1,
      label,
      attributes: {},
      size: [size[0], size[1], size[2]],
      first_frame: 0,
      last_frame: 0,
      stationary: false,
      stationary_pose: null,
      keyframes: {},
      absent_frames: [],
      provenance: { kind: 'manual', source: null },
      status: 'confirmed',
      score: null,
      version: 0,
      deleted: false,
    };
  }

  editable() {
    if (this.model.editable) return true;
    this.model.notify('this task is not open for editing', 'error');
    return false;
  }

  /**
   * @param {string} message
   * @returns {Promise<null>}
   */
  refuse(message) {
    this.model.notify(message, 'error');
    return Promise.resolve(null);
  }
}
