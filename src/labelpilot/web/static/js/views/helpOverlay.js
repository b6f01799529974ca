// @ts-check
/**
 * The help overlay (``?``): every shortcut of the keymap table by group, with a way to remap one
 * (click "Remap", press the new key) or to go back to the defaults. Remapped keys are the person's
 * own (keymap.js keeps them per user).
 */

import { KEYMAP, comboOf, displayKey } from '../keymap.js';
import { openDialog, textElement } from './dialog.js';

/** @typedef {import('../model.js').EditorModel} EditorModel */
/** @typedef {import('../keymap.js').Keymap} Keymap */

/**
 * @param {HTMLElement} root the overlay root
 * @param {EditorModel} model
 * @param {Keymap} keymap
 * @param {() => void} [onChange] called after a remap (views that show keys redraw)
 */
export function mountHelpOverlay(root, model, keymap, onChange = () => undefined) {
  const doc = root.ownerDocument;
  /** @type {(() => void) | null} */
  let close = null;

  /** @param {string} action */
  const describe = (action) => {
    const match = /^class(\d)$/.exec(action);
    const cls = match ? model.classes[Number(match[1]) - 1] : null;
    return match ? `Class: ${cls ?? '(none)'}` : KEYMAP[action].description;
  };

  /** @param {HTMLElement} status */
  const table = (status) => {
    const wrap = doc.createElement('div');
    wrap.style.display = 'grid';
    wrap.style.gridTemplateColumns = 'repeat(auto-fill, minmax(340px, 1fr))';
    wrap.style.gap = '12px 20px';
    /** @type {Map<string, HTMLTableElement>} */
    const groups = new Map();
    for (const [action, binding] of Object.entries(KEYMAP)) {
      let group = groups.get(binding.group);
      if (!group) {
        const section = doc.createElement('section');
        section.append(textElement(doc, 'h3', binding.group, 'muted'));
        group = doc.createElement('table');
        section.append(group);
        wrap.append(section);
        groups.set(binding.group, group);
      }
      const row = doc.createElement('tr');
      row.dataset.action = action;
      const keys = doc.createElement('td');
      keys.style.whiteSpace = 'nowrap';
      for (const combo of keymap.keysFor(action)) keys.append(textElement(doc, 'span', displayKey(combo), 'kbd'), ' ');
      if (!keymap.keysFor(action).length) keys.append(textElement(doc, 'span', 'none', 'muted'));
      const remap = doc.createElement('button');
      remap.type = 'button';
      remap.className = 'btn ghost small';
      remap.textContent = 'Remap';
      remap.dataset.testid = `remap-${action}`;
      remap.addEventListener('click', () => capture(action, remap, status));
      const cells = [textElement(doc, 'td', describe(action)), keys, doc.createElement('td')];
      cells[2].append(remap);
      if (keymap.isRemapped(action)) {
        const reset = doc.createElement('button');
        reset.type = 'button';
        reset.className = 'btn ghost small';
        reset.textContent = 'Default';
        reset.addEventListener('click', () => {
          keymap.reset(action);
          refresh(`${describe(action)}: back to ${keymap.label(action) || 'no key'}`);
        });
        cells[2].append(reset);
      }
      row.append(...cells);
      group.append(row);
    }
    return wrap;
  };

  /**
   * Wait for the next key and give it to ``action``.
   * @param {string} action
   * @param {HTMLButtonElement} button
   * @param {HTMLElement} status
   */
  const capture = (action, button, status) => {
    button.textContent = 'Press a key\u2026';
    status.textContent = `Press the new key for "${describe(action)}" (Escape cancels).`;
    /** @param {KeyboardEvent} event */
    const onKey = (event) => {
      const combo = comboOf(event);
      if (!combo) return; // a bare modifier: wait for the key it modifies
      event.preventDefault();
      event.stopPropagation();
      doc.removeEventListener('keydown', onKey, true);
      if (combo === 'Escape') {
        refresh('Remapping cancelled.');
        return;
      }
      const taken = keymap.remap(action, combo);
      const note = taken ? ` (taken from "${describe(taken)}", which has ${keymap.label(taken) || 'no key'} now)` : '';
      refresh(`${describe(action)}: ${displayKey(combo)}${note}`);
    };
    doc.addEventListener('keydown', onKey, true);
  };

  /** @param {string} [message] */
  const refresh = (message) => {
    onChange();
    const wasOpen = close !== null;
    close?.();
    close = null;
    if (wasOpen) open(message);
  };

  /** @param {string} [message] */
  const open = (message) => {
    if (close) return;
    const status = textElement(
      doc,
      'p',
      message ?? 'Every action has a key; remap any of them. Your keys are saved for you on this browser.',
      'muted',
    );
    status.dataset.testid = 'help-status';
    const finish = () => {
      close = null;
    };
    close = openDialog(
      root,
      'Keyboard shortcuts',
      [status, table(status)],
      [
        {
          text: 'Reset all keys',
          style: 'ghost',
          run: () => {
            keymap.reset();
            onChange();
            finish();
            open('Every key is back to its default.');
          },
        },
        { text: 'Close', style: 'primary', isDefault: true, isCancel: true, run: finish, testid: 'help-close' },
      ],
      'help-overlay',
      'min(1180px, 100%)',
    );
  };

  return {
    open,
    toggle() {
      if (close) {
        close();
        close = null;
      } else open();
    },
  };
}
