// @ts-check
/**
 * Submitting asks first, and says what is still open (unconfirmed candidates, flags, possibly missed
 * objects) so that nothing is handed in by accident; after the submit the person goes back to their
 * tasks.
 */

import { openDialog, textElement } from './dialog.js';

/** @typedef {import('../model.js').EditorModel} EditorModel */
/** @typedef {import('../controller.js').EditorController} EditorController */

/**
 * @param {HTMLElement} root the overlay root
 * @param {EditorModel} model
 * @param {EditorController} controller
 * @param {(task: import('../editorTypes.js').Task) => void} onSubmitted
 */
export function mountSubmitDialog(root, model, controller, onSubmitted) {
  const doc = root.ownerDocument;
  return {
    open() {
      if (!model.task || !model.editable) {
        model.notify('this task is not open for editing', 'error');
        return;
      }
      const items = model.openItems();
      const list = doc.createElement('ul');
      list.dataset.testid = 'submit-open-items';
      const lines = [
        [items.candidates, 'candidate still unconfirmed', 'candidates still unconfirmed'],
        [items.flags, 'flag to review', 'flags to review'],
        [items.missed, 'possibly missed object', 'possibly missed objects'],
      ];
      for (const [n, one, many] of /** @type {Array<[number, string, string]>} */ (lines)) {
        if (n) list.append(textElement(doc, 'li', `${n} ${n === 1 ? one : many}`));
      }
      const kpi = model.sessionKpi();
      const summary = textElement(
        doc,
        'p',
        `The layer "${model.workLayer}" holds ${model.tracks.size} tracks (${model.deliveredShapes()} shapes); ` +
          `${kpi.shapes} shapes this session.`,
      );
      const content = [summary];
      if (list.childElementCount) content.push(textElement(doc, 'p', 'Still open:', 'muted'), list);
      else content.push(textElement(doc, 'p', 'Nothing is open.', 'muted'));
      if (model.saveState !== 'saved')
        content.push(textElement(doc, 'p', 'Edits are still being saved; submit waits for them.', 'muted'));
      openDialog(
        root,
        'Submit this task for review?',
        content,
        [
          { text: 'Keep working', style: 'ghost', isCancel: true, run: () => undefined, testid: 'submit-cancel' },
          {
            text: 'Submit',
            style: 'primary',
            isDefault: true,
            testid: 'submit-confirm',
            run: () => {
              controller.submit().then(
                (task) => {
                  if (task) onSubmitted(task);
                },
                (error) => model.notify(`not submitted: ${error instanceof Error ? error.message : error}`, 'error'),
              );
            },
          },
        ],
        'submit-dialog',
      );
    },
  };
}
