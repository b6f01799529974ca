// @ts-check
/**
 * Undo and redo as edits like any other: each entry holds a track's server state before and after
 * one action, and undoing (or redoing) sends the API edits that take the track from its current
 * state back to that state. So an undo is saved, versioned, recorded as events and can conflict
 * like every edit; nothing is rolled back behind the server's back.
 *
 * A deleted track cannot be undeleted through the API: undo stores it again as a new track (same
 * class, size, motion, life) and later entries follow it to its new id.
 *
 * A decision on a candidate is taken back by reopening the candidate (`POST /tracks/{id}/reopen`),
 * after deleting the copy a confirmation made; redo decides again (a confirmation with the same
 * keyframes makes a new copy with the candidate's provenance, brought to the state after the action).
 * A rejection of many candidates at once (the queue's suggested false positives) is one entry: undo
 * reopens them all in one request, redo rejects them all again in one (candidateBatch.js).
 */

import { sendDecision, showDecision } from './candidateBatch.js';

/** @typedef {import('./editorTypes.js').Track} Track */
/** @typedef {import('./editorTypes.js').EditResult} EditResult */
/** @typedef {import('./editPipeline.js').EditPipeline} EditPipeline */
/** @typedef {import('./api.js').Api} Api */

/**
 * Where edits go: the scene, the task's layer and the task (sent with every edit).
 * @typedef {Object} EditTarget
 * @property {Api} api
 * @property {number} sceneId
 * @property {string} layer
 * @property {number} taskId
 */

/**
 * One undoable action on one track.
 * @typedef {Object} HistoryEntry
 * @property {string} label what the person did
 * @property {string} id the track (its id when the action was done)
 * @property {Track | null} before null: the action created the track
 * @property {Track | null} after null: the action deleted it
 * @property {CandidateDecision} [candidate] the action decided on a candidate (``id`` is then the
 *   confirmed copy, or the candidate itself for a rejection)
 * @property {string[]} [rejected] the action rejected these candidates in one request (``id`` is the
 *   first of them; ``before`` and ``after`` are null)
 */

/**
 * @typedef {Object} CandidateDecision
 * @property {string} id the candidate
 * @property {'confirm' | 'reject'} decision
 * @property {number[]} [keyframes] the keyframes the confirmation was given
 * @property {number} [judgedFrame] the frame on screen when the person confirmed it
 */

const MAX_ENTRIES = 200;
const POSE_TOLERANCE = 1e-9;

/**
 * @param {number[] | null | undefined} a
 * @param {number[] | null | undefined} b
 */
function samePose(a, b) {
  if (!a || !b) return a === b;
  return a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) <= POSE_TOLERANCE);
}

/**
 * @param {unknown} a
 * @param {unknown} b
 */
function sameJson(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class EditHistory {
  /** @type {HistoryEntry[]} */ #undo = [];
  /** @type {HistoryEntry[]} */ #redo = [];

  /**
   * @param {EditPipeline} pipeline
   * @param {() => EditTarget} target
   */
  constructor(pipeline, target) {
    this.pipeline = pipeline;
    this.target = target;
    pipeline.recreate = (track) => this.#recreate(track);
  }

  get canUndo() {
    return this.#undo.length > 0;
  }

  get canRedo() {
    return this.#redo.length > 0;
  }

  /** The label of the action undo would take back, or null. */
  get nextUndo() {
    return this.#undo.at(-1)?.label ?? null;
  }

  /** @param {HistoryEntry} entry */
  record(entry) {
    this.#undo.push(entry);
    if (this.#undo.length > MAX_ENTRIES) this.#undo.shift();
    this.#redo = [];
  }

  /**
   * Take back the latest action; returns it (its track id now, null for many tracks), or null when
   * there is none.
   * @returns {Promise<{label: string, id: string | null} | null>}
   */
  async undo() {
    const entry = this.#undo.pop();
    if (!entry) return null;
    try {
      if (entry.rejected) await this.#batchQueued(entry.rejected, 'reopen');
      else if (entry.candidate) await this.#reopenQueued(entry, entry.candidate);
      else await this.#restoreQueued(entry.id, entry.before, entry.after);
    } catch (error) {
      this.#undo.push(entry);
      throw error;
    }
    this.#redo.push(entry);
    if (entry.rejected) return { label: entry.label, id: null };
    return { label: entry.label, id: entry.candidate ? entry.candidate.id : this.pipeline.resolve(entry.id) };
  }

  /**
   * Do again the latest undone action; returns it (its track id now, null for many tracks), or null.
   * @returns {Promise<{label: string, id: string | null} | null>}
   */
  async redo() {
    const entry = this.#redo.pop();
    if (!entry) return null;
    try {
      if (entry.rejected) await this.#batchQueued(entry.rejected, 'reject');
      else if (entry.candidate) await this.#decideQueued(entry, entry.candidate);
      else await this.#restoreQueued(entry.id, entry.after, entry.before);
    } catch (error) {
      this.#redo.push(entry);
      throw error;
    }
    this.#undo.push(entry);
    return { label: entry.label, id: entry.rejected ? null : this.pipeline.resolve(entry.id) };
  }

  /**
   * Reopen (undo) or reject again (redo) the candidates of a batch rejection: one request, all shown
   * at once.
   * @param {string[]} ids
   * @param {import('./candidateBatch.js').BatchDecision} decision
   */
  #batchQueued(ids, decision) {
    showDecision(this.pipeline, ids, decision);
    return this.pipeline.transact(ids, () => sendDecision(this.pipeline, this.target(), ids, decision));
  }

  /**
   * Queue the edits that bring the track to ``state``, showing it at once.
   * @param {string} id
   * @param {Track | null} state
   * @param {Track | null} from the state the person sees before (its id, if the track is new)
   */
  #restoreQueued(id, state, from) {
    const model = this.pipeline.model;
    const current = this.pipeline.resolve(id);
    if (state) model.putTrack({ ...state, id: Number(current) });
    else model.removeTrack(current);
    return this.pipeline.transact([current, String(from?.id ?? id)], () => this.restore(id, state));
  }

  /**
   * Undo a decision: the confirmed copy deleted (for a confirmation), the candidate reopened; both
   * shown at once.
   * @param {HistoryEntry} entry
   * @param {CandidateDecision} candidate
   */
  #reopenQueued(entry, candidate) {
    const model = this.pipeline.model;
    const copyId = candidate.decision === 'confirm' ? this.pipeline.resolve(entry.id) : null;
    const decided = this.pipeline.serverTrack(candidate.id);
    if (copyId !== null) model.removeTrack(copyId);
    if (decided) model.putCandidate({ ...decided, status: 'candidate' });
    const touched = copyId === null ? [candidate.id] : [candidate.id, copyId];
    return this.pipeline.transact(touched, async () => {
      if (copyId !== null) await this.restore(entry.id, null);
      await this.#send('reopen the candidate', candidate.id, (v, at) =>
        this.#call('POST', `/tracks/${at}/reopen`, v),
      );
    });
  }

  /**
   * Redo a decision: the candidate confirmed (with the same keyframes) or rejected again; a new
   * copy takes the old one's place (later entries follow it) and is brought to the state after.
   * @param {HistoryEntry} entry
   * @param {CandidateDecision} candidate
   */
  #decideQueued(entry, candidate) {
    const model = this.pipeline.model;
    const shownId = this.pipeline.resolve(entry.id);
    model.removeTrack(candidate.id);
    if (candidate.decision === 'confirm' && entry.after) model.putTrack({ ...entry.after, id: Number(shownId) });
    return this.pipeline.transact([candidate.id, shownId], async () => {
      if (candidate.decision === 'reject') {
        await this.#send('reject the candidate', candidate.id, (v, at) =>
          this.#call('POST', `/tracks/${at}/reject`, v),
        );
        return;
      }
      /** @type {Record<string, unknown>} */
      const body = candidate.keyframes ? { keyframes: candidate.keyframes } : {};
      if (candidate.judgedFrame !== undefined) body.judged_frame = candidate.judgedFrame;
      const confirmed = await this.#send('confirm the candidate', candidate.id, (v, at) =>
        this.#call('POST', `/tracks/${at}/confirm`, v, body),
      );
      this.pipeline.rename(shownId, String(confirmed.track.id));
      await this.restore(entry.id, entry.after);
    });
  }

  /**
   * Bring the stored track to ``state`` (null: deleted) with as few edits as its differences need.
   * Runs inside a transaction.
   * @param {string} id
   * @param {Track | null} state
   */
  async restore(id, state) {
    const current = this.pipeline.serverTrack(id);
    if (!state || state.deleted) {
      if (current) await this.#send('delete the track', id, (v, at) => this.#call('DELETE', `/tracks/${at}`, v));
      return;
    }
    if (!current) {
      this.pipeline.rename(this.pipeline.resolve(id), await this.#recreate(state));
      return;
    }
    await this.#restoreFields(id, current, state);
    await this.#restoreMotion(id, state);
    await this.#restoreLife(id, state);
  }

  /**
   * @param {string} id
   * @param {Track} current
   * @param {Track} state
   */
  async #restoreFields(id, current, state) {
    /** @type {Record<string, unknown>} */
    const changes = {};
    if (current.label !== state.label) changes.label = state.label;
    if (!sameJson(current.attributes, state.attributes)) changes.attributes = state.attributes;
    if (!samePose(current.size, state.size)) changes.size = state.size;
    if (Object.keys(changes).length) {
      await this.#send('restore class and size', id, (v, at) => this.#call('PATCH', `/tracks/${at}`, v, changes));
    }
  }

  /**
   * @param {string} id
   * @param {Track} state
   */
  async #restoreMotion(id, state) {
    const current = /** @type {Track} */ (this.pipeline.serverTrack(id));
    if (state.stationary) {
      if (!current.stationary || !samePose(current.stationary_pose, state.stationary_pose)) {
        const pose = state.stationary_pose;
        await this.#send('restore the stationary box', id, (v, at) =>
          this.#call('POST', `/tracks/${at}/stationary`, v, { pose }),
        );
      }
      return;
    }
    if (current.stationary) {
      const keyframes = state.keyframes;
      await this.#send('restore the keyframes', id, (v, at) =>
        this.#call('POST', `/tracks/${at}/moving`, v, { keyframes }),
      );
    }
    const now = /** @type {Track} */ (this.pipeline.serverTrack(id));
    /** @type {Record<string, number[]>} */
    const changed = {};
    for (const [frame, pose] of Object.entries(state.keyframes)) {
      if (!samePose(now.keyframes[frame], pose)) changed[frame] = pose;
    }
    if (Object.keys(changed).length) {
      await this.#send('restore keyframes', id, (v, at) =>
        this.#call('PUT', `/tracks/${at}/keyframes`, v, { keyframes: changed }),
      );
    }
    // Deleted after the others are set, so the track always keeps a keyframe.
    for (const frame of Object.keys(now.keyframes).filter((f) => !(f in state.keyframes))) {
      await this.#send(`delete the keyframe at frame ${frame}`, id, (v, at) =>
        this.#call('DELETE', `/tracks/${at}/keyframes/${frame}`, v),
      );
    }
  }

  /**
   * @param {string} id
   * @param {Track} state
   */
  async #restoreLife(id, state) {
    const current = /** @type {Track} */ (this.pipeline.serverTrack(id));
    if (current.first_frame !== state.first_frame || current.last_frame !== state.last_frame) {
      const life = { first_frame: state.first_frame, last_frame: state.last_frame };
      await this.#send('restore the life', id, (v, at) => this.#call('PUT', `/tracks/${at}/life`, v, life));
    }
    const now = /** @type {Track} */ (this.pipeline.serverTrack(id));
    const wanted = new Set(state.absent_frames);
    const have = new Set(now.absent_frames);
    const hide = [...wanted].filter((f) => !have.has(f));
    const show = [...have].filter((f) => !wanted.has(f));
    for (const [frames, absent] of /** @type {Array<[number[], boolean]>} */ ([
      [hide, true],
      [show, false],
    ])) {
      if (frames.length) {
        await this.#send('restore absent frames', id, (v, at) =>
          this.#call('PUT', `/tracks/${at}/absent`, v, { frames, absent }),
        );
      }
    }
  }

  /**
   * Store ``track`` as a new track of the task's layer; returns the new id.
   * @param {Track} track
   */
  async #recreate(track) {
    const { api, sceneId, layer, taskId } = this.target();
    /** @type {Record<string, unknown>} */
    const body = {
      layer,
      label: track.label,
      size: track.size,
      attributes: track.attributes,
      first_frame: track.first_frame,
      last_frame: track.last_frame,
      task_id: taskId,
    };
    if (track.stationary) body.stationary_pose = track.stationary_pose;
    else body.keyframes = track.keyframes;
    const created = await this.pipeline.send({
      describe: `store ${track.label} again`,
      trackId: null,
      call: () => api.post(`/api/scenes/${sceneId}/tracks`, body),
    });
    const newId = String(created.track.id);
    if (track.absent_frames.length) {
      const frames = track.absent_frames;
      await this.#send('restore absent frames', newId, (v, at) =>
        this.#call('PUT', `/tracks/${at}/absent`, v, { frames, absent: true }),
      );
    }
    return newId;
  }

  /**
   * @param {string} describe
   * @param {string} id
   * @param {(version: number, id: string) => Promise<EditResult>} call
   */
  #send(describe, id, call) {
    return this.pipeline.send({ describe, trackId: id, call });
  }

  /**
   * @param {'POST' | 'PUT' | 'PATCH' | 'DELETE'} method
   * @param {string} path
   * @param {number} version
   * @param {Record<string, unknown>} [body]
   */
  #call(method, path, version, body) {
    return trackEdit(this.target(), method, path, version, body);
  }
}

/**
 * One versioned track edit of the API (shared with the controller).
 * @param {EditTarget} target
 * @param {'POST' | 'PUT' | 'PATCH' | 'DELETE'} method
 * @param {string} path under /api, e.g. `/tracks/7/stationary`
 * @param {number} version
 * @param {Record<string, unknown>} [body]
 * @returns {Promise<EditResult>}
 */
export function trackEdit(target, method, path, version, body = {}) {
  const { api, taskId } = target;
  if (method === 'DELETE') {
    const sep = path.includes('?') ? '&' : '?';
    return api.del(`/api${path}${sep}expected_version=${version}&task_id=${taskId}`);
  }
  return api.json(method, `/api${path}`, { ...body, expected_version: version, task_id: taskId });
}
