// @ts-check
/**
 * The editor's single source of state. Views subscribe to its events and never mutate it; only the
 * controller calls the mutating methods (the ones after "Mutations").
 */

import { invertRigid, poseToMatrix } from './geometry.js';
import { deriveShapes, shapeIndex } from './trackShapes.js';

/** @typedef {import('./editorTypes.js').Track} Track */
/** @typedef {import('./editorTypes.js').Shapes} Shapes */
/** @typedef {import('./editorTypes.js').ShapeAt} ShapeAt */
/** @typedef {import('./editorTypes.js').Task} Task */
/** @typedef {import('./editorTypes.js').Scene} Scene */
/** @typedef {import('./editorTypes.js').Frame} Frame */
/** @typedef {import('./editorTypes.js').Sensor} Sensor */
/** @typedef {import('./editorTypes.js').GuidanceAction} GuidanceAction */
/** @typedef {import('./editorTypes.js').Nudge} Nudge */
/** @typedef {import('./editorTypes.js').SizePriors} SizePriors */
/** @typedef {import('./editorTypes.js').Mode} Mode */
/** @typedef {import('./editorTypes.js').SaveState} SaveState */
/** @typedef {import('./editorTypes.js').Focus} Focus */
/** @typedef {import('./editorTypes.js').EditorEventMap} EditorEventMap */

/** Which mode may follow which: drawing and playing both end in idle, playing stops for a drawing. */
const MODE_TRANSITIONS = /** @type {Record<Mode, Mode[]>} */ ({
  idle: ['draw', 'play'],
  draw: ['idle'],
  play: ['idle', 'draw'],
});

/** Guidance kinds that point at a problem in a frame, marked on the timeline. */
const FLAG_KINDS = new Set(['review_flag', 'look_at_missed']);

/** Classes on keys 1-9 when neither the scene nor the size priors name any. */
const FALLBACK_CLASSES = ['Car', 'Pedestrian', 'Cyclist'];

/** @param {string} label */
const isUpperCase = (label) => label === label.toUpperCase();

export class EditorModel extends EventTarget {
  constructor() {
    super();
    /** @type {Task | null} */ this.task = null;
    /** @type {Scene | null} */ this.scene = null;
    /** @type {Frame[]} */ this.frames = [];
    /** @type {Sensor[]} */ this.sensors = [];
    /** @type {string} the user editing, for per-user settings */ this.userName = '';
    this.frameIndex = 0;
    /** @type {Map<string, Track>} work-layer tracks */ this.tracks = new Map();
    /** @type {Map<string, Track>} pending candidates */ this.candidates = new Map();
    /** @type {Map<string, string>} candidate id -> its layer */ this.candidateLayers = new Map();
    /** @type {Map<string, Shapes>} */ this.shapes = new Map();
    /** @type {string | null} */ this.selectedId = null;
    /** @type {Mode} */ this.mode = 'idle';
    /** @type {GuidanceAction[]} */ this.guidance = [];
    /** Whether the server has answered the queue yet (it takes a moment on a large scene). */
    this.guidanceLoaded = false;
    /** @type {Nudge[]} */ this.nudges = [];
    /** @type {number} index into guidance of the item in focus (-1: none) */ this.guidanceIndex = -1;
    /** @type {string | null} the one kind of guidance item the queue shows and walks (null: all) */
    this.guidanceFilter = null;
    /** @type {Focus | null} */ this.focus = null;
    /** @type {SaveState} */ this.saveState = 'saved';
    /** @type {SizePriors} */ this.sizePriors = {};
    /** @type {string[]} classes on keys 1-9 */ this.classes = [...FALLBACK_CLASSES];
    /** @type {boolean} false when the task is not in progress for this user */ this.editable = true;
    this.sessionStartMs = Date.now();
    this.baselineShapes = 0;
  }

  /** The work layer's name: the task's layer. */
  get workLayer() {
    return this.task ? this.task.layer : 'work';
  }

  get frameCount() {
    return this.frames.length;
  }

  /**
   * Listen to one event; returns a function that stops listening.
   * @template {keyof EditorEventMap} K
   * @param {K} type
   * @param {(detail: EditorEventMap[K]) => void} listener
   */
  on(type, listener) {
    /** @param {Event} event */
    const handler = (event) => listener(/** @type {CustomEvent<EditorEventMap[K]>} */ (event).detail);
    this.addEventListener(type, handler);
    return () => this.removeEventListener(type, handler);
  }

  /**
   * @template {keyof EditorEventMap} K
   * @param {K} type
   * @param {EditorEventMap[K]} detail
   */
  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /**
   * A work track or a candidate by id.
   * @param {string | null} id
   * @returns {{track: Track, kind: 'track' | 'candidate'} | null}
   */
  find(id) {
    if (id === null) return null;
    const track = this.tracks.get(id);
    if (track) return { track, kind: 'track' };
    const candidate = this.candidates.get(id);
    return candidate ? { track: candidate, kind: 'candidate' } : null;
  }

  /**
   * Every cuboid at a frame, work tracks first.
   * @param {number} frameIndex
   * @returns {ShapeAt[]}
   */
  shapesAt(frameIndex) {
    /** @type {ShapeAt[]} */
    const out = [];
    /** @type {Array<['track' | 'candidate', Map<string, Track>]>} */
    const groups = [
      ['track', this.tracks],
      ['candidate', this.candidates],
    ];
    for (const [kind, tracks] of groups) {
      for (const [id, track] of tracks) {
        const shapes = this.shapes.get(id);
        const i = shapes ? shapeIndex(shapes, frameIndex) : -1;
        if (!shapes || i < 0) continue;
        out.push({
          id,
          kind,
          label: track.label,
          status: track.status,
          stationary: track.stationary,
          keyframe: !track.stationary && String(frameIndex) in track.keyframes,
          center: shapes.centers[i],
          size: shapes.sizes[i],
          quat: shapes.quats_xyzw[i],
          yaw: shapes.yaws[i],
        });
      }
    }
    return out;
  }

  /**
   * The shape of one track at a frame, or null.
   * @param {string} id
   * @param {number} frameIndex
   * @returns {ShapeAt | null}
   */
  shapeOf(id, frameIndex) {
    return this.shapesAt(frameIndex).find((s) => s.id === id) ?? null;
  }

  /**
   * ego_T_world at a frame (4x4 column-major).
   * @param {number} frameIndex
   */
  worldToEgo(frameIndex) {
    return invertRigid(this.egoToWorld(frameIndex));
  }

  /**
   * world_T_ego at a frame (4x4 column-major).
   * @param {number} frameIndex
   */
  egoToWorld(frameIndex) {
    return poseToMatrix(this.frames[frameIndex].world_T_ego);
  }

  /** Frames that the guidance flags (a problem to review or a missed object), with why. */
  flaggedFrames() {
    /** @type {Map<number, string[]>} */
    const flags = new Map();
    for (const action of this.guidance) {
      if (!FLAG_KINDS.has(action.kind)) continue;
      flags.set(action.frame, [...(flags.get(action.frame) ?? []), action.reason]);
    }
    return flags;
  }

  /** Shapes the work layer delivers: confirmed tracks' shapes in every frame. */
  deliveredShapes() {
    let count = 0;
    for (const [id, track] of this.tracks) {
      if (track.status === 'confirmed' && !track.deleted) count += this.shapes.get(id)?.frames.length ?? 0;
    }
    return count;
  }

  /** This session's KPIs: shapes delivered since the editor opened, and per hour. */
  sessionKpi(nowMs = Date.now()) {
    const shapes = Math.max(0, this.deliveredShapes() - this.baselineShapes);
    const hours = Math.max((nowMs - this.sessionStartMs) / 3_600_000, 1 / 60);
    return { shapes, perHour: shapes / hours, minutes: (nowMs - this.sessionStartMs) / 60_000 };
  }

  /** Candidates still waiting for a decision and flags still open: what submit leaves behind. */
  openItems() {
    return {
      candidates: this.candidates.size,
      flags: this.guidance.filter((a) => a.kind === 'review_flag').length,
      missed: this.guidance.filter((a) => a.kind === 'look_at_missed').length,
    };
  }

  // Mutations: the controller's only.

  /**
   * Everything the editor loads when it opens a task.
   * @param {{task: Task, scene: Scene, frames: Frame[], userName: string, editable: boolean,
   *   tracks: Array<{track: Track, shapes?: Shapes}>, candidates: Array<{track: Track, shapes?: Shapes, layer: string}>,
   *   sizePriors: SizePriors}} loaded
   */
  load(loaded) {
    this.task = loaded.task;
    this.scene = loaded.scene;
    this.frames = loaded.frames;
    this.sensors = loaded.scene.sensors;
    this.userName = loaded.userName;
    this.editable = loaded.editable;
    this.sizePriors = loaded.sizePriors;
    this.tracks.clear();
    this.candidates.clear();
    this.shapes.clear();
    for (const { track, shapes } of loaded.tracks) {
      if (!track.deleted) this.putTrack(track, shapes, false);
    }
    for (const { track, shapes, layer } of loaded.candidates) {
      if (track.deleted || track.status !== 'candidate') continue;
      this.candidateLayers.set(String(track.id), layer);
      this.putCandidate(track, shapes, false);
    }
    this.classes = this.#classOrder();
    this.sessionStartMs = Date.now();
    this.baselineShapes = this.deliveredShapes();
    this.frameIndex = 0;
    this.emit('tracks', {});
    this.emit('frame', { index: 0 });
    this.emit('kpi', {});
  }

  /**
   * Classes for keys 1-9: the scene's labels, most frequent first, then the size priors' classes
   * written the way the scene writes its labels (KITTI "Car" or Argoverse "REGULAR_VEHICLE"),
   * best known first.
   */
  #classOrder() {
    /** @type {Map<string, number>} */
    const counts = new Map();
    for (const track of [...this.tracks.values(), ...this.candidates.values()]) {
      counts.set(track.label, (counts.get(track.label) ?? 0) + 1);
    }
    const fromScene = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([label]) => label);
    const upper = fromScene.length > 0 && fromScene.filter(isUpperCase).length * 2 > fromScene.length;
    const fromPriors = Object.entries(this.sizePriors)
      .filter(([label]) => isUpperCase(label) === upper)
      .sort((a, b) => b[1].count - a[1].count)
      .map(([label]) => label);
    const classes = [...new Set([...fromScene, ...fromPriors])];
    return (classes.length ? classes : FALLBACK_CLASSES).slice(0, 9);
  }

  /**
   * Add or replace a work track (a deleted one is removed).
   * @param {Track} track
   * @param {Shapes} [shapes] derived locally when not given
   * @param {boolean} [notify]
   */
  putTrack(track, shapes, notify = true) {
    const id = String(track.id);
    if (track.deleted) {
      this.removeTrack(id, notify);
      return;
    }
    this.tracks.set(id, track);
    this.shapes.set(id, shapes ?? deriveShapes(track));
    if (notify) this.#changed();
  }

  /**
   * Add or replace a pending candidate (one that is no longer pending is removed).
   * @param {Track} track
   * @param {Shapes} [shapes]
   * @param {boolean} [notify]
   */
  putCandidate(track, shapes, notify = true) {
    const id = String(track.id);
    if (track.deleted || track.status !== 'candidate') {
      this.removeTrack(id, notify);
      return;
    }
    this.candidates.set(id, track);
    this.shapes.set(id, shapes ?? deriveShapes(track));
    if (notify) this.#changed();
  }

  /**
   * @param {string} id
   * @param {boolean} [notify]
   */
  removeTrack(id, notify = true) {
    const removed = this.tracks.delete(id) || this.candidates.delete(id);
    this.shapes.delete(id);
    if (this.selectedId === id) this.setSelection(null);
    if (removed && notify) this.#changed();
  }

  #changed() {
    this.emit('tracks', {});
    this.emit('kpi', {});
  }

  /** @param {number} index */
  setFrame(index) {
    const clamped = Math.max(0, Math.min(this.frames.length - 1, Math.round(index)));
    if (clamped === this.frameIndex) return;
    this.frameIndex = clamped;
    this.emit('frame', { index: clamped });
  }

  /** @param {string | null} id */
  setSelection(id) {
    if (id === this.selectedId) return;
    this.selectedId = id;
    this.emit('selection', { id });
  }

  /**
   * Switch mode if the mode machine allows it; returns whether it did.
   * @param {Mode} mode
   */
  setMode(mode) {
    if (mode === this.mode) return true;
    if (!MODE_TRANSITIONS[this.mode].includes(mode)) return false;
    this.mode = mode;
    this.emit('mode', { mode });
    return true;
  }

  /**
   * The server's queue and the nudges shown with it.
   * @param {GuidanceAction[]} guidance
   * @param {Nudge[]} nudges
   */
  setGuidance(guidance, nudges) {
    this.guidanceLoaded = true;
    const focused = this.guidance[this.guidanceIndex];
    this.guidance = guidance;
    // The item in focus keeps the focus where the new queue still has it (edits shift the others);
    // where it left (it was done), the item that took its place is next.
    const kept = focused
      ? guidance.findIndex((a) => a.kind === focused.kind && a.track_id === focused.track_id && a.frame === focused.frame)
      : -1;
    if (kept >= 0) this.guidanceIndex = kept;
    else if (this.guidanceIndex >= guidance.length) this.guidanceIndex = guidance.length ? 0 : -1;
    this.setNudges(nudges);
  }

  /** @param {Nudge[]} nudges the nudges shown now (one followed or dismissed leaves) */
  setNudges(nudges) {
    this.nudges = nudges;
    this.emit('guidance', {});
  }

  /** @param {number} index */
  setGuidanceIndex(index) {
    this.guidanceIndex = index;
    this.emit('guidance', {});
  }

  /** @param {string | null} kind */
  setGuidanceFilter(kind) {
    this.guidanceFilter = kind;
    const focused = this.guidance[this.guidanceIndex];
    if (focused && kind !== null && focused.kind !== kind) this.guidanceIndex = -1;
    this.emit('guidance', {});
  }

  /** @param {Focus} focus */
  setFocus(focus) {
    this.focus = focus;
    this.emit('focus', focus);
  }

  /**
   * @param {SaveState} state
   * @param {string} [message]
   */
  setSaveState(state, message) {
    this.saveState = state;
    this.emit('save', message === undefined ? { state } : { state, message });
  }

  /**
   * @param {string} message
   * @param {'info' | 'error'} [level]
   */
  notify(message, level = 'info') {
    this.emit('notice', { message, level });
  }
}
