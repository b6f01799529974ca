// @ts-check
/**
 * The object list: the work layer's tracks and the pending candidates, with class, status,
 * stationary and candidate score. By default only the objects with a box in the current frame
 * (what the person is looking at); "All" lists every one. A click selects, and jumps to the
 * nearest frame where the object has a box when it has none here.
 */

import { shapeIndex } from '../trackShapes.js';

/** @typedef {import('../model.js').EditorModel} EditorModel */
/** @typedef {import('../controller.js').EditorController} EditorController */
/** @typedef {import('../editorTypes.js').Track} Track */

/**
 * @param {Track} track
 * @param {'track' | 'candidate'} kind
 */
export function statusOf(track, kind) {
  if (kind === 'candidate') return 'candidate';
  return track.stationary ? 'stationary' : track.status;
}

/**
 * The frame nearest to ``frame`` where the track has a box, or null.
 * @param {number[]} frames ascending
 * @param {number} frame
 */
function nearestFrame(frames, frame) {
  if (!frames.length) return null;
  let best = frames[0];
  for (const f of frames) {
    if (Math.abs(f - frame) < Math.abs(best - frame)) best = f;
    if (f > frame) break;
  }
  return best;
}

/**
 * @param {HTMLElement} element
 * @param {EditorModel} model
 * @param {EditorController} controller
 */
export function mountObjectList(element, model, controller) {
  const doc = element.ownerDocument;
  element.replaceChildren();
  const heading = doc.createElement('h2');
  const title = doc.createElement('span');
  title.textContent = 'Objects';
  const count = doc.createElement('span');
  count.className = 'count';
  const spacer = doc.createElement('span');
  spacer.className = 'spacer';
  const scope = doc.createElement('button');
  scope.type = 'button';
  scope.className = 'btn ghost small';
  scope.dataset.testid = 'object-scope';
  heading.append(title, count, spacer, scope);
  const list = doc.createElement('ul');
  list.className = 'list';
  list.setAttribute('role', 'listbox');
  list.setAttribute('aria-label', 'Objects');
  element.append(heading, list);

  let onlyHere = true;
  let scheduled = false;

  /**
   * @param {string} id
   * @param {Track} track
   * @param {'track' | 'candidate'} kind
   * @param {boolean} here
   */
  const row = (id, track, kind, here) => {
    const item = doc.createElement('li');
    const status = statusOf(track, kind);
    item.className = `list-item ${kind === 'candidate' ? 'candidate' : ''} ${id === model.selectedId ? 'selected' : ''}`;
    item.dataset.id = id;
    item.dataset.kind = kind;
    item.dataset.status = status;
    item.dataset.key = track.key;
    item.dataset.label = track.label;
    item.setAttribute('role', 'option');
    item.setAttribute('aria-selected', String(id === model.selectedId));
    if (!here) item.style.opacity = '0.55';
    const swatch = doc.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = `var(--${status === 'rejected' ? 'danger' : status})`;
    const label = doc.createElement('span');
    label.className = 'label';
    label.textContent = `${track.label} ${id}`;
    label.title = `${track.label} \u00b7 ${track.key} \u00b7 frames ${track.first_frame}\u2013${track.last_frame}`;
    const badge = doc.createElement('span');
    badge.className = `badge ${status}`;
    badge.textContent = status;
    const meta = doc.createElement('span');
    meta.className = 'meta';
    meta.textContent =
      kind === 'candidate' && track.score !== null
        ? track.score.toFixed(2)
        : track.stationary
          ? '1 box'
          : `${Object.keys(track.keyframes).length} kf`;
    meta.title = kind === 'candidate' ? 'candidate score' : track.stationary ? 'one world box' : 'keyframes';
    item.append(swatch, label, badge, meta);
    return item;
  };

  const render = () => {
    scheduled = false;
    const frame = model.frameIndex;
    /** @type {HTMLElement[]} */
    const rows = [];
    let shown = 0;
    /** @type {Array<['track' | 'candidate', Map<string, Track>]>} */
    const groups = [
      ['track', model.tracks],
      ['candidate', model.candidates],
    ];
    for (const [kind, tracks] of groups) {
      const entries = [...tracks.entries()]
        .map(([id, track]) => {
          const shapes = model.shapes.get(id);
          return { id, track, here: shapes ? shapeIndex(shapes, frame) >= 0 : false };
        })
        .filter((e) => e.here || !onlyHere || e.id === model.selectedId)
        .sort((a, b) =>
          kind === 'candidate'
            ? (b.track.score ?? 0) - (a.track.score ?? 0)
            : a.track.first_frame - b.track.first_frame || a.id.localeCompare(b.id),
        );
      if (!entries.length) continue;
      const header = doc.createElement('li');
      header.className = 'muted';
      header.style.padding = '6px 8px 2px';
      header.style.fontSize = '11px';
      header.textContent = `${kind === 'track' ? `Layer ${model.workLayer}` : 'Candidates'} (${entries.length})`;
      rows.push(header);
      for (const e of entries) rows.push(row(e.id, e.track, kind, e.here));
      shown += entries.length;
    }
    if (!shown) {
      const empty = doc.createElement('li');
      empty.className = 'empty';
      empty.textContent = onlyHere ? 'No objects in this frame.' : 'No objects yet: draw one (b).';
      rows.push(empty);
    }
    list.replaceChildren(...rows);
    count.textContent = `${model.tracks.size} tracks \u00b7 ${model.candidates.size} candidates`;
    scope.textContent = onlyHere ? 'This frame' : 'All';
    scope.title = onlyHere
      ? 'Showing objects in this frame; click to list all'
      : 'Showing all; click for this frame only';
    list.querySelector('.list-item.selected')?.scrollIntoView({ block: 'nearest' });
  };

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(render);
  };

  list.addEventListener('click', (event) => {
    const item = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (event.target).closest('.list-item'));
    const id = item?.dataset.id;
    if (!id) return;
    controller.select(id);
    const shapes = model.shapes.get(id);
    if (shapes && shapeIndex(shapes, model.frameIndex) < 0) {
      const target = nearestFrame(shapes.frames, model.frameIndex);
      if (target !== null) controller.goToFrame(target);
    }
  });
  scope.addEventListener('click', () => {
    onlyHere = !onlyHere;
    render();
  });

  model.on('tracks', schedule);
  model.on('selection', schedule);
  model.on('frame', schedule);
  render();
}
