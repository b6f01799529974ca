// @ts-check
/**
 * Pointer input of the main view beyond camera moves: a click selects the box under it (or
 * clears the selection), a double click also turns the view to it, and in draw mode the left
 * button feeds the draw tool with ground points.
 */

/** @typedef {import('./mainView.js').MainView} MainView */
/** @typedef {import('./drawTool.js').DrawTool} DrawTool */
/** @typedef {import('./drawTool.js').GroundPoint} GroundPoint */

const CLICK_PX = 4; // a press that moves less than this is a click, not a camera drag

/**
 * @param {HTMLElement} surface
 * @param {MainView} view
 * @param {DrawTool} drawTool
 * @param {{drawing: () => boolean, groundZ: () => number, pick: (ray: import('three').Ray) => void,
 *   lookAt: (ray: import('three').Ray) => void}} hooks
 */
export function wireMainPointer(surface, view, drawTool, hooks) {
  /** @type {{x: number, y: number} | null} */
  let press = null;
  /**
   * @param {PointerEvent} event
   * @returns {GroundPoint | null}
   */
  const groundAt = (event) => {
    const p = view.pointOnPlane(event.offsetX, event.offsetY, hooks.groundZ());
    return p ? { x: p.x, y: p.y } : null;
  };
  surface.addEventListener('pointerdown', (event) => {
    press = { x: event.offsetX, y: event.offsetY };
    if (!hooks.drawing() || event.button !== 0) return;
    const p = groundAt(event);
    if (!p) return;
    surface.setPointerCapture(event.pointerId);
    drawTool.down(p);
  });
  surface.addEventListener('pointermove', (event) => {
    if (!hooks.drawing()) return;
    const p = groundAt(event);
    if (p) drawTool.move(p, (event.buttons & 1) === 1);
  });
  surface.addEventListener('pointerup', (event) => {
    const click = press !== null && Math.hypot(event.offsetX - press.x, event.offsetY - press.y) <= CLICK_PX;
    press = null;
    if (hooks.drawing()) {
      const p = event.button === 0 ? groundAt(event) : null;
      if (p) drawTool.up(p);
      return;
    }
    if (click && event.button === 0) hooks.pick(view.ray(event.offsetX, event.offsetY));
  });
  surface.addEventListener('dblclick', (event) => {
    if (!hooks.drawing()) hooks.lookAt(view.ray(event.offsetX, event.offsetY));
  });
}
