// @ts-check
/**
 * The fast path: the next-best-action queue and the nudges, fetched from the server after edits,
 * walked with one key (``n`` focuses the next item: its frame, its track, its view) and done with
 * one key (the item's own: Enter, s, x, m, ...). Nudges live on the NudgeBoard (shown, followed,
 * dismissed); opening an item of the queue is recorded as an event (`guidance_item_opened`).
 *
 * A moving candidate confirmed at the queue's suggested keyframes (Enter, or its item's button) is
 * then walked: ``n`` opens each of those keyframes in turn (but the frame it was confirmed at), as
 * does following a ``use_keyframes`` nudge; the walk ends at its last keyframe, or once the person
 * selects something else. Leaving a frame by ``n`` records the look in the check key's memory
 * (checkFlow.js ``recordLook``): the walk's track at the keyframe on screen (or at the frame it was
 * confirmed at), else the track of the queue item last opened when that frame and track are still on
 * screen. A ``check_end`` item at a frame the person has found right is no longer open.
 */

import { NudgeBoard } from './nudgeBoard.js';
import { hasShapeAt } from './trackShapes.js';

/** @typedef {import('./editorTypes.js').GuidanceAction} GuidanceAction */
/** @typedef {import('./editorTypes.js').Nudge} Nudge */
/** @typedef {import('./controller.js').EditorController} EditorController */

/** Edits often come in bursts; the queue is recomputed once they pause this long. */
const REFRESH_DELAY_MS = 700;

export class GuidanceFlow {
  /** @type {ReturnType<typeof setTimeout> | null} */ #timer = null;
  /** @type {Promise<void> | null} */ #running = null;
  #dirty = false;
  /**
   * The suggested keyframes being walked (``frames[index]`` on screen; -1: not started): ``from`` is
   * the frame the walk starts from when the person judged the track there (where it was confirmed).
   * @type {{trackId: string, frames: number[], index: number, from: number | null} | null}
   */
  walk = null;

  /** @param {EditorController} controller */
  constructor(controller) {
    this.controller = controller;
    this.model = controller.model;
    this.board = new NudgeBoard(this.model, controller.events);
  }

  /** Refresh the queue and the nudges soon (after a burst of edits). */
  schedule() {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.refresh();
    }, REFRESH_DELAY_MS);
  }

  /** Fetch the queue and the nudges now; one request at a time, the latest edits always included. */
  refresh() {
    if (this.#running) {
      this.#dirty = true;
      return this.#running;
    }
    this.#running = this.#fetch().finally(() => {
      this.#running = null;
      if (this.#dirty) {
        this.#dirty = false;
        void this.refresh();
      }
    });
    return this.#running;
  }

  async #fetch() {
    const task = this.model.task;
    if (!task) return;
    const api = this.controller.api;
    try {
      const [guidance, nudges] = await Promise.all([
        api.get(`/api/scenes/${task.scene_id}/guidance?task_id=${task.id}`),
        api.get(`/api/tasks/${task.id}/nudges`),
      ]);
      const shown = this.board.merge(/** @type {Nudge[]} */ (nudges));
      this.model.setGuidance(/** @type {GuidanceAction[]} */ (guidance), shown);
    } catch (error) {
      this.model.notify(`guidance not updated: ${error instanceof Error ? error.message : error}`, 'error');
    }
  }

  /**
   * Whether an action still applies to what the editor shows (its track may be done already).
   * @param {GuidanceAction} action
   */
  isOpen(action) {
    if (action.track_id === null) return true;
    if (this.model.find(action.track_id) === null) return false;
    // A weak end the person already found right (e.g. a suggested keyframe walked with n).
    return !(action.kind === 'check_end' && this.controller.checkFlow.foundRight(action.track_id, action.frame));
  }

  /**
   * The guidance action the queue offers for a track, of one of ``kinds``.
   * @param {string} trackId
   * @param {string[]} kinds
   */
  actionFor(trackId, kinds) {
    return this.model.guidance.find((a) => a.track_id === trackId && kinds.includes(a.kind)) ?? null;
  }

  /**
   * ``n``: record the look at what is in focus, then open the next suggested keyframe of a walk, else
   * the next open item of the queue.
   */
  next() {
    const walk = this.#walkOn();
    this.#recordLook(walk);
    if (walk && walk.index + 1 < walk.frames.length) {
      this.#advance(walk);
      return;
    }
    this.walk = null;
    const queue = this.model.guidance;
    const only = this.model.guidanceFilter;
    for (let step = 1; step <= queue.length; step += 1) {
      const index = (Math.max(this.model.guidanceIndex, -1) + step + queue.length) % queue.length;
      if (this.isOpen(queue[index]) && (only === null || queue[index].kind === only)) {
        this.open(index);
        return;
      }
    }
    this.model.notify('the guidance queue is empty');
  }

  /**
   * The walk in progress while the person is on it (its track selected, under its current id); a walk
   * whose track is no longer selected is over.
   */
  #walkOn() {
    const walk = this.walk;
    if (!walk) return null;
    const pipeline = this.controller.pipeline;
    walk.trackId = pipeline.resolve(walk.trackId);
    const selected = this.model.selectedId;
    if (selected !== null && pipeline.resolve(selected) === walk.trackId) return walk;
    this.walk = null;
    return null;
  }

  /**
   * The next suggested keyframe of a walk, its track selected.
   * @param {{trackId: string, frames: number[], index: number}} walk
   */
  #advance(walk) {
    walk.index += 1;
    this.controller.goToFrame(walk.frames[walk.index]);
    this.controller.select(walk.trackId);
    this.model.notify(`keyframe ${walk.index + 1} of ${walk.frames.length}: adjust the box if needed`);
  }

  /**
   * ``n`` leaves the frame on screen: the look at what the queue put in focus there goes into the
   * check key's memory (looked; right when unedited since the frame opened). During a walk that is
   * its track at the keyframe on screen (or at the frame it was confirmed at, before the first
   * keyframe); otherwise the track of the item last opened, if that item (the queue may have been
   * computed again since, its indexes shifted) is still of the selected track at the frame on screen.
   * Candidates are not recorded: they are no track of the layer yet.
   * @param {{trackId: string, frames: number[], index: number, from: number | null} | null} walk
   */
  #recordLook(walk) {
    const frame = this.model.frameIndex;
    /** @type {string | null} */
    let id = null;
    if (walk) {
      const current = walk.index >= 0 ? walk.frames[walk.index] : walk.from;
      if (current === frame) id = walk.trackId;
    } else {
      const action = this.model.guidance[this.model.guidanceIndex];
      if (action && action.track_id !== null && action.frame === frame && action.track_id === this.model.selectedId) {
        id = action.track_id;
      }
    }
    if (id === null || this.model.find(id)?.kind !== 'track') return;
    const right = this.controller.checkFlow.recordLook(id);
    // A check_end item at this frame is done now: the queue shows it no more.
    const stored = this.controller.pipeline.resolve(id);
    /** @param {GuidanceAction} a */
    const done = (a) => a.kind === 'check_end' && a.track_id === stored && a.frame === frame;
    if (right && this.model.guidance.some(done)) this.model.emit('guidance', {});
  }

  /**
   * Open an item of the queue (``n``, or a click on it): in focus, and recorded as looked at.
   * @param {number} index in model.guidance
   */
  open(index) {
    const action = this.model.guidance[index];
    if (!action) return;
    this.model.setGuidanceIndex(index);
    this.focus(action);
    this.controller.events.send('guidance_item_opened', {
      action_kind: action.kind,
      frame: action.frame,
      track_id: action.track_id === null ? null : Number(action.track_id),
      index,
    });
  }

  /**
   * Take the person to an action: its frame, its track selected, its view.
   * @param {GuidanceAction} action
   */
  focus(action) {
    this.controller.goToFrame(action.frame);
    this.controller.select(action.track_id);
    this.model.setFocus({
      trackId: action.track_id,
      frame: action.frame,
      view: action.view,
      center: action.center_world ?? null,
    });
  }

  /**
   * Do an action of the queue (or of a nudge) with its defaults.
   * @param {GuidanceAction} action
   */
  async follow(action) {
    const controller = this.controller;
    this.focus(action);
    const id = action.track_id;
    const found = this.model.find(id);
    switch (action.kind) {
      case 'confirm_stationary':
        return id && found ? controller.markStationary(id) : null;
      case 'confirm_moving':
        if (id && found?.kind === 'candidate') {
          return this.#confirm(id, action.keyframes.length ? action.keyframes : undefined);
        }
        // A track of the work layer keyed densely: walk the keyframes that reproduce its path.
        if (id && found && action.keyframes.length) {
          const walk = { trackId: id, frames: action.keyframes, index: -1, from: null };
          this.walk = walk;
          this.#advance(walk);
        }
        return null;
      case 'reject_false_positive':
        return id && found ? controller.rejectCandidate(id) : null;
      case 'look_at_missed': {
        // The box seen there becomes a track at once, one world box over the frames it was seen in
        // when it stood still (the person then corrects it, f fits it to the points); without a box
        // the person draws it.
        const box = action.proposal;
        if (box) {
          const life = box.stationary && action.life ? action.life : undefined;
          return controller.createBox({ ...box, label: box.label ?? undefined, life });
        }
        controller.startDraw();
        return null;
      }
      case 'accept_life':
        return id && found ? this.acceptLife(id) : null;
      case 'check_end':
        // The person has looked at the end (and trimmed or extended the life where it was wrong).
        return id && found?.kind === 'track' && action.life
          ? controller.markEndChecked(id, action.frame === action.life[0] ? 'first' : 'last', action.frame)
          : null;
      default:
        // measure, review_flag: the person looks and corrects; focusing is the action.
        return null;
    }
  }

  /** Follow a nudge's action (the first one by default). */
  async followNudge(index = 0) {
    const nudge = this.model.nudges[index];
    if (!nudge) {
      this.model.notify('no nudge right now');
      return null;
    }
    this.board.followed(nudge);
    if (nudge.action) return this.follow(nudge.action);
    if (nudge.track_id) this.controller.select(nudge.track_id);
    return null;
  }

  /** Dismiss a nudge (the first one by default): it does not come back in this task. */
  dismissNudge(index = 0) {
    const nudge = this.model.nudges[index];
    if (!nudge) {
      this.model.notify('no nudge right now');
      return;
    }
    this.board.dismissed(nudge);
    this.model.notify('nudge dismissed');
  }

  /**
   * ``m``: the measurement view of a track (the queue's suggestion, else its side view here).
   * @param {string | null} id
   */
  measure(id) {
    if (id === null) {
      this.model.notify('select a track to measure', 'error');
      return;
    }
    const action = this.actionFor(id, ['measure']);
    if (action) {
      this.focus(action);
      this.model.notify(action.reason);
      return;
    }
    this.model.setFocus({ trackId: id, frame: this.model.frameIndex, view: 'side', center: null });
  }

  /**
   * ``a``: give the selected track the life the queue proposes for it (from its detections, the
   * sensors' coverage and lidar support); its weak ends stay in the queue as ``check_end`` items.
   * @param {string} id
   */
  async acceptLife(id) {
    const action = this.actionFor(id, ['accept_life']);
    if (!action?.life) {
      this.model.notify('no proposed life for this object', 'error');
      return null;
    }
    const [first, last] = action.life;
    const done = await this.controller.acceptLife(id, first, last);
    // The check key then takes these ends as shown (but for the ends the queue flags as weak).
    if (done) this.controller.checkFlow.acceptedLife(id, first, last);
    return done;
  }

  /**
   * The pending candidates the queue suggests rejecting as false positives (each once, queue order).
   * @returns {string[]}
   */
  suggestedFalsePositives() {
    const ids = this.model.guidance
      .filter((a) => a.kind === 'reject_false_positive' && a.track_id !== null)
      .map((a) => /** @type {string} */ (a.track_id));
    return [...new Set(ids)].filter((id) => this.model.find(id)?.kind === 'candidate');
  }

  /**
   * ``alt+x``: reject every candidate the queue suggests as a false positive, in one request and one
   * undo step; then the queue is computed again.
   */
  async rejectSuggested() {
    const ids = this.suggestedFalsePositives();
    if (!ids.length) {
      this.model.notify('no suggested false positive in the queue');
      return null;
    }
    const results = await this.controller.rejectCandidates(ids);
    if (results) {
      const n = results.length;
      this.model.notify(`${n} suggested false positive${n === 1 ? '' : 's'} rejected`);
    } else {
      // Refused (nothing was written): the queue may have moved on meanwhile.
      this.schedule();
    }
    return results;
  }

  /**
   * Enter: confirm the selected candidate, keyed as the queue suggests when it has a suggestion.
   */
  confirmSelected() {
    const id = this.model.selectedId;
    if (id === null || this.model.find(id)?.kind !== 'candidate') {
      this.model.notify('select a candidate to confirm (n goes to the next one)', 'error');
      return Promise.resolve(null);
    }
    const suggestion = this.actionFor(id, ['confirm_moving']);
    const keyframes = suggestion && suggestion.keyframes.length ? suggestion.keyframes : undefined;
    return this.#confirm(id, keyframes);
  }

  /**
   * Confirm a candidate (keyed at ``keyframes`` when given); with keyframes, ``n`` then walks them,
   * but the frame on screen, where the person just judged the box.
   * @param {string} id
   * @param {number[]} [keyframes]
   */
  #confirm(id, keyframes) {
    const model = this.model;
    const from = model.frameIndex;
    const candidate = model.find(id)?.track;
    const done = this.controller.confirmCandidate(id, keyframes);
    // The confirmed copy is shown (and selected) at once, under a temporary id until the server answers.
    const shown = model.selectedId;
    if (keyframes && candidate && shown !== null && shown !== id && model.find(shown)?.kind === 'track') {
      const judged = hasShapeAt(candidate, from);
      const frames = [...new Set(keyframes)].filter((f) => f !== from).sort((a, b) => a - b);
      if (frames.length) this.walk = { trackId: shown, frames, index: -1, from: judged ? from : null };
    }
    return done;
  }
}
