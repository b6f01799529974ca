// @ts-check
/**
 * The check key and the end search: the tool computes which frame to open, one key each.
 *
 * Session memory, per track, of what the person judged (kept in localStorage per user and task, so a
 * reload keeps it): a frame is ``looked`` at when the person leaves it through the check key or the end
 * search with the track selected, or by ``n`` from a frame the guidance queue opened for that track (a
 * suggested keyframe of a walk, the frame a candidate was confirmed at, a queue item of a work track:
 * ``recordLook``, called by guidanceFlow.js); and also ``right`` when they made no edit to that track
 * while the frame was on screen. The ends of a life accepted with ``a`` are ``accepted_ends``, except
 * the ends the queue flags with a ``check_end`` item (weak evidence: they still need a look, unless the
 * person already found the box right there: the queue then skips the item).
 *
 * ``c``: record the frame on screen, ask the server for the next frame of the selected track
 * (``POST /api/tracks/{id}/next-check``, the rule of ``guidance/checks.py`` that the effort benchmark
 * prices) and open it in the side close-up, or say the track is checked.
 *
 * ``e``: where does the life really end (or start)? The bracket is a frame where the object is and one
 * where it is gone, and each answer, ``y`` (here) or ``t`` (not here) at the frame the tool opened,
 * narrows it; once two adjacent frames remain the life is set, one undoable edit, to end (start) at
 * the last frame where the object is. The rule (where the bracket starts, which frame to open next,
 * the life a closed bracket gives) is ``guidance/end_search.py``, the one the effort benchmark's
 * annotator follows, served step by step by ``POST /api/tracks/{id}/end-search``: this file only keeps
 * the bracket the server answered, sends it back with each answer, opens the frame it names and sets
 * the life it finds. One step at a time: ``e``, ``y`` and ``t`` are ignored while one is on its way.
 * The frames a search records as gone (where ``e`` started it, each ``t``) that were not looked at
 * before are taken back out of the memory when it ends without setting a life (cancelled, refused, the
 * track gone), since the server counts a looked frame inside the life as one where the object was seen.
 */

import { hasShapeAt } from './trackShapes.js';

/** @typedef {import('./editorTypes.js').Track} Track */
/** @typedef {import('./controller.js').EditorController} EditorController */

const STORAGE_PREFIX = 'labelpilot.checks.';

/** @typedef {{looked: Set<number>, right: Set<number>, accepted: Set<number>}} Judged */

/**
 * An end search in progress: the object is seen at ``present`` and gone at ``absent``.
 * @typedef {Object} EndSearch
 * @property {string} trackId
 * @property {number} present
 * @property {number} absent
 * @property {boolean} pastEnd the next frame to open is the one just past the end (``present``)
 */

/**
 * @typedef {Object} EndSearchStep `POST /api/tracks/{id}/end-search`
 * @property {{present: number, absent: number, past_end: boolean}} search the bracket after this step
 * @property {number | null} frame the frame to open next, null once the bracket is closed
 * @property {[number, number] | null} life the life the closed bracket gives
 * @property {boolean} finds_start whether the search is for where the life starts
 */

/**
 * @typedef {Object} NextCheck `POST /api/tracks/{id}/next-check`
 * @property {number | null} frame
 * @property {'end' | 'stretch' | null} kind
 * @property {string} reason
 * @property {number[]} supported_frames
 */

/** @param {unknown} value */
const frameList = (value) => (Array.isArray(value) ? value.filter((f) => Number.isInteger(f) && f >= 0) : []);

export class CheckFlow extends EventTarget {
  /** @type {Map<string, Judged>} */ #memory = new Map();
  /** @type {string | null} the storage key the memory was loaded from */ #storageKey = null;
  /** @type {{frame: number, tracks: Map<string, Track>}} the tracks as they were when this frame opened */
  #arrival = { frame: -1, tracks: new Map() };
  /** @type {EndSearch | null} */ search = null;
  /**
   * The frames the search in progress (from ``e`` on, its first step included) recorded as gone that
   * were not looked at before it: taken back out of ``looked`` unless it sets the life.
   * @type {{trackId: string, frames: Set<number>} | null}
   */
  #gone = null;
  /** Whether a step of the end search is on its way (``e``, ``y`` and ``t`` are ignored meanwhile). */
  #asking = false;
  /** The last step's number: an answer to an older one (cancelled since) is dropped. */
  #ticket = 0;
  /** What the check key said last (shown in the guidance panel). */
  status = '';

  /** @param {EditorController} controller */
  constructor(controller) {
    super();
    this.controller = controller;
    this.model = controller.model;
    this.model.on('frame', () => this.#arrive());
  }

  // Session memory.

  #arrive() {
    const model = this.model;
    this.#arrival = { frame: model.frameIndex, tracks: new Map([...model.tracks, ...model.candidates]) };
  }

  get #key() {
    const task = this.model.task;
    return task ? `${STORAGE_PREFIX}${this.model.userName}.${task.id}` : null;
  }

  /** The memory of this person's task (loaded from localStorage the first time). */
  #loaded() {
    const key = this.#key;
    if (key !== this.#storageKey) {
      this.#memory = new Map();
      this.#storageKey = key;
      try {
        const stored = key ? JSON.parse(globalThis.localStorage?.getItem(key) ?? '{}') : {};
        for (const [trackId, j] of Object.entries(stored ?? {})) {
          this.#memory.set(trackId, {
            looked: new Set(frameList(j?.looked)),
            right: new Set(frameList(j?.right)),
            accepted: new Set(frameList(j?.accepted_ends)),
          });
        }
      } catch {
        // A corrupt entry only costs the memory of this session's looks.
      }
    }
    return this.#memory;
  }

  /**
   * What the person judged of a track (loaded from localStorage the first time).
   * @param {string} id
   */
  judged(id) {
    const memory = this.#loaded();
    let found = memory.get(id);
    if (!found) {
      found = { looked: new Set(), right: new Set(), accepted: new Set() };
      memory.set(id, found);
    }
    return found;
  }

  /**
   * Whether the person found the box of track ``id`` right at ``frame`` (nothing is added to the memory).
   * @param {string} id
   * @param {number} frame
   */
  foundRight(id, frame) {
    return this.#loaded().get(id)?.right.has(frame) ?? false;
  }

  /**
   * The judged frames as the API takes them (ascending, inside the scene).
   * @param {string} id
   */
  judgedBody(id) {
    const j = this.judged(id);
    const count = this.model.frameCount;
    /** @param {Set<number>} s */
    const list = (s) => [...s].filter((f) => f < count).sort((a, b) => a - b);
    return { looked: list(j.looked), right: list(j.right), accepted_ends: list(j.accepted) };
  }

  #save() {
    const key = this.#key;
    if (!key) return;
    /** @type {Record<string, unknown>} */
    const out = {};
    for (const id of this.#memory.keys()) out[id] = this.judgedBody(id);
    try {
      globalThis.localStorage?.setItem(key, JSON.stringify(out));
    } catch {
      // Storage may be full or disabled: the memory still holds for this page.
    }
  }

  /**
   * The person leaves the frame on screen through the check key or the end search: looked at, and
   * right when ``mayBeRight`` and the track was not edited while the frame was open.
   * @param {string} id
   * @param {boolean} mayBeRight
   * @returns {boolean} whether the frame was right
   */
  #leave(id, mayBeRight) {
    const frame = this.model.frameIndex;
    const right = mayBeRight && this.#unedited(id);
    this.#record(id, frame, right);
    return right;
  }

  /**
   * The person leaves the frame on screen by ``n`` after the guidance queue opened it for track ``id``
   * (guidanceFlow.js): recorded as the check key records it, looked at, and right when the track was
   * not edited while the frame was open. Only a track of the work layer is recorded (a candidate is
   * not one yet); a track whose confirmation is still on its way (a temporary id) is recorded under
   * the server's id once it has one.
   * @param {string} id
   * @returns {boolean | null} whether the frame was right; null when nothing was recorded
   */
  recordLook(id) {
    if (this.model.find(id)?.kind !== 'track') return null;
    const frame = this.model.frameIndex;
    const right = this.#unedited(id);
    if (Number(id) >= 0) {
      this.#record(id, frame, right);
      return right;
    }
    const pipeline = this.controller.pipeline;
    void pipeline.idle().then(() => {
      const stored = pipeline.resolve(id);
      if (stored !== id && this.model.find(stored)?.kind === 'track') this.#record(stored, frame, right);
    });
    return right;
  }

  /**
   * Whether track ``id`` is as it was when the frame on screen opened (no edit to it meanwhile).
   * @param {string} id
   */
  #unedited(id) {
    const arrival = this.#arrival;
    return arrival.frame === this.model.frameIndex && arrival.tracks.get(id) === this.model.find(id)?.track;
  }

  /**
   * @param {string} id
   * @param {number} frame
   * @param {boolean} right
   */
  #record(id, frame, right) {
    const j = this.judged(id);
    j.looked.add(frame);
    if (right) j.right.add(frame);
    else j.right.delete(frame);
    this.#save();
  }

  /**
   * ``a`` accepted the proposed life: its ends are taken as shown, but for those the queue flags.
   * @param {string} id
   * @param {number} first
   * @param {number} last
   */
  acceptedLife(id, first, last) {
    const weak = new Set(
      this.model.guidance.filter((a) => a.kind === 'check_end' && a.track_id === id).map((a) => a.frame),
    );
    this.judged(id).accepted = new Set([first, last].filter((f) => !weak.has(f)));
    this.#save();
  }

  // The check key.

  /** ``c``: record this frame, then open the next frame of the selected track the rule asks for. */
  async checkNext() {
    await this.controller.pipeline.idle(); // a new track's id is the server's by then
    const model = this.model;
    const id = model.selectedId;
    const found = model.find(id);
    if (id === null || !found || !model.task) {
      model.notify('select an object to check (click it, or n for the next suggestion)', 'error');
      return null;
    }
    if (this.search || this.#asking) this.cancelSearch();
    const frame = model.frameIndex;
    const right = this.#leave(id, true);
    const track = found.track;
    const shown = hasShapeAt(track, frame);
    const keep = found.kind === 'track' && !track.stationary && !(String(frame) in track.keyframes);
    if (right && shown && keep) {
      // A box found right is kept as a keyframe (the effort model's accept key), so that a correction
      // made later elsewhere cannot move a box the person has judged.
      await this.controller.setKeyframe(id);
      await this.controller.pipeline.idle();
    }
    /** @type {NextCheck} */
    let answer;
    try {
      answer = await this.controller.api.post(`/api/tracks/${id}/next-check`, {
        task_id: model.task.id,
        ...this.judgedBody(id),
      });
    } catch (error) {
      model.notify(`no next check: ${error instanceof Error ? error.message : error}`, 'error');
      return null;
    }
    if (answer.frame === null) {
      this.#say(`${found.track.label} is checked`);
      return answer;
    }
    this.#open(id, answer.frame);
    this.#say(`${found.track.label}, frame ${answer.frame}: ${answer.reason}`);
    return answer;
  }

  /**
   * Open a frame the tool computed: the track kept selected, in the side close-up.
   * @param {string} id
   * @param {number} frame
   */
  #open(id, frame) {
    this.controller.goToFrame(frame);
    this.controller.select(id);
    this.model.setFocus({ trackId: id, frame, view: 'side', center: null });
  }

  /** @param {string} text */
  #say(text) {
    this.status = text;
    this.model.notify(text);
    this.dispatchEvent(new Event('change'));
  }

  // The end search.

  /** ``e``: start a search for where the selected track's life really ends (or starts). */
  async startEndSearch() {
    if (this.#asking) return null; // the last key's answer is on its way
    const model = this.model;
    const frame = model.frameIndex;
    const ticket = this.#ask();
    await this.controller.pipeline.idle(); // a new track's id (and its life) is the server's by then
    if (ticket !== this.#ticket) return null;
    const id = model.selectedId;
    const found = model.find(id);
    if (id === null || found?.kind !== 'track') {
      this.#asking = false;
      model.notify('select a track of your layer to search its end', 'error');
      return null;
    }
    // A search left open is replaced by this one, even if the server refuses this one's first step:
    // its bracket and its gone frames go together.
    this.#dropGone();
    if (this.search) {
      this.search = null;
      this.dispatchEvent(new Event('change'));
    }
    this.#gone = { trackId: id, frames: new Set() };
    this.#markGone(id, frame);
    this.judged(id).looked.add(frame); // looked at, and the object is not here: not right
    this.#save();
    return this.#step(ticket, id, { frame });
  }

  /**
   * ``y`` (the object is here) or ``t`` (not here): narrow the bracket at the frame on screen.
   * @param {boolean} here
   */
  async answer(here) {
    if (this.#asking) return null; // the last key's answer is on its way
    const search = this.search;
    const model = this.model;
    if (!search) {
      model.notify('no end search open: select a track and press e first', 'error');
      return null;
    }
    const frame = model.frameIndex;
    if (!here) this.#markGone(search.trackId, frame);
    this.#leave(search.trackId, here);
    const ticket = this.#ask();
    await this.controller.pipeline.idle(); // the life the search closes on is the stored one
    if (ticket !== this.#ticket) return null;
    const bracket = { present: search.present, absent: search.absent, past_end: search.pastEnd };
    return this.#step(ticket, search.trackId, { frame, search: bracket, here });
  }

  /** Escape: stop the search (and drop an answer on its way), nothing changed. */
  cancelSearch() {
    this.#ticket += 1;
    this.#asking = false;
    this.search = null;
    this.#dropGone();
    this.model.notify('end search cancelled');
    this.dispatchEvent(new Event('change'));
  }

  /**
   * The search records ``frame`` of track ``id`` as gone: remembered when it was not looked at before.
   * @param {string} id
   * @param {number} frame
   */
  #markGone(id, frame) {
    const gone = this.#gone;
    if (gone?.trackId === id && !this.judged(id).looked.has(frame)) gone.frames.add(frame);
  }

  /**
   * The search ends without setting a life: the frames it recorded as gone were never seen.
   * @param {{trackId: string, frames: Set<number>} | null} gone the search's (by default the one open)
   */
  #dropGone(gone = this.#gone) {
    if (gone === this.#gone) this.#gone = null;
    if (!gone?.frames.size) return;
    const j = this.#loaded().get(gone.trackId);
    if (!j) return;
    for (const frame of gone.frames) j.looked.delete(frame);
    this.#save();
  }

  /** A new step of the end search: its number. */
  #ask() {
    this.#asking = true;
    this.#ticket += 1;
    return this.#ticket;
  }

  /**
   * Ask the server for the next step of the search on track ``id``, then open the frame it names, or
   * set the life it found.
   * @param {number} ticket
   * @param {string} id
   * @param {{frame: number, search?: {present: number, absent: number, past_end: boolean}, here?: boolean}} step
   */
  async #step(ticket, id, step) {
    const model = this.model;
    /** @type {EndSearchStep} */
    let answer;
    try {
      answer = await this.controller.api.post(`/api/tracks/${id}/end-search`, {
        task_id: model.task?.id,
        ...this.judgedBody(id),
        ...step,
      });
    } catch (error) {
      if (ticket !== this.#ticket) return null;
      this.#asking = false;
      if (!step.search) this.#dropGone(); // refused: no search started (an answer refused keeps it open)
      model.notify(`${error instanceof Error ? error.message : error}`, 'error');
      return null;
    }
    if (ticket !== this.#ticket) return null; // cancelled meanwhile
    this.#asking = false;
    if (!step.search && model.selectedId !== id) {
      this.#dropGone(); // deselected (Escape) while it started
      return null;
    }
    const { present, absent, past_end: pastEnd } = answer.search;
    if (answer.frame !== null) {
      this.search = { trackId: id, present, absent, pastEnd };
      this.#open(id, answer.frame);
      this.dispatchEvent(new Event('change'));
      return answer;
    }
    this.search = null;
    return this.#finish(id, answer);
  }

  /**
   * The bracket is closed: the life ends (starts) at the last frame where the object is.
   * @param {string} id
   * @param {EndSearchStep} answer
   */
  async #finish(id, answer) {
    const gone = this.#gone;
    this.#gone = null; // the search is over: a new one may start while the life is being set
    const found = this.model.find(id);
    if (found?.kind !== 'track' || !answer.life) {
      this.#dropGone(gone);
      this.#say('the track is gone: end search stopped');
      return null;
    }
    const track = found.track;
    const [first, last] = answer.life;
    const at = answer.search.present;
    const end = answer.finds_start ? `starts at frame ${at}` : `ends at frame ${at}`;
    this.#open(id, at);
    if (first === track.first_frame && last === track.last_frame) {
      // The frames found gone are outside the life already: the memory stays as it is.
      this.#say(`${track.label} already ${end}`);
      return null;
    }
    const result = await this.controller.setLife(id, first, last, `${track.label} ${end}`);
    if (result) this.#say(`${track.label} ${end}`); // the frames found gone are outside the new life
    else {
      this.#dropGone(gone);
      this.dispatchEvent(new Event('change'));
    }
    return result;
  }
}
