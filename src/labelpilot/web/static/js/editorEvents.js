// @ts-check
/**
 * The editor's events that are not edits (`POST /api/tasks/{id}/events`): nudges shown, followed and
 * dismissed, guidance items opened, and a heartbeat while the person works (active time for the
 * KPIs). Edits record their own events on the server.
 *
 * These are fire and forget: they never delay or break editing, and a failed one is dropped
 * silently (an edit's failure stays visible, through the edit pipeline). They are only sent while
 * the task is open for editing by its assignee, the only person the server takes them from.
 */

/** @typedef {import('./model.js').EditorModel} EditorModel */
/** @typedef {import('./api.js').Api} Api */
/**
 * @typedef {'nudge_shown' | 'nudge_followed' | 'nudge_dismissed' | 'guidance_item_opened' | 'frame_viewed'
 *   | 'heartbeat'} TaskEventKind
 */

/** A heartbeat stands for this much work time... */
export const HEARTBEAT_MS = 30_000;
/** ...and is only sent when the person acted (key, click, wheel) this recently. */
export const ACTIVE_WITHIN_MS = 60_000;
/** DOM events that count as acting. */
const ACTIVITY_EVENTS = /** @type {const} */ (['keydown', 'pointerdown', 'wheel']);

export class EditorEvents {
  /** @type {Set<Promise<void>>} */ #inFlight = new Set();
  /** @type {ReturnType<typeof setInterval> | null} */ #timer = null;
  #lastActionMs = -Infinity;
  #lastBeatMs = -Infinity;
  /** @type {Document | null} */ #doc = null;
  #closed = false;

  /**
   * @param {EditorModel} model
   * @param {Api} api
   */
  constructor(model, api) {
    this.model = model;
    this.api = api;
  }

  /**
   * Record an event of the open task; returns at once.
   * @param {TaskEventKind} kind
   * @param {Record<string, number | string | null>} [payload]
   */
  send(kind, payload = {}) {
    const task = this.model.task;
    if (!task || !this.model.editable || this.#closed) return;
    const sent = this.api.post(`/api/tasks/${task.id}/events`, { kind, payload }).then(
      () => undefined,
      () => undefined, // telemetry: a lost event must not disturb the person
    );
    this.#inFlight.add(sent);
    void sent.finally(() => this.#inFlight.delete(sent));
  }

  /** Resolves once every event sent so far was answered (submitting waits, so none arrives late). */
  async idle() {
    await Promise.all([...this.#inFlight]);
  }

  /**
   * Start the heartbeat: every HEARTBEAT_MS, while the page is visible and the person acted within
   * ACTIVE_WITHIN_MS.
   * @param {Document} doc
   */
  startHeartbeat(doc) {
    if (this.#timer !== null) return;
    this.#doc = doc;
    const acted = () => {
      this.#lastActionMs = Date.now();
    };
    for (const type of ACTIVITY_EVENTS) doc.addEventListener(type, acted, { capture: true, passive: true });
    this.#timer = setInterval(() => this.tick(), HEARTBEAT_MS);
  }

  /**
   * One heartbeat if it is due (the timer calls this; so may a test). Returns whether it was sent.
   * @param {number} [nowMs]
   */
  tick(nowMs = Date.now()) {
    const visible = this.#doc === null || this.#doc.visibilityState === 'visible';
    const active = nowMs - this.#lastActionMs <= ACTIVE_WITHIN_MS;
    // Throttled: a late timer or an extra call never makes two beats for one stretch of work.
    const due = nowMs - this.#lastBeatMs >= HEARTBEAT_MS * 0.9;
    if (!visible || !active || !due || !this.model.editable) return false;
    this.#lastBeatMs = nowMs;
    this.send('heartbeat', { frame: this.model.frameIndex, interval_s: HEARTBEAT_MS / 1000 });
    return true;
  }

  /**
   * Send nothing more (the task is being handed in: the server takes a task's events only while it
   * is in progress); resolves once the events already sent were answered.
   */
  async close() {
    this.#closed = true;
    await this.idle();
  }

  /** Send again (handing the task in failed). */
  reopen() {
    this.#closed = false;
  }
}
