// @ts-check
/**
 * The conflict dialog: a track changed on the server since this editor last saw it (another person,
 * another tab). Shows my version beside theirs, field by field, and lets the person take theirs or
 * apply mine again on top of it; it cannot be dismissed without a choice, so no edit is lost silently.
 */

import { openDialog, textElement } from './dialog.js';

/** @typedef {import('../model.js').EditorModel} EditorModel */
/** @typedef {import('../controller.js').EditorController} EditorController */
/** @typedef {import('../editorTypes.js').Track} Track */

/**
 * What a person compares, field by field.
 * @param {Track | null} track
 * @returns {Array<[string, string]>}
 */
export function describeTrack(track) {
  if (!track) return [['state', 'not stored']];
  const keys = Object.keys(track.keyframes)
    .map(Number)
    .sort((a, b) => a - b);
  return [
    ['state', track.deleted ? 'deleted' : track.status],
    ['class', track.label],
    ['size (l \u00d7 w \u00d7 h)', track.size.map((v) => v.toFixed(2)).join(' \u00d7 ')],
    ['motion', track.stationary ? 'stationary' : `moving, ${keys.length} keyframes`],
    ['keyframes', track.stationary ? '\u2014' : keys.join(', ') || '\u2014'],
    ['frames', `${track.first_frame}\u2013${track.last_frame}`],
    ['absent frames', String(track.absent_frames.length)],
    [
      'attributes',
      Object.entries(track.attributes)
        .map(([k, v]) => `${k}: ${typeof v === 'number' ? +v.toFixed(3) : v}`)
        .join(', ') || '\u2014',
    ],
    ['version', String(track.version)],
  ];
}

/**
 * @param {HTMLElement} root the overlay root
 * @param {EditorModel} model
 * @param {EditorController} controller
 */
export function mountConflictDialog(root, model, controller) {
  const doc = root.ownerDocument;
  model.on('conflict', ({ action, message, mine, theirs }) => {
    const table = doc.createElement('table');
    table.dataset.testid = 'conflict-table';
    // Fixed columns: a long value wraps instead of pushing "theirs" out of the dialog.
    table.style.tableLayout = 'fixed';
    table.style.overflowWrap = 'anywhere';
    const head = doc.createElement('tr');
    for (const [text, width] of [
      ['', '22%'],
      ['Mine (not saved)', '39%'],
      ['Theirs (on the server)', '39%'],
    ]) {
      const th = textElement(doc, 'th', text);
      th.style.width = width;
      th.style.textAlign = 'left';
      head.append(th);
    }
    table.append(head);
    const ours = describeTrack(mine);
    const other = new Map(describeTrack(theirs));
    for (const [field, value] of ours) {
      const row = doc.createElement('tr');
      const theirValue = other.get(field) ?? '';
      if (field !== 'version' && theirValue !== value) row.style.color = 'var(--candidate)';
      row.append(
        textElement(doc, 'td', field, 'muted'),
        textElement(doc, 'td', value),
        textElement(doc, 'td', theirValue),
      );
      table.append(row);
    }
    const intro = textElement(
      doc,
      'p',
      `While you were about to ${action}, track ${theirs.id} changed on the server: ${message}. ` +
        'Choose which version to keep; changed fields are highlighted.',
    );
    const gone = Boolean(theirs.deleted);
    openDialog(
      root,
      'This track changed meanwhile',
      [intro, table],
      [
        {
          text: gone ? 'Accept the deletion' : 'Take theirs',
          run: () => controller.resolveConflict('theirs'),
          style: 'ghost',
          testid: 'conflict-theirs',
        },
        {
          text: gone ? 'Keep mine as a new track' : 'Re-apply mine',
          run: () => controller.resolveConflict('mine'),
          style: 'primary',
          isDefault: true,
          testid: 'conflict-mine',
        },
      ],
      'conflict-dialog',
    );
  });
}
