// @ts-check
/**
 * Every keyboard shortcut of the editor, in one table: action name -> default keys and what it does.
 * A person may remap any action; their keys are kept in localStorage under their user name, so two
 * people sharing a browser keep their own. The editor (editor.js) binds the action names to
 * controller calls; the help overlay lists this table.
 *
 * Keys are written as KeyboardEvent.key values, lower-case for letters, with "ctrl+", "alt+" and
 * "shift+" prefixes in that order ("ctrl+shift+z", "shift+k", "shift+ArrowRight", "?", " " for space).
 * Shift is part of a combination only for letters and named keys: "?" is shift+/ on most layouts
 * and is written "?".
 */

/**
 * @typedef {Object} KeyBinding
 * @property {string[]} keys default keys
 * @property {string} description
 * @property {'Navigate' | 'Guidance' | 'Candidates' | 'Edit' | 'Class' | 'Editor'} group
 */

/** @type {Readonly<Record<string, KeyBinding>>} */
export const KEYMAP = Object.freeze({
  prevFrame: { keys: ['ArrowLeft'], description: 'Previous frame', group: 'Navigate' },
  nextFrame: { keys: ['ArrowRight'], description: 'Next frame', group: 'Navigate' },
  togglePlay: { keys: [' '], description: 'Play / pause', group: 'Navigate' },
  firstFrame: { keys: ['Home'], description: 'First frame', group: 'Navigate' },
  lastFrame: { keys: ['End'], description: 'Last frame', group: 'Navigate' },
  nextScanFrame: {
    keys: ['shift+ArrowRight'],
    description: 'One second of frames forward (the scan stride)',
    group: 'Navigate',
  },
  prevScanFrame: {
    keys: ['shift+ArrowLeft'],
    description: 'One second of frames back (the scan stride)',
    group: 'Navigate',
  },
  nextTrack: { keys: ['Tab'], description: 'Select the next object in this frame', group: 'Navigate' },
  cancel: { keys: ['Escape'], description: 'Stop drawing or playing; clear the selection', group: 'Navigate' },
  nextAction: { keys: ['n'], description: 'Go to the next guidance item (or suggested keyframe)', group: 'Guidance' },
  followAction: { keys: ['g'], description: 'Do the guidance item in focus', group: 'Guidance' },
  followNudge: { keys: ['u'], description: 'Take the faster path the latest nudge offers', group: 'Guidance' },
  dismissNudge: {
    keys: ['shift+u'],
    description: 'Dismiss the latest nudge (it does not come back)',
    group: 'Guidance',
  },
  checkNext: { keys: ['c'], description: 'Check the next frame of the selected object', group: 'Guidance' },
  findEnd: {
    keys: ['e'],
    description: 'Search where the selected object\u2019s life really ends (or starts): from a frame where it is gone',
    group: 'Guidance',
  },
  objectHere: { keys: ['y'], description: 'End search: the object is here', group: 'Guidance' },
  objectNotHere: { keys: ['t'], description: 'End search: the object is not here', group: 'Guidance' },
  measure: { keys: ['m'], description: 'Go to the measurement view of the selected object', group: 'Guidance' },
  acceptLife: {
    keys: ['a'],
    description: 'Accept the proposed life (first and last frame) of the selected object',
    group: 'Guidance',
  },
  stationaryReview: {
    keys: ['r'],
    description: 'Review the stationary candidates in one world view',
    group: 'Guidance',
  },
  confirm: {
    keys: ['Enter'],
    description: 'Confirm the selected candidate (with the suggested keyframes)',
    group: 'Candidates',
  },
  reject: { keys: ['x'], description: 'Reject the selected candidate as a false positive', group: 'Candidates' },
  rejectSuggested: {
    keys: ['alt+x'],
    description: 'Reject every candidate the queue suggests as a false positive (one undo step)',
    group: 'Candidates',
  },
  markStationary: { keys: ['s'], description: 'Mark stationary: one world box for all frames', group: 'Edit' },
  markMoving: { keys: ['shift+s'], description: 'Mark moving: keyframes again', group: 'Edit' },
  setKeyframe: { keys: ['k'], description: 'Set a keyframe here', group: 'Edit' },
  deleteKeyframe: { keys: ['shift+k'], description: 'Delete the keyframe here', group: 'Edit' },
  extendTrack: {
    keys: ['l'],
    description: 'Extend the selected track to this frame (its box goes on where its keyframes lead)',
    group: 'Edit',
  },
  markAbsent: {
    keys: ['shift+x'],
    description: 'The selected object is not here: trim its life at an end, else mark the frame absent',
    group: 'Edit',
  },
  draw: { keys: ['b'], description: 'Draw a box in the bird\u2019s-eye view', group: 'Edit' },
  fitToPoints: { keys: ['f'], description: 'Fit the box to the lidar points', group: 'Edit' },
  deleteTrack: { keys: ['Delete'], description: 'Delete the selected track', group: 'Edit' },
  undo: { keys: ['ctrl+z'], description: 'Undo', group: 'Edit' },
  redo: { keys: ['ctrl+shift+z', 'ctrl+y'], description: 'Redo', group: 'Edit' },
  class1: { keys: ['1'], description: 'Class 1', group: 'Class' },
  class2: { keys: ['2'], description: 'Class 2', group: 'Class' },
  class3: { keys: ['3'], description: 'Class 3', group: 'Class' },
  class4: { keys: ['4'], description: 'Class 4', group: 'Class' },
  class5: { keys: ['5'], description: 'Class 5', group: 'Class' },
  class6: { keys: ['6'], description: 'Class 6', group: 'Class' },
  class7: { keys: ['7'], description: 'Class 7', group: 'Class' },
  class8: { keys: ['8'], description: 'Class 8', group: 'Class' },
  class9: { keys: ['9'], description: 'Class 9', group: 'Class' },
  help: { keys: ['?'], description: 'Show the shortcuts (and remap them)', group: 'Editor' },
  submit: { keys: ['ctrl+Enter'], description: 'Submit the task', group: 'Editor' },
});

/** Keys the browser keeps, or that only modify others: never bound. */
const UNBINDABLE = new Set(['Shift', 'Control', 'Alt', 'Meta', 'CapsLock', 'Dead', 'Unidentified']);

/**
 * The combination a key event stands for, in the table's notation ("" for a bare modifier).
 * @param {KeyboardEvent} event
 */
export function comboOf(event) {
  if (UNBINDABLE.has(event.key)) return '';
  // On macOS Option changes the character (Option+X types a symbol): an alt combination of a letter
  // key is named by the key's place instead.
  const optionLetter = event.altKey && /^Key[A-Z]$/.test(event.code ?? '') ? event.code.slice(3).toLowerCase() : '';
  const typed = event.key.length === 1 && event.key.toLowerCase() !== event.key.toUpperCase();
  const letter = typed || (optionLetter !== '' && event.key.length === 1);
  const named = event.key.length > 1;
  const key = typed ? event.key.toLowerCase() : letter ? optionLetter : event.key;
  const parts = [];
  if (event.ctrlKey || event.metaKey) parts.push('ctrl');
  if (event.altKey) parts.push('alt');
  // For symbols shift is already in the character ("?", "!"); for letters and names it is not.
  if (event.shiftKey && (letter || named)) parts.push('shift');
  parts.push(key);
  return parts.join('+');
}

/**
 * A combination as people read it ("Ctrl+Shift+Z", "Space", "←").
 * @param {string} combo
 */
export function displayKey(combo) {
  /** @type {Record<string, string>} */
  const names = {
    ' ': 'Space',
    ArrowLeft: '\u2190',
    ArrowRight: '\u2192',
    ArrowUp: '\u2191',
    ArrowDown: '\u2193',
    Escape: 'Esc',
    Delete: 'Del',
    Enter: '\u23CE',
  };
  const parts = combo === '+' ? ['+'] : combo.split('+');
  return parts
    .map((part) => names[part] ?? (part.length === 1 ? part.toUpperCase() : part[0].toUpperCase() + part.slice(1)))
    .join('+');
}

const STORAGE_PREFIX = 'labelpilot.keymap.';

export class Keymap {
  /** @type {Record<string, string[]>} the person's own keys per action */
  #overrides = {};
  /** @type {Map<string, string>} combo -> action */
  #byCombo = new Map();

  /**
   * @param {string} userName whose remapped keys to load and save
   * @param {Storage | null} [storage]
   */
  constructor(userName, storage = globalThis.localStorage ?? null) {
    this.storageKey = STORAGE_PREFIX + userName;
    this.storage = storage;
    try {
      const stored = storage?.getItem(this.storageKey);
      const parsed = stored ? JSON.parse(stored) : {};
      for (const [action, keys] of Object.entries(parsed)) {
        if (action in KEYMAP && Array.isArray(keys)) this.#overrides[action] = keys.map(String);
      }
    } catch {
      // A corrupt entry must not lock anyone out of the editor: start from the defaults.
      this.#overrides = {};
    }
    this.#index();
  }

  #index() {
    this.#byCombo.clear();
    for (const action of Object.keys(KEYMAP)) {
      for (const combo of this.keysFor(action)) {
        if (!this.#byCombo.has(combo)) this.#byCombo.set(combo, action);
      }
    }
  }

  /**
   * The keys of an action now (the person's, else the defaults).
   * @param {string} action
   */
  keysFor(action) {
    return this.#overrides[action] ?? KEYMAP[action]?.keys ?? [];
  }

  /**
   * The first key of an action, as people read it ("" when it has none).
   * @param {string} action
   */
  label(action) {
    const [first] = this.keysFor(action);
    return first === undefined ? '' : displayKey(first);
  }

  /**
   * The action a key event triggers, or null.
   * @param {KeyboardEvent} event
   */
  actionFor(event) {
    const combo = comboOf(event);
    return combo ? (this.#byCombo.get(combo) ?? null) : null;
  }

  /** @param {string} action */
  isRemapped(action) {
    return action in this.#overrides;
  }

  /**
   * Give an action one key; the action that had it loses it. Returns that action's name, or null.
   * @param {string} action
   * @param {string} combo
   */
  remap(action, combo) {
    if (!(action in KEYMAP)) throw new Error(`unknown action ${action}`);
    const previous = this.#byCombo.get(combo) ?? null;
    if (previous !== null && previous !== action) {
      this.#overrides[previous] = this.keysFor(previous).filter((k) => k !== combo);
    }
    this.#overrides[action] = [combo];
    this.#save();
    return previous === action ? null : previous;
  }

  /**
   * Back to the default keys (one action, or all without an argument).
   * @param {string} [action]
   */
  reset(action) {
    if (action === undefined) this.#overrides = {};
    else delete this.#overrides[action];
    this.#save();
  }

  #save() {
    this.#index();
    try {
      this.storage?.setItem(this.storageKey, JSON.stringify(this.#overrides));
    } catch {
      // Storage may be full or disabled (private windows): the keys still apply to this page.
    }
  }
}
