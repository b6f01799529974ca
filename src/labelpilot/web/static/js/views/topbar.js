// @ts-check
/**
 * The top bar's live parts (task name, frame counter, save state) and the toasts that carry the
 * model's notices: a refusal, a failure, "undone: ...".
 */

/** @typedef {import('../model.js').EditorModel} EditorModel */

const TOAST_MS = 3500;
const ERROR_TOAST_MS = 7000;

/** @type {Record<string, string>} */
const SAVE_TEXT = { saved: 'All changes saved', saving: 'Saving\u2026', error: 'Not saved' };

/**
 * @param {Document} doc
 * @param {EditorModel} model
 */
export function mountTopbar(doc, model) {
  const taskName = doc.getElementById('task-name');
  const counter = doc.getElementById('frame-counter');
  const save = doc.getElementById('save-state');

  const showTask = () => {
    if (!taskName || !model.task) return;
    const scene = model.scene?.summary.name ?? `scene ${model.task.scene_id}`;
    const state = model.task.state.replace('_', ' ');
    taskName.textContent = `${scene} \u00b7 task ${model.task.id} (${model.task.kind}, ${state})`;
    taskName.title = taskName.textContent;
  };
  const showFrame = () => {
    // Frames are numbered from 0 everywhere (timeline, guidance, API): so is the counter.
    if (counter) counter.textContent = `frame ${model.frameIndex} / ${model.frameCount - 1}`;
  };
  /** @param {{state: string, message?: string}} detail */
  const showSave = (detail) => {
    if (!save) return;
    save.dataset.state = detail.state;
    save.textContent =
      detail.state === 'error' && detail.message ? `Not saved: ${detail.message}` : SAVE_TEXT[detail.state];
  };

  model.on('tracks', showTask);
  model.on('frame', showFrame);
  model.on('save', showSave);
  showTask();
  showFrame();
  showSave({ state: model.saveState });
}

/**
 * Notices as toasts in the overlay root, newest replacing the one on screen.
 * @param {HTMLElement} root
 * @param {EditorModel} model
 */
export function mountToasts(root, model) {
  /** @type {HTMLElement | null} */
  let current = null;
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  model.on('notice', ({ message, level }) => {
    current?.remove();
    if (timer !== null) clearTimeout(timer);
    const toast = root.ownerDocument.createElement('div');
    toast.className = `toast ${level === 'error' ? 'error' : ''}`.trim();
    toast.setAttribute('role', level === 'error' ? 'alert' : 'status');
    toast.dataset.testid = 'toast';
    toast.textContent = message;
    root.append(toast);
    current = toast;
    timer = setTimeout(() => toast.remove(), level === 'error' ? ERROR_TOAST_MS : TOAST_MS);
  });
}
