// @ts-check
/**
 * A modal dialog in the overlay root: a backdrop, a titled box, actions; Escape runs the cancel
 * action when there is one, Enter the default. The editor ignores its own shortcuts while one is
 * open (``isDialogOpen``).
 */

/**
 * @typedef {Object} DialogAction
 * @property {string} text
 * @property {() => void} run
 * @property {'primary' | 'danger' | 'ghost'} [style]
 * @property {boolean} [isDefault] Enter runs it
 * @property {boolean} [isCancel] Escape runs it
 * @property {string} [testid]
 */

/**
 * Open a dialog; returns a function that closes it.
 * @param {HTMLElement} root
 * @param {string} title
 * @param {Node[]} content
 * @param {DialogAction[]} actions
 * @param {string} [testid]
 * @param {string} [width] CSS width of a dialog wider than the default
 */
export function openDialog(root, title, content, actions, testid, width) {
  const doc = root.ownerDocument;
  const backdrop = doc.createElement('div');
  backdrop.className = 'dialog-backdrop';
  const box = doc.createElement('div');
  box.className = 'dialog';
  box.setAttribute('role', 'dialog');
  box.setAttribute('aria-modal', 'true');
  if (width) box.style.width = width;
  if (testid) box.dataset.testid = testid;
  const heading = doc.createElement('h2');
  heading.textContent = title;
  box.setAttribute('aria-label', title);
  const bar = doc.createElement('div');
  bar.className = 'actions';
  const close = () => backdrop.remove();
  /** @type {HTMLButtonElement | null} */
  let focusFirst = null;
  for (const action of actions) {
    const b = doc.createElement('button');
    b.type = 'button';
    b.className = `btn ${action.style ?? ''}`.trim();
    b.textContent = action.text;
    if (action.testid) b.dataset.testid = action.testid;
    b.addEventListener('click', () => {
      close();
      action.run();
    });
    if (action.isDefault) focusFirst = b;
    bar.append(b);
  }
  box.append(heading, ...content, bar);
  backdrop.append(box);
  backdrop.addEventListener('keydown', (event) => {
    // Keys typed in a dialog never reach the editor's shortcuts.
    event.stopPropagation();
    const target = event.key === 'Escape' ? actions.find((a) => a.isCancel) : null;
    if (target) {
      event.preventDefault();
      close();
      target.run();
    }
  });
  root.append(backdrop);
  (focusFirst ?? box.querySelector('button'))?.focus({ preventScroll: true });
  return close;
}

/**
 * Whether a dialog is open in the root.
 * @param {HTMLElement} root
 */
export function isDialogOpen(root) {
  return root.querySelector('.dialog-backdrop') !== null;
}

/**
 * A small text element.
 * @param {Document} doc
 * @param {string} tag
 * @param {string} text
 * @param {string} [className]
 */
export function textElement(doc, tag, text, className) {
  const el = doc.createElement(tag);
  el.textContent = text;
  if (className) el.className = className;
  return el;
}
