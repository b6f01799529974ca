// @ts-check
/**
 * Every user action of the editor. Views and the keymap call these. The track edits are in
 * trackActions.js and lifeActions.js (this class extends them): each changes the model at once
 * (optimistically) and sends the edit through the pipeline, whose answer from the server replaces the
 * optimistic copy. Navigation, modes, guidance (guidanceFlow.js), the check key and the end search
 * (checkFlow.js), undo and redo, and submitting are here; the events that are not edits (nudges
 * shown, heartbeats, ...) go out through ``events``.
 */

import { CheckFlow } from './checkFlow.js';
import { EditorEvents } from './editorEvents.js';
import { GuidanceFlow } from './guidanceFlow.js';
import { LifeActions } from './lifeActions.js';

/** @typedef {import('./editorTypes.js').GuidanceAction} GuidanceAction */
/** @typedef {import('./model.js').EditorModel} EditorModel */
/** @typedef {import('./api.js').Api} Api */

/** Play speed when the scene's timestamps do not say (KITTI and most lidars: 10 Hz). */
const DEFAULT_FRAME_MS = 100;

export class EditorController extends LifeActions {
  /** @type {ReturnType<typeof setInterval> | null} */ #playTimer = null;

  /**
   * @param {EditorModel} model
   * @param {Api} api
   */
  constructor(model, api) {
    super(model, api);
    this.events = new EditorEvents(model, api);
    this.guidanceFlow = new GuidanceFlow(this);
    this.checkFlow = new CheckFlow(this);
  }

  /**
   * After every saved edit the guidance queue is recomputed (soon, once edits pause).
   * @override
   */
  saved() {
    this.guidanceFlow.schedule();
  }

  /** After the model loaded a task: the server's state of every track, and where candidates live. */
  loaded() {
    const scene = this.model.scene;
    const candidateIds = (scene?.layers ?? [])
      .filter((l) => l.name !== this.model.workLayer && /^(candidates|auto):/.test(l.name))
      .map((l) => l.id);
    this.pipeline.reset([...this.model.tracks.values(), ...this.model.candidates.values()], candidateIds);
    this.drawLabel = this.model.classes[0];
  }

  // Navigation and modes.

  /** @param {number} index */
  goToFrame(index) {
    this.model.setFrame(index);
  }

  nextFrame() {
    if (this.model.frameIndex >= this.model.frameCount - 1 && this.model.mode === 'play') this.#stopPlay();
    this.model.setFrame(this.model.frameIndex + 1);
  }

  prevFrame() {
    this.model.setFrame(this.model.frameIndex - 1);
  }

  /** The median time between frames, in milliseconds (from the timestamps). */
  framePeriodMs() {
    const frames = this.model.frames;
    const steps = frames.slice(1).map((f, i) => (f.timestamp_us - frames[i].timestamp_us) / 1000);
    const ms = steps.length ? steps.sort((a, b) => a - b)[steps.length >> 1] : DEFAULT_FRAME_MS;
    return ms > 0 ? ms : DEFAULT_FRAME_MS;
  }

  /** Frames in one second of scene: the scan stride of shift+arrows. */
  scanStride() {
    return Math.max(1, Math.round(1000 / this.framePeriodMs()));
  }

  /** @param {1 | -1} direction */
  stepScan(direction) {
    this.model.setFrame(this.model.frameIndex + direction * this.scanStride());
  }

  togglePlay() {
    if (this.model.mode === 'play') {
      this.#stopPlay();
      return;
    }
    if (!this.model.setMode('play')) return;
    this.#playTimer = setInterval(() => this.nextFrame(), Math.max(this.framePeriodMs(), 30));
  }

  #stopPlay() {
    if (this.#playTimer !== null) clearInterval(this.#playTimer);
    this.#playTimer = null;
    if (this.model.mode === 'play') this.model.setMode('idle');
  }

  /** @param {string | null} id */
  select(id) {
    this.model.setSelection(id !== null && this.model.find(id) ? id : null);
  }

  startDraw() {
    if (!this.edits.editable()) return;
    this.#stopPlay();
    this.model.setMode('draw');
  }

  cancelDraw() {
    if (this.model.mode === 'draw') this.model.setMode('idle');
  }

  /** Escape: end drawing (or playing, or an end search), else clear the selection. */
  cancel() {
    if (this.checkFlow.search) this.checkFlow.cancelSearch();
    else if (this.model.mode === 'draw') this.cancelDraw();
    else if (this.model.mode === 'play') this.#stopPlay();
    else this.select(null);
  }

  // Guidance (the queue, nudges, the measurement view): see guidanceFlow.js.

  /** @param {GuidanceAction} action */
  followAction(action) {
    return this.guidanceFlow.follow(action);
  }

  nextAction() {
    return this.guidanceFlow.next();
  }

  followNudge(index = 0) {
    return this.guidanceFlow.followNudge(index);
  }

  dismissNudge(index = 0) {
    this.guidanceFlow.dismissNudge(index);
  }

  /** @param {string | null} id */
  goToMeasurement(id) {
    return this.guidanceFlow.measure(id);
  }

  /**
   * The person's answer to the conflict dialog: keep the server's version, or apply mine on top.
   * @param {import('./editPipeline.js').ConflictChoice} choice
   */
  resolveConflict(choice) {
    this.pipeline.resolveConflict(choice);
  }

  // Undo, redo, submit.

  async undo() {
    if (!this.edits.editable()) return;
    const done = await this.history.undo().catch((e) => this.edits.failed(e));
    this.#afterHistory(done, 'undone', 'nothing to undo');
  }

  async redo() {
    if (!this.edits.editable()) return;
    const done = await this.history.redo().catch((e) => this.edits.failed(e));
    this.#afterHistory(done, 'redone', 'nothing to redo');
  }

  /**
   * Say what undo or redo did and select the track it changed (when it still exists).
   * @param {{label: string, id: string | null} | null} done
   * @param {string} verb
   * @param {string} nothing
   */
  #afterHistory(done, verb, nothing) {
    this.model.notify(done ? `${verb}: ${done.label}` : nothing);
    if (!done) return;
    if (this.model.find(done.id)) this.model.setSelection(done.id);
    this.guidanceFlow.schedule();
  }

  /** Hand the task in for review once every edit is saved; returns the submitted task. */
  async submit() {
    const model = this.model;
    if (!model.task || !this.edits.editable()) return null;
    await this.pipeline.idle();
    if (model.saveState === 'error') {
      model.notify('an edit is not saved: resolve it before submitting', 'error');
      return null;
    }
    // The server takes a task's events only while it is in progress: the last ones land first.
    await this.events.close();
    /** @type {import('./editorTypes.js').Task} */
    let task;
    try {
      const fresh = await this.api.get(`/api/tasks/${model.task.id}`);
      task = await this.api.post(`/api/tasks/${model.task.id}/submit`, { expected_version: fresh.version });
    } catch (error) {
      this.events.reopen();
      throw error;
    }
    model.task = task;
    model.editable = false;
    this.#stopPlay();
    model.notify('task submitted');
    model.emit('tracks', {});
    return task;
  }
}
