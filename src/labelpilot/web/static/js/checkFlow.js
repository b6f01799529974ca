// @ts-check
/**
 * The check key and the end search: the tool computes which frame to open, one key each.
 *
 * Session memory, per track, of what the person judged (kept in localStorage per user and task, so a
 * reload keeps it): a frame is ``looked`` at when the person leaves it through the check key or the end
 * search with the track selected, and also ``right`` when they made no edit to that track while the
 * frame was on screen; the ends of a life accepted with ``a`` are ``accepted_ends``, except the ends
 * the queue flags with a ``check_end`` item (weak evidence: they still need a look).
 *
 * ``c``: record the frame on screen, ask the server for the next frame of the selected track
 * (``POST /api/tracks/{id}/next-check``, the rule of ``guidance/checks.py`` that the effort benchmark
 * prices) and open it in the side close-up, or say the track is checked.
 *
 * ``e``: where does the life really end (or start)? The bracket is a frame where the object is and one
 * where it is gone: outside the life (the object is gone here, or not yet there), the nearest end of
 * the life and this frame; inside it (the person says the object is gone here), this frame and the
 * nearest frame toward the middle found right, else the keyframe nearest the middle. The tool opens
 * the middle of the bracket, except first, from outside the life, the frame just past its end: a
 * track mostly ends where its evidence (detections, a proposal, a look) does (on the KITTI dev
 * sequences 0000-0010, in 74 % of the benchmark's searches from outside). Not so before the first
 * frame of a track a person drew: that is where they first found the object. ``y`` (here) and ``t``
 * (not here) narrow it; once two adjacent frames remain the life is set, one undoable edit, to end
 * (start) at the last frame where the object is.
 */

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

  /**
   * What the person judged of a track (loaded from localStorage the first time).
   * @param {string} id
   */
  judged(id) {
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
    let found = this.#memory.get(id);
    if (!found) {
      found = { looked: new Set(), right: new Set(), accepted: new Set() };
      this.#memory.set(id, found);
    }
    return found;
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
    const j = this.judged(id);
    j.looked.add(frame);
    const unedited = this.#arrival.frame === frame && this.#arrival.tracks.get(id) === this.model.find(id)?.track;
    const right = mayBeRight && unedited;
    if (right) j.right.add(frame);
    else j.right.delete(frame);
    this.#save();
    return right;
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
    if (this.search) this.cancelSearch();
    const frame = model.frameIndex;
    const right = this.#leave(id, true);
    const track = found.track;
    const shown = track.first_frame <= frame && frame <= track.last_frame && !track.absent_frames.includes(frame);
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
  startEndSearch() {
    const model = this.model;
    const id = model.selectedId;
    const found = model.find(id);
    if (id === null || found?.kind !== 'track') {
      model.notify('select a track of your layer to search its end', 'error');
      return;
    }
    const track = found.track;
    const frame = model.frameIndex;
    const inside = frame >= track.first_frame && frame <= track.last_frame;
    const nearestEnd = frame < track.first_frame ? track.first_frame : track.last_frame;
    const present = inside ? this.#seenToward(id, track, frame) : nearestEnd;
    if (present === null) {
      model.notify('no frame of the life to search from: delete the track, or set a keyframe first', 'error');
      return;
    }
    this.judged(id).looked.add(frame); // looked at, and the object is not here: not right
    this.#save();
    const drawnStart = frame < track.first_frame && track.provenance.kind === 'manual';
    this.search = { trackId: id, present, absent: frame, pastEnd: !inside && !drawnStart };
    this.#step();
  }

  /**
   * Inside the life, at a frame where the object is gone: the nearest frame toward the middle found
   * right, else the keyframe nearest the middle (else the middle frame), on the middle's side.
   * @param {string} id
   * @param {Track} track
   * @param {number} frame
   */
  #seenToward(id, track, frame) {
    const towardEnd = frame - track.first_frame <= track.last_frame - frame;
    /** @param {number} f */
    const beyond = (f) => f >= track.first_frame && f <= track.last_frame && (towardEnd ? f > frame : f < frame);
    const absent = new Set(track.absent_frames);
    const right = [...this.judged(id).right].filter((f) => beyond(f) && !absent.has(f));
    if (right.length) return towardEnd ? Math.min(...right) : Math.max(...right);
    const middle = (track.first_frame + track.last_frame) / 2;
    const keys = track.stationary ? [] : Object.keys(track.keyframes).map(Number).filter(beyond);
    if (keys.length) return keys.reduce((a, b) => (Math.abs(b - middle) < Math.abs(a - middle) ? b : a));
    const mid = Math.floor(middle);
    return beyond(mid) && !absent.has(mid) ? mid : null;
  }

  /** Open the middle of the bracket, or set the life once it is closed. */
  #step() {
    const search = this.search;
    if (!search) return;
    if (Math.abs(search.absent - search.present) <= 1) {
      void this.#finish(search);
      return;
    }
    const next = search.pastEnd
      ? search.present + Math.sign(search.absent - search.present)
      : Math.floor((search.present + search.absent) / 2);
    search.pastEnd = false;
    this.#open(search.trackId, next);
    this.dispatchEvent(new Event('change'));
  }

  /**
   * ``y`` (the object is here) or ``t`` (not here): narrow the bracket at the frame on screen.
   * @param {boolean} here
   */
  answer(here) {
    const search = this.search;
    const model = this.model;
    if (!search) {
      model.notify('no end search open: select a track and press e first', 'error');
      return;
    }
    const frame = model.frameIndex;
    const [lo, hi] = [Math.min(search.present, search.absent), Math.max(search.present, search.absent)];
    if (frame <= lo || frame >= hi) {
      model.notify(`frame ${frame} is outside the search (frames ${lo} to ${hi})`, 'error');
      return;
    }
    this.#leave(search.trackId, here);
    if (here) search.present = frame;
    else search.absent = frame;
    this.#step();
  }

  /** Escape: stop the search, nothing changed. */
  cancelSearch() {
    this.search = null;
    this.model.notify('end search cancelled');
    this.dispatchEvent(new Event('change'));
  }

  /**
   * The bracket is closed: the life ends (starts) at the last frame where the object is.
   * @param {EndSearch} search
   */
  async #finish(search) {
    this.search = null;
    const found = this.model.find(search.trackId);
    if (found?.kind !== 'track') {
      this.#say('the track is gone: end search stopped');
      return null;
    }
    const track = found.track;
    const start = search.present > search.absent;
    const [first, last] = start ? [search.present, track.last_frame] : [track.first_frame, search.present];
    const end = start ? `starts at frame ${search.present}` : `ends at frame ${search.present}`;
    this.#open(search.trackId, search.present);
    if (first === track.first_frame && last === track.last_frame) {
      this.#say(`${track.label} already ${end}`);
      return null;
    }
    const result = await this.controller.setLife(search.trackId, first, last, `${track.label} ${end}`);
    if (result) this.#say(`${track.label} ${end}`);
    else this.dispatchEvent(new Event('change'));
    return result;
  }
}
