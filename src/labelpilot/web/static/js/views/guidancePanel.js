// @ts-check
/**
 * The guidance panel: the nudges (a faster path for what the person is doing), what is still open
 * before submitting (pending candidates, flags), and the next-best-action queue with each item's
 * reason, what it saves and its key. ``n`` walks the queue; the item's key (or its button) does it.
 * Every suggested false positive is rejected at once with alt+x (or the button above the queue).
 * A nudge is followed (u) or dismissed (shift+u) with one key, or with its buttons.
 */

import { Keymap } from '../keymap.js';

/** @typedef {import('../model.js').EditorModel} EditorModel */
/** @typedef {import('../controller.js').EditorController} EditorController */
/** @typedef {import('../editorTypes.js').GuidanceAction} GuidanceAction */

/** The keymap action that does each kind of item once it is in focus. */
export const KIND_ACTION = /** @type {const} */ ({
  confirm_stationary: 'markStationary',
  confirm_moving: 'confirm',
  reject_false_positive: 'reject',
  measure: 'measure',
  review_flag: 'followAction',
  look_at_missed: 'followAction',
  accept_life: 'acceptLife',
  check_end: 'followAction',
});

/** @type {Record<string, string>} */
const KIND_TITLE = {
  confirm_stationary: 'Confirm stationary',
  confirm_moving: 'Confirm moving',
  reject_false_positive: 'Reject',
  measure: 'Measure',
  review_flag: 'Review flag',
  look_at_missed: 'Missed object?',
  accept_life: 'Accept life',
  check_end: 'Check end',
};

/** @type {Record<string, string>} */
const KIND_BADGE = {
  confirm_stationary: 'stationary',
  confirm_moving: 'confirmed',
  reject_false_positive: 'rejected',
  measure: '',
  review_flag: 'flag',
  look_at_missed: 'flag',
  accept_life: 'confirmed',
  check_end: 'flag',
};

/** Items listed at once; the rest are counted. */
const SHOWN_ITEMS = 60;

/**
 * @param {number} seconds
 */
function duration(seconds) {
  return seconds >= 90 ? `${(seconds / 60).toFixed(1)} min` : `${Math.round(seconds)} s`;
}

/**
 * @param {HTMLElement} element
 * @param {EditorModel} model
 * @param {EditorController} controller
 * @param {Keymap} [keymap] whose keys to show (default: the person's)
 * @returns {{render: () => void}} render again (after a key was remapped)
 */
export function mountGuidancePanel(element, model, controller, keymap = new Keymap(model.userName)) {
  const doc = element.ownerDocument;
  element.replaceChildren();
  const heading = doc.createElement('h2');
  const title = doc.createElement('span');
  title.textContent = 'Next best actions';
  const count = doc.createElement('span');
  count.className = 'count';
  heading.append(title, count);
  // Nudges, what is open and the filters stay in view; only the queue scrolls.
  const nudges = doc.createElement('div');
  nudges.dataset.testid = 'nudges';
  nudges.style.flex = 'none';
  nudges.style.padding = '4px 4px 0';
  const open = doc.createElement('p');
  open.className = 'muted';
  open.dataset.testid = 'open-items';
  open.style.margin = '6px 10px';
  open.style.flex = 'none';
  const chips = doc.createElement('div');
  chips.style.display = 'flex';
  chips.style.flexWrap = 'wrap';
  chips.style.flex = 'none';
  chips.style.gap = '4px';
  chips.style.margin = '0 8px 4px';
  // One click (or alt+x) rejects every suggested false positive: one request, one undo step.
  const bulk = doc.createElement('div');
  bulk.style.flex = 'none';
  bulk.style.margin = '0 8px 4px';
  const list = doc.createElement('ol');
  list.className = 'list';
  list.dataset.testid = 'guidance-queue';
  element.append(heading, nudges, open, chips, bulk, list);

  /**
   * @param {string} text
   * @param {string} action keymap action
   * @param {() => void} onClick
   */
  const button = (text, action, onClick) => {
    const b = doc.createElement('button');
    b.type = 'button';
    b.className = 'btn small';
    b.append(text);
    const key = keymap.label(action);
    if (key) {
      const kbd = doc.createElement('span');
      kbd.className = 'kbd';
      kbd.textContent = key;
      b.append(' ', kbd);
    }
    b.addEventListener('click', (event) => {
      event.stopPropagation();
      onClick();
    });
    return b;
  };

  const renderNudges = () => {
    nudges.replaceChildren(
      ...model.nudges.map((nudge, index) => {
        const box = doc.createElement('div');
        box.className = 'list-item next';
        box.dataset.kind = nudge.kind;
        box.style.cursor = 'default';
        box.style.borderLeft = '3px solid var(--candidate)';
        box.style.margin = '0 0 4px';
        const text = doc.createElement('span');
        text.className = 'label';
        text.style.whiteSpace = 'normal';
        const saves = nudge.saves_seconds >= 1 ? ` (saves ${duration(nudge.saves_seconds)})` : '';
        text.textContent = nudge.message + saves;
        box.append(text);
        if (nudge.action) {
          box.append(button('Do it', index === 0 ? 'followNudge' : '', () => void controller.followNudge(index)));
        }
        const dismiss = button('Dismiss', index === 0 ? 'dismissNudge' : '', () => controller.dismissNudge(index));
        dismiss.dataset.testid = 'nudge-dismiss';
        box.append(dismiss);
        return box;
      }),
    );
  };

  const renderOpen = () => {
    const items = model.openItems();
    const parts = [];
    if (items.candidates) parts.push(`${items.candidates} unconfirmed candidate${items.candidates === 1 ? '' : 's'}`);
    if (items.flags) parts.push(`${items.flags} flag${items.flags === 1 ? '' : 's'} to review`);
    if (items.missed) parts.push(`${items.missed} possibly missed object${items.missed === 1 ? '' : 's'}`);
    open.textContent = parts.length ? `Open before submitting: ${parts.join(', ')}.` : 'Nothing open: ready to submit.';
  };

  /**
   * @param {GuidanceAction} action
   * @param {number} index in model.guidance
   */
  const item = (action, index) => {
    const li = doc.createElement('li');
    const focused = index === model.guidanceIndex;
    li.className = `list-item ${focused ? 'selected' : ''}`;
    li.dataset.index = String(index);
    li.dataset.kind = action.kind;
    if (action.track_id) li.dataset.trackId = action.track_id;
    li.style.alignItems = 'flex-start';
    const text = doc.createElement('div');
    text.className = 'label';
    text.style.whiteSpace = 'normal';
    const top = doc.createElement('div');
    top.style.display = 'flex';
    top.style.gap = '6px';
    top.style.alignItems = 'center';
    const badge = doc.createElement('span');
    badge.className = `badge ${KIND_BADGE[action.kind] ?? ''}`;
    badge.textContent = KIND_TITLE[action.kind] ?? action.kind;
    const meta = doc.createElement('span');
    meta.className = 'meta';
    meta.textContent = `frame ${action.frame} \u00b7 saves ${duration(action.saves_seconds)}`;
    top.append(badge, meta);
    const reason = doc.createElement('div');
    reason.textContent = action.reason;
    reason.title = action.reason;
    reason.style.fontSize = '12px';
    reason.style.color = 'var(--text-muted)';
    reason.style.overflow = 'hidden';
    reason.style.display = '-webkit-box';
    reason.style.webkitBoxOrient = 'vertical';
    reason.style.webkitLineClamp = focused ? '6' : '2';
    text.append(top, reason);
    li.append(
      text,
      button('', KIND_ACTION[action.kind] ?? 'followAction', () => void controller.followAction(action)),
    );
    return li;
  };

  /**
   * Filter chips: one per kind of open item, with its count; a click shows (and n walks) only it.
   * @param {GuidanceAction[]} actions the open ones
   */
  const renderChips = (actions) => {
    /** @type {Map<string, number>} */
    const counts = new Map();
    for (const a of actions) counts.set(a.kind, (counts.get(a.kind) ?? 0) + 1);
    /**
     * @param {string | null} kind
     * @param {string} text
     */
    const chip = (kind, text) => {
      const b = doc.createElement('button');
      b.type = 'button';
      const on = model.guidanceFilter === kind;
      b.className = `badge ${kind ? (KIND_BADGE[kind] ?? '') : ''}`;
      b.style.cursor = 'pointer';
      b.style.opacity = on ? '1' : '0.6';
      b.style.outline = on ? '1px solid currentColor' : 'none';
      b.setAttribute('aria-pressed', String(on));
      b.dataset.testid = `filter-${kind ?? 'all'}`;
      b.textContent = text;
      b.addEventListener('click', () => model.setGuidanceFilter(kind));
      return b;
    };
    chips.replaceChildren(
      chip(null, `All ${actions.length}`),
      ...[...counts.entries()].map(([kind, n]) => chip(kind, `${KIND_TITLE[kind] ?? kind} ${n}`)),
    );
  };

  const renderBulk = () => {
    const n = controller.guidanceFlow.suggestedFalsePositives().length;
    if (!n || !model.editable) {
      bulk.replaceChildren();
      return;
    }
    const b = button(`Reject ${n} suggested false positive${n === 1 ? '' : 's'}`, 'rejectSuggested', () => {
      void controller.guidanceFlow.rejectSuggested();
    });
    b.dataset.testid = 'reject-suggested';
    bulk.replaceChildren(b);
  };

  const renderQueue = () => {
    const allOpen = model.guidance.filter((action) => controller.guidanceFlow.isOpen(action));
    renderChips(allOpen);
    renderBulk();
    const only = model.guidanceFilter;
    const openActions = model.guidance
      .map((action, index) => ({ action, index }))
      .filter(({ action }) => controller.guidanceFlow.isOpen(action) && (only === null || action.kind === only));
    const shown = openActions.slice(0, SHOWN_ITEMS);
    const focusedIndex = model.guidanceIndex;
    if (focusedIndex >= 0 && !shown.some((e) => e.index === focusedIndex) && model.guidance[focusedIndex]) {
      shown.unshift({ action: model.guidance[focusedIndex], index: focusedIndex });
    }
    const rows = shown.map(({ action, index }) => item(action, index));
    if (openActions.length > shown.length) {
      const more = doc.createElement('li');
      more.className = 'meta';
      more.style.padding = '6px 8px';
      more.textContent = `+ ${openActions.length - shown.length} more (${keymap.label('nextAction')} walks them)`;
      rows.push(more);
    }
    if (!openActions.length) {
      const empty = doc.createElement('li');
      empty.className = 'empty';
      empty.textContent = !model.guidanceLoaded
        ? 'Computing the next best actions…'
        : model.guidance.length
          ? 'Every suggestion is done.'
          : 'No suggestions.';
      rows.push(empty);
    }
    list.replaceChildren(...rows);
    count.textContent = String(openActions.length);
    list.querySelector('.list-item.selected')?.scrollIntoView({ block: 'nearest' });
  };

  const render = () => {
    renderNudges();
    renderOpen();
    renderQueue();
  };

  list.addEventListener('click', (event) => {
    const li = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (event.target).closest('.list-item'));
    if (!li?.dataset.index) return;
    controller.guidanceFlow.open(Number(li.dataset.index));
  });

  model.on('guidance', render);
  model.on('tracks', () => {
    renderOpen();
    renderQueue();
  });
  render();
  return { render };
}
