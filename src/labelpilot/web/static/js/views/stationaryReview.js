// @ts-check
/**
 * The stationary-objects review (key `r`): every stationary candidate of the scene in one world-frame
 * bird's-eye view — the sweeps accumulated through the active ego poses where the scene has lidar, and
 * each candidate's proposed world box (`GET /api/scenes/{id}/stationary-review`) — with a list and a
 * counter. The main view shows the review; the close-ups keep showing the item in focus at its best
 * frame. Inside the review `n` opens the next item, `s` confirms it as stationary, `x` rejects it, `m`
 * goes to its measurement view and `Escape` leaves (the keymap's keys for those actions). Decisions
 * go through the controller's own edits (versions, undo and events as elsewhere); decided items leave
 * the list, and an undone decision brings its item back.
 *
 * For tests the panel carries `data-items` (listed), `data-boxes` (drawn), `data-points` and
 * `data-current` (the track id in focus).
 */

import { quantile, transformBox } from '../geometry.js';
import { ReviewLayer, decodePoints } from './reviewLayer.js';

/** @typedef {import('../model.js').EditorModel} EditorModel */
/** @typedef {import('../controller.js').EditorController} EditorController */
/** @typedef {import('../keymap.js').Keymap} Keymap */
/** @typedef {import('../api.js').Api} Api */
/** @typedef {import('./sceneView.js').SceneView} SceneView */
/** @typedef {import('./reviewLayer.js').ReviewPoints} ReviewPoints */

/**
 * One item of the review, as the API answers it.
 * @typedef {object} ReviewItem
 * @property {string} track_id the candidate
 * @property {string} layer
 * @property {string} label
 * @property {number} first_frame
 * @property {number} last_frame
 * @property {{center: number[], size: number[], yaw: number}} box world frame
 * @property {number} frame its best close-up
 * @property {string} view
 * @property {string} reason
 */

/** @typedef {{id: string, kind: 'candidate' | 'track', stationary: boolean, size: number[]}} LiveTrack */

/** Items listed at once; the rest are counted. */
const SHOWN_ITEMS = 80;
/** Margin around the boxes when the review opens, as a share of their extent. */
const FIT_MARGIN = 0.15;
/** The widest bird's-eye scale the review opens at (m per pixel): ~200 m across, boxes still readable. */
const MAX_OPEN_METRES_PER_PIXEL = 0.25;

export class StationaryReview {
  /** @type {ReviewItem[]} every item the server answered, in its order */ #all = [];
  /** @type {Map<string, string>} candidate id -> its key, to find its confirmed copy */ #keys = new Map();
  /** @type {ReviewLayer | null} */ #layer = null;
  /** @type {import('./scene/mainView.js').MainMode} */ #mainBefore = 'orbit';
  #loading = false;

  /**
   * @param {HTMLElement} host where the panel goes (the scene view's element)
   * @param {EditorModel} model
   * @param {EditorController} controller
   * @param {SceneView} sceneView
   * @param {Keymap} keymap
   * @param {Api} api
   */
  constructor(host, model, controller, sceneView, keymap, api) {
    this.model = model;
    this.controller = controller;
    this.sceneView = sceneView;
    this.keymap = keymap;
    this.api = api;
    this.active = false;
    /** @type {string | null} the candidate in focus */
    this.currentId = null;
    this.panel = host.ownerDocument.createElement('section');
    this.panel.dataset.testid = 'stationary-review';
    this.panel.className = 'panel';
    this.panel.hidden = true;
    this.panel.style.cssText =
      'position:absolute;left:8px;bottom:8px;z-index:3;width:340px;max-height:45%;display:flex;flex-direction:column;' +
      'box-shadow:0 4px 16px rgba(0,0,0,.5)';
    host.append(this.panel);
    model.on('tracks', () => this.#changed());
  }

  /** The items still open, in the server's order. */
  get items() {
    return this.#all.filter((item) => this.#isOpen(item));
  }

  /** `r`: fetch the review and show it (again, if it is open: a fresh answer). */
  async open() {
    const task = this.model.task;
    if (!task || this.#loading) return;
    this.#loading = true;
    if (!this.active) this.#mainBefore = this.sceneView.main.mode;
    this.active = true;
    this.panel.hidden = false;
    this.#renderMessage('Loading the stationary candidates…');
    try {
      const answer = /** @type {{items: ReviewItem[], points: ReviewPoints | null}} */ (
        await this.api.get(`/api/scenes/${task.scene_id}/stationary-review?task_id=${task.id}`)
      );
      if (!this.active) return;
      this.#show(answer.items, answer.points);
    } catch (error) {
      this.model.notify(`stationary review: ${error instanceof Error ? error.message : error}`, 'error');
      this.close();
    } finally {
      this.#loading = false;
    }
  }

  /** Escape: back to the frame's own view. */
  close() {
    this.active = false;
    this.panel.hidden = true;
    this.sceneView.setMainLayer(null);
    this.#layer?.dispose();
    this.#layer = null;
    this.sceneView.setMainView(this.#mainBefore);
    this.model.notify('left the stationary review');
  }

  /**
   * @param {ReviewItem[]} items
   * @param {ReviewPoints | null} points
   */
  #show(items, points) {
    this.#all = items;
    for (const item of items) {
      const key = this.model.candidates.get(item.track_id)?.key;
      if (key !== undefined) this.#keys.set(item.track_id, key);
    }
    this.#layer?.dispose();
    const layer = new ReviewLayer();
    this.#layer = layer;
    const bottoms = items.map((i) => i.box.center[2] - i.box.size[2] / 2);
    if (points && points.count > 0) {
      const sweep = decodePoints(points, bottoms.length ? quantile(bottoms, 0.5) : null);
      if (sweep.groundZ === null) sweep.groundZ = quantile(Array.from(sweep.positions.filter((_, k) => k % 3 === 2)), 0.1);
      layer.points.setSweep(sweep);
    }
    this.panel.dataset.points = String(layer.points.count);
    this.sceneView.setMainView('bev');
    this.#syncBoxes();
    this.sceneView.setMainLayer(layer);
    this.#fitView();
    const first = this.items[0];
    if (first) this.openItem(first.track_id);
    else this.#render();
  }

  /** The bird's-eye view over every box (in the ego frame of the item the review opens at). */
  #fitView() {
    const first = this.items[0];
    if (!first || !this.#layer) return;
    const frame = first.frame;
    const egoTWorld = this.model.worldToEgo(frame);
    const centers = this.#layer.worldBoxes.map((b) => transformBox(egoTWorld, b).center);
    const xs = centers.map((c) => c[0]);
    const ys = centers.map((c) => c[1]);
    const main = this.sceneView.main;
    const spanX = (Math.max(...xs) - Math.min(...xs)) * (1 + 2 * FIT_MARGIN) + 10;
    const spanY = (Math.max(...ys) - Math.min(...ys)) * (1 + 2 * FIT_MARGIN) + 10;
    // Screen up is +x (ahead), screen right is -y.
    main.metresPerPixel = Math.min(MAX_OPEN_METRES_PER_PIXEL, Math.max(spanX / main.height, spanY / main.width, 0.02));
    main.centerOn((Math.max(...xs) + Math.min(...xs)) / 2, (Math.max(...ys) + Math.min(...ys)) / 2);
  }

  /**
   * Open an item: its best close-up (its frame, the candidate selected, a close-up in focus), and the
   * opening recorded as the guidance flow records the queue's items.
   * @param {string} trackId
   */
  openItem(trackId) {
    const item = this.#all.find((i) => i.track_id === trackId);
    const live = item ? this.#live(item) : null;
    if (!item || !live) return;
    this.currentId = trackId;
    this.controller.goToFrame(item.frame);
    this.controller.select(live.id);
    const view = item.view === 'bev' ? 'side' : item.view;
    this.model.setFocus({ trackId: live.id, frame: item.frame, view, center: null });
    this.controller.events.send('guidance_item_opened', {
      action_kind: 'confirm_stationary',
      frame: item.frame,
      track_id: Number(item.track_id),
    });
    this.#syncBoxes();
    this.#render();
  }

  /** `n`: the item after the one in focus (the first after the last). */
  next() {
    const items = this.items;
    if (!items.length) return this.model.notify('no stationary candidates left to review');
    const at = items.findIndex((i) => i.track_id === this.currentId);
    this.openItem(items[(at + 1) % items.length].track_id);
  }

  /** `s`: confirm the item in focus and make it stationary (one world box: the one shown). */
  async confirm() {
    const item = this.#current();
    const live = item ? this.#live(item) : null;
    if (!item || !live) return null;
    return this.#decide(item, () => this.controller.markStationary(live.id));
  }

  /** `x`: reject the item in focus as a false positive. */
  async reject() {
    const item = this.#current();
    const live = item ? this.#live(item) : null;
    if (!item || !live) return null;
    if (live.kind !== 'candidate') {
      this.model.notify('already confirmed (measured): s makes it stationary, Delete removes it', 'error');
      return null;
    }
    return this.#decide(item, () => this.controller.rejectCandidate(live.id));
  }

  /** `m`: the item's measurement view (the editor's measure path); the item stays in the list. */
  measure() {
    const item = this.#current();
    const live = item ? this.#live(item) : null;
    if (!item || !live) return;
    if (this.model.frameIndex !== item.frame) this.controller.goToFrame(item.frame);
    this.controller.select(live.id);
    this.controller.goToMeasurement(live.id);
  }

  /**
   * After a decision: the next item, at the decided one's place in the list.
   * @param {ReviewItem} item
   * @param {() => Promise<unknown>} decide the edit (it changes the model at once: take the place first)
   */
  async #decide(item, decide) {
    const before = Math.max(0, this.items.findIndex((i) => i.track_id === item.track_id));
    const result = await decide();
    if (!result || !this.active) return result;
    const left = this.items;
    if (left.length) this.openItem(left[Math.min(before, left.length - 1)].track_id);
    else {
      this.currentId = null;
      this.#syncBoxes();
      this.#render();
      this.model.notify('every stationary candidate is reviewed');
    }
    return result;
  }

  #current() {
    const item = this.items.find((i) => i.track_id === this.currentId) ?? this.items[0] ?? null;
    if (!item) this.model.notify('no stationary candidates left to review');
    return item;
  }

  /**
   * The candidate, or the work track its confirmation made (shown under a temporary id until saved).
   * @param {ReviewItem} item
   * @returns {LiveTrack | null}
   */
  #live(item) {
    const candidate = this.model.candidates.get(item.track_id);
    if (candidate) return { id: item.track_id, kind: 'candidate', stationary: candidate.stationary, size: candidate.size };
    const key = this.#keys.get(item.track_id);
    for (const [id, track] of this.model.tracks) {
      const copy = track.key === `candidate-${item.track_id}` || (Number(id) < 0 && key !== undefined && track.key === key);
      if (copy) return { id, kind: 'track', stationary: track.stationary, size: track.size };
    }
    return null;
  }

  /**
   * Open until decided: still a candidate, or confirmed (e.g. by a measurement) but not yet stationary.
   * @param {ReviewItem} item
   */
  #isOpen(item) {
    const live = this.#live(item);
    return live !== null && (live.kind === 'candidate' || !live.stationary);
  }

  /** The model changed (an edit, an undo): the list and the boxes follow. */
  #changed() {
    if (!this.active || !this.#layer) return;
    this.#syncBoxes();
    this.#render();
  }

  #syncBoxes() {
    const layer = this.#layer;
    if (!layer) return;
    layer.currentId = this.currentId;
    layer.worldBoxes = this.items.map((item) => {
      const size = this.#live(item)?.size ?? item.box.size;
      return { id: item.track_id, label: item.label, caption: `${item.label} ${item.track_id}`, ...item.box, size };
    });
    this.panel.dataset.boxes = String(layer.worldBoxes.length);
    this.sceneView.refreshBoxes();
  }

  /** @param {string} text */
  #renderMessage(text) {
    this.panel.replaceChildren(this.#heading(''), this.#line(text));
  }

  #render() {
    const items = this.items;
    const at = items.findIndex((i) => i.track_id === this.currentId);
    this.panel.dataset.items = String(items.length);
    this.panel.dataset.current = this.currentId ?? '';
    const counter = items.length ? `${at + 1} of ${items.length}` : 'none left';
    const k = (/** @type {string} */ action) => this.keymap.label(action);
    const hint =
      `${k('nextAction')} next · ${k('markStationary')} confirm stationary · ${k('reject')} reject · ` +
      `${k('measure')} measure · ${k('cancel')} leave`;
    const list = this.panel.ownerDocument.createElement('ul');
    list.className = 'body';
    list.style.cssText = 'margin:0;padding:4px;overflow-y:auto;min-height:0';
    for (const item of items.slice(0, SHOWN_ITEMS)) list.append(this.#row(item));
    if (items.length > SHOWN_ITEMS) list.append(this.#line(`and ${items.length - SHOWN_ITEMS} more`));
    this.panel.replaceChildren(this.#heading(counter), this.#line(hint), list);
    list.querySelector('.selected')?.scrollIntoView({ block: 'nearest' });
  }

  /** @param {string} counter */
  #heading(counter) {
    const doc = this.panel.ownerDocument;
    const heading = doc.createElement('h2');
    heading.textContent = 'Stationary review ';
    const count = doc.createElement('span');
    count.className = 'count';
    count.dataset.testid = 'review-counter';
    count.textContent = counter;
    heading.append(count);
    return heading;
  }

  /** @param {string} text */
  #line(text) {
    const line = this.panel.ownerDocument.createElement('div');
    line.className = 'notice';
    line.style.cssText = 'margin:4px 8px;font-size:12px';
    line.textContent = text;
    return line;
  }

  /** @param {ReviewItem} item */
  #row(item) {
    const doc = this.panel.ownerDocument;
    const row = doc.createElement('li');
    row.className = `list-item${item.track_id === this.currentId ? ' selected' : ''}`;
    row.dataset.trackId = item.track_id;
    row.title = item.reason;
    const measured = this.#live(item)?.kind === 'track';
    const label = doc.createElement('span');
    label.className = 'label';
    label.textContent = `${item.label} ${item.track_id}${measured ? ' (measured)' : ''}`;
    const meta = doc.createElement('span');
    meta.className = 'meta';
    meta.textContent = `frame ${item.frame}`;
    row.append(label, meta);
    row.addEventListener('click', () => this.openItem(item.track_id));
    return row;
  }
}

/**
 * Mount the review and its keys: while it is open, the keymap's next, mark-stationary, reject, measure
 * and cancel keys act on it (before the editor's own bindings see them).
 * @param {HTMLElement} host the scene view's element
 * @param {EditorModel} model
 * @param {EditorController} controller
 * @param {SceneView} sceneView
 * @param {Keymap} keymap
 * @param {Api} api
 * @param {(event: KeyboardEvent) => boolean} blocked a dialog is open or the person is typing
 */
export function mountStationaryReview(host, model, controller, sceneView, keymap, api, blocked) {
  const review = new StationaryReview(host, model, controller, sceneView, keymap, api);
  /** @type {Record<string, () => unknown>} */
  const keys = {
    nextAction: () => review.next(),
    markStationary: () => review.confirm(),
    reject: () => review.reject(),
    measure: () => review.measure(),
    cancel: () => review.close(),
    stationaryReview: () => review.open(),
  };
  host.ownerDocument.addEventListener(
    'keydown',
    (event) => {
      if (!review.active || blocked(event)) return;
      const action = keymap.actionFor(event);
      const run = action === null ? undefined : keys[action];
      if (!run || event.repeat) return;
      // The editor's own binding of the same key stands aside (it skips prevented events).
      event.preventDefault();
      void run();
    },
    { capture: true },
  );
  return review;
}
