// @ts-check
/**
 * The path every edit takes to the server: one at a time and in order (each needs the version the
 * previous one produced), the server's answer replacing the model's copy, a stale version shown to
 * the person as a conflict that they resolve, a failure undoing the optimistic change.
 *
 * The pipeline keeps the server's last word on each track (``serverTrack``), apart from the model,
 * which also holds optimistic changes not yet answered: versions and undo history come from there.
 */

import { ApiError } from './api.js';

/** @typedef {import('./editorTypes.js').Track} Track */
/** @typedef {import('./editorTypes.js').Shapes} Shapes */
/** @typedef {import('./editorTypes.js').EditResult} EditResult */
/** @typedef {import('./model.js').EditorModel} EditorModel */
/** @typedef {'mine' | 'theirs'} ConflictChoice */
/** @typedef {{id: number, version: number, status: Track['status']}} Decided a track of a batch decision */

/** Thrown inside a transaction that must stop without an error to report (e.g. "keep theirs"). */
export class EditAborted extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'EditAborted';
  }
}

/**
 * One request of a transaction: the track it addresses (null to create one) and how to send it
 * given that track's current server version and (resolved) id.
 * @typedef {Object} EditRequest
 * @property {string} describe what it does, in words (for the conflict dialog)
 * @property {string | null} trackId
 * @property {(version: number, id: string) => Promise<EditResult>} call
 */

export class EditPipeline {
  /** @type {Promise<unknown>} */
  #tail = Promise.resolve();
  #pending = 0;
  /** @type {Map<string, string>} a track recreated (by undo) under a new id: old -> new */
  #aliases = new Map();
  /** @type {Map<string, Track>} */
  #server = new Map();
  /** @type {Set<number>} layer ids whose tracks are candidates */
  #candidateLayerIds = new Set();
  /** @type {((choice: ConflictChoice) => void) | null} */
  #resolveConflict = null;

  /** @param {EditorModel} model */
  constructor(model) {
    this.model = model;
    /**
     * Stores a track again (given its last state) and returns its new id; set by the history, used
     * when a track was deleted by someone else and the person keeps their version.
     * @type {((track: Track) => Promise<string>) | null}
     */
    this.recreate = null;
  }

  /**
   * Remember the server's state of every loaded track.
   * @param {Track[]} tracks
   * @param {number[]} candidateLayerIds
   */
  reset(tracks, candidateLayerIds) {
    this.#server = new Map(tracks.map((t) => [String(t.id), t]));
    this.#candidateLayerIds = new Set(candidateLayerIds);
    this.#aliases.clear();
  }

  /** Resolves once every edit queued so far is done (saved or failed). */
  idle() {
    return this.#tail.then(() => undefined);
  }

  /** Whether edits are still on their way. */
  get busy() {
    return this.#pending > 0;
  }

  /**
   * The id a track has now (undo may have recreated it under a new one).
   * @param {string} id
   */
  resolve(id) {
    let current = id;
    for (let hops = 0; this.#aliases.has(current) && hops < 1000; hops += 1) {
      current = /** @type {string} */ (this.#aliases.get(current));
    }
    return current;
  }

  /**
   * @param {string} from
   * @param {string} to
   */
  alias(from, to) {
    if (from !== to) this.#aliases.set(from, to);
  }

  /**
   * A track shown under one id is stored under another now (a new track's temporary id, a track
   * stored again): later edits follow it, the model drops the old copy and keeps it selected.
   * @param {string} from
   * @param {string} to
   */
  rename(from, to) {
    if (from === to) return;
    this.alias(from, to);
    const selected = this.model.selectedId === from;
    this.model.removeTrack(from, false);
    if (selected) this.model.setSelection(to);
    this.model.emit('tracks', {});
    // The optimistic copy no longer counts: the session's shapes are the server's track's alone.
    this.model.emit('kpi', {});
  }

  /**
   * The server's last answer for a track (null: unknown or deleted).
   * @param {string} id
   */
  serverTrack(id) {
    const track = this.#server.get(this.resolve(id));
    return track && !track.deleted ? track : null;
  }

  /**
   * Run ``work`` after every transaction queued before it. On failure the optimistic changes to
   * ``touched`` tracks are rolled back to the server's state.
   * @template T
   * @param {string[]} touched ids the optimistic change altered
   * @param {() => Promise<T>} work
   * @returns {Promise<T>}
   */
  transact(touched, work) {
    this.#pending += 1;
    this.model.setSaveState('saving');
    const run = this.#tail.then(work);
    this.#tail = run.catch(() => undefined);
    return run.then(
      (value) => {
        this.#settle();
        return value;
      },
      (error) => {
        this.rollback(touched);
        this.#settle(error);
        throw error;
      },
    );
  }

  /** @param {unknown} [error] */
  #settle(error) {
    this.#pending -= 1;
    if (error && !(error instanceof EditAborted)) {
      const message = error instanceof Error ? error.message : String(error);
      this.model.setSaveState('error', message);
      this.model.notify(`not saved: ${message}`, 'error');
    } else if (this.#pending === 0 && this.model.saveState === 'saving') {
      this.model.setSaveState('saved');
    }
  }

  /**
   * Put the model's copies of these tracks back to the server's state (temporary ids vanish).
   * @param {string[]} ids
   */
  rollback(ids) {
    for (const raw of ids) {
      const id = this.resolve(raw);
      const server = this.#server.get(id);
      if (!server || server.deleted) this.model.removeTrack(id);
      else this.#put(server);
    }
  }

  /**
   * Send one request; a 409 asks the person (mine or theirs) and retries with the current version
   * for "mine". Returns the server's answer, already applied to the model.
   * @param {EditRequest} request
   */
  async send(request) {
    for (;;) {
      const id = request.trackId === null ? '' : this.resolve(request.trackId);
      const server = id ? this.#server.get(id) : undefined;
      if (id && !server) throw new EditAborted(`track ${id} is not loaded`);
      try {
        const result = await request.call(server ? server.version : 0, id);
        this.apply(result);
        return result;
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 409 && error.body && error.body.current && id)) {
          throw error;
        }
        const theirs = /** @type {Track} */ (error.body.current);
        const mine = this.model.find(id)?.track ?? null;
        const choice = await this.#askConflict(request.describe, error.message, mine, theirs);
        this.#remember(theirs);
        if (theirs.deleted && choice === 'mine' && mine && this.recreate) {
          // Deleted meanwhile: mine comes back as a new track, and the edit goes to that one.
          this.rename(id, await this.recreate(mine));
          continue;
        }
        if (choice === 'theirs' || theirs.deleted) {
          this.#put(theirs);
          throw new EditAborted(`kept the server's version of track ${id}`);
        }
        // "Mine": send the same edit again on top of the server's version.
      }
    }
  }

  /**
   * Send one request that decides on several tracks at once, all or nothing (e.g. reject many
   * candidates): it carries each track's current server version; the answer gives each track's new
   * version and status (nothing else changes), which replace the model's copies. A stale version is
   * not retried (the person decided on what they saw): the server's state of that track is kept, so
   * rolling the transaction back shows every track as the server has it.
   * @param {string[]} trackIds
   * @param {(tracks: Array<{id: number, expected_version: number}>) => Promise<{tracks: Decided[]}>} call
   * @returns {Promise<Decided[]>} the answers, in the order of ``trackIds``
   */
  async sendBatch(trackIds, call) {
    const tracks = trackIds.map((raw) => {
      const id = this.resolve(raw);
      const server = this.#server.get(id);
      if (!server) throw new EditAborted(`track ${id} is not loaded`);
      return { id: Number(id), expected_version: server.version };
    });
    try {
      const answer = await call(tracks);
      for (const decided of answer.tracks) {
        const id = String(decided.id);
        const known = this.#server.get(id);
        if (!known) continue;
        const track = { ...known, version: decided.version, status: decided.status };
        this.#remember(track);
        this.#put(track, this.model.shapes.get(id), false);
      }
      this.model.emit('tracks', {});
      this.model.emit('kpi', {});
      return answer.tracks;
    } catch (error) {
      if (error instanceof ApiError && error.status === 409 && error.body?.current) {
        this.#remember(/** @type {Track} */ (error.body.current));
      }
      throw error;
    }
  }

  /**
   * Ask the person through the conflict dialog (the model's 'conflict' event); resolved by
   * resolveConflict().
   * @param {string} action
   * @param {string} message
   * @param {Track | null} mine
   * @param {Track} theirs
   * @returns {Promise<ConflictChoice>}
   */
  #askConflict(action, message, mine, theirs) {
    return new Promise((resolve) => {
      this.#resolveConflict = resolve;
      this.model.setSaveState('error', 'conflict');
      this.model.emit('conflict', { action, message, mine, theirs });
    });
  }

  /**
   * The person's answer to the open conflict.
   * @param {ConflictChoice} choice
   */
  resolveConflict(choice) {
    const resolve = this.#resolveConflict;
    this.#resolveConflict = null;
    if (resolve) {
      this.model.setSaveState('saving');
      resolve(choice);
    }
  }

  /** Whether a conflict waits for the person. */
  get conflictOpen() {
    return this.#resolveConflict !== null;
  }

  /**
   * Replace the model's copies with the server's answer.
   * @param {EditResult} result
   * @param {boolean} [notify] false: the caller tells the views once a batch is applied
   */
  apply(result, notify = true) {
    this.#remember(result.track);
    this.#put(result.track, result.shapes, notify);
    if (result.candidate) {
      this.#remember(result.candidate);
      this.#put(result.candidate, undefined, notify);
    }
  }

  /** @param {Track} track */
  #remember(track) {
    this.#server.set(String(track.id), track);
  }

  /**
   * @param {Track} track
   * @param {Shapes} [shapes]
   * @param {boolean} [notify]
   */
  #put(track, shapes, notify = true) {
    if (this.#candidateLayerIds.has(track.layer_id)) this.model.putCandidate(track, shapes, notify);
    else this.model.putTrack(track, shapes, notify);
  }
}
