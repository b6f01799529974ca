// @ts-check
/**
 * The nudges on the guidance panel and their lives. The server gives a nudge once: showing it is
 * recorded (`nudge_shown`), which silences it on the server until its track's situation changes.
 * So the board keeps a shown nudge itself until the person follows it (`nudge_followed`), dismisses
 * it (`nudge_dismissed`: never again in this task) or it no longer applies (its track is gone, or
 * already stationary for a nudge toward one world box).
 */

/** @typedef {import('./editorTypes.js').Nudge} Nudge */
/** @typedef {import('./model.js').EditorModel} EditorModel */
/** @typedef {import('./editorEvents.js').EditorEvents} EditorEvents */

/** Nudges whose faster path is a moving track becoming one box: moot once it is stationary. */
const TOWARD_STATIONARY = new Set(['make_stationary', 'use_keyframes']);

/** @param {Nudge} nudge */
export function nudgeKey(nudge) {
  return `${nudge.kind}:${nudge.track_id ?? ''}`;
}

export class NudgeBoard {
  /** @type {Map<string, Nudge>} shown and still live, latest first */ #live = new Map();
  /** @type {Set<string>} dismissed in this page (the server forgets them too, but may answer late) */
  #dismissed = new Set();

  /**
   * @param {EditorModel} model
   * @param {EditorEvents} events
   */
  constructor(model, events) {
    this.model = model;
    this.events = events;
  }

  /**
   * The nudges to show after the server answered ``fresh``: new ones first (recorded as shown),
   * then the live ones that still apply.
   * @param {Nudge[]} fresh
   * @returns {Nudge[]}
   */
  merge(fresh) {
    /** @type {Map<string, Nudge>} */
    const next = new Map();
    for (const nudge of fresh) {
      const key = nudgeKey(nudge);
      if (this.#dismissed.has(key) || next.has(key)) continue;
      if (!this.#live.has(key)) this.#record('nudge_shown', nudge);
      next.set(key, nudge);
    }
    for (const [key, nudge] of this.#live) if (!next.has(key)) next.set(key, nudge);
    this.#live = new Map([...next].filter(([, nudge]) => this.#applies(nudge)));
    return [...this.#live.values()];
  }

  /**
   * The person takes a nudge's faster path: it leaves the board.
   * @param {Nudge} nudge
   */
  followed(nudge) {
    this.#record('nudge_followed', nudge);
    this.#remove(nudge);
  }

  /**
   * The person does not want this nudge: it leaves the board for the rest of the task.
   * @param {Nudge} nudge
   */
  dismissed(nudge) {
    this.#dismissed.add(nudgeKey(nudge));
    this.#record('nudge_dismissed', nudge);
    this.#remove(nudge);
  }

  /** @param {Nudge} nudge */
  #remove(nudge) {
    this.#live.delete(nudgeKey(nudge));
    this.model.setNudges([...this.#live.values()]);
  }

  /**
   * @param {Nudge} nudge
   */
  #applies(nudge) {
    if (nudge.track_id === null) return true;
    const found = this.model.find(nudge.track_id);
    if (!found || found.kind !== 'track') return false;
    return !(TOWARD_STATIONARY.has(nudge.kind) && found.track.stationary);
  }

  /**
   * @param {'nudge_shown' | 'nudge_followed' | 'nudge_dismissed'} kind
   * @param {Nudge} nudge
   */
  #record(kind, nudge) {
    if (nudge.track_id === null) return; // every nudge of the server names its track
    this.events.send(kind, {
      nudge_kind: nudge.kind,
      track_id: Number(nudge.track_id),
      frame: this.model.frameIndex,
    });
  }
}
