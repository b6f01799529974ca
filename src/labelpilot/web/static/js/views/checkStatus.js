// @ts-check
/**
 * The check key's status line in the guidance panel: the end search's bracket while one is open (which
 * frames it lies between, which keys answer), else what the check key said last. Hidden when empty.
 */

/** @typedef {import('../model.js').EditorModel} EditorModel */
/** @typedef {import('../checkFlow.js').CheckFlow} CheckFlow */
/** @typedef {import('../keymap.js').Keymap} Keymap */

/**
 * Put the line under the panel's heading.
 * @param {HTMLElement} panel the guidance panel (mounted)
 * @param {EditorModel} model
 * @param {CheckFlow} checks
 * @param {Keymap} keymap whose keys to name
 * @returns {{render: () => void}} render again (after a key was remapped)
 */
export function mountCheckStatus(panel, model, checks, keymap) {
  const line = panel.ownerDocument.createElement('div');
  line.className = 'notice';
  line.dataset.testid = 'check-status';
  line.style.flex = 'none';
  line.style.margin = '4px 8px';
  line.style.fontSize = '12px';
  const heading = panel.querySelector('h2');
  if (heading) heading.after(line);
  else panel.prepend(line);

  const render = () => {
    const search = checks.search;
    if (search) {
      const label = model.find(search.trackId)?.track.label ?? `track ${search.trackId}`;
      const [lo, hi] = [Math.min(search.present, search.absent), Math.max(search.present, search.absent)];
      line.dataset.bracket = `${search.present}-${search.absent}`;
      line.textContent =
        `End search, ${label}: seen at frame ${search.present}, gone at frame ${search.absent} ` +
        `(frames ${lo} to ${hi}). Here? ${keymap.label('objectHere')} yes, ${keymap.label('objectNotHere')} no, ` +
        `${keymap.label('cancel')} stops.`;
    } else {
      delete line.dataset.bracket;
      line.textContent = checks.status;
    }
    line.hidden = !line.textContent;
  };
  checks.addEventListener('change', render);
  render();
  return { render };
}
