// @ts-check
/**
 * One orthographic close-up of the selected box (top, side or back), as in SUSTechPOINTS: the
 * camera sits on the box's own axes, zoomed to the box, and its near and far planes hug the box
 * so only the points near it show. Handles on the 2D overlay move the box (drag inside), resize
 * one face (drag an edge; the opposite face stays put) and, in the top view, rotate it (the knob
 * ahead of the front face). The drag shows a draft; the edit is committed on release.
 */

import * as THREE from 'three';
import { quatFromYaw } from '../../geometry.js';

/** @typedef {import('../../geometry.js').Box} Box */
/** @typedef {'top' | 'side' | 'back'} CloseUpKind */
/** @typedef {{axis: number, sign: number}} ScreenAxis  a box axis and its direction on screen */
/**
 * @typedef {object} Handle
 * @property {'move' | 'resize' | 'rotate'} kind
 * @property {number} axis  resize: the box axis of the face
 * @property {number} side  resize: +1 the face on the axis' positive end, -1 the other
 * @property {{x: number, y: number}} a  resize: one end of the face's edge on screen; rotate: the knob
 * @property {{x: number, y: number}} b  resize: the other end; rotate: where the knob's stem starts
 */
/** @typedef {{kind: Handle['kind'], base: Box, draft: Box}} BoxEdit */

export const CLOSE_UP_KINDS = /** @type {ReadonlyArray<CloseUpKind>} */ (['top', 'side', 'back']);

/** What each close-up shows: box axes on screen right and up, the axis it looks along. */
const VIEWS = /** @type {Record<CloseUpKind, {right: ScreenAxis, up: ScreenAxis, depth: number}>} */ ({
  top: { right: { axis: 1, sign: -1 }, up: { axis: 0, sign: 1 }, depth: 2 },
  side: { right: { axis: 0, sign: 1 }, up: { axis: 2, sign: 1 }, depth: 1 },
  back: { right: { axis: 1, sign: -1 }, up: { axis: 2, sign: 1 }, depth: 0 },
});

const CAMERA_DISTANCE = 50;
const DEPTH_MARGIN = 0.3; // metres of points kept in front of and behind the box
const GROUND_CUT = 0.15; // the top view shows no points lower than this above the box's bottom
const EDGE_GRAB_PX = 7;
const KNOB_OFFSET_PX = 24;
const KNOB_RADIUS_PX = 7;
const MIN_SIZE = 0.05;

/**
 * The box's axes in the ego frame (heading only: close-ups level the box).
 * @param {number} yaw
 * @returns {[THREE.Vector3, THREE.Vector3, THREE.Vector3]}
 */
function boxAxes(yaw) {
  const [c, s] = [Math.cos(yaw), Math.sin(yaw)];
  return [new THREE.Vector3(c, s, 0), new THREE.Vector3(-s, c, 0), new THREE.Vector3(0, 0, 1)];
}

/** @param {Box} box @returns {Box} */
function copyBox(box) {
  return { center: [...box.center], size: [...box.size], yaw: box.yaw, quat: [...box.quat] };
}

/**
 * @param {{x: number, y: number}} p
 * @param {{x: number, y: number}} a
 * @param {{x: number, y: number}} b
 */
function distanceToSegment(p, a, b) {
  const [dx, dy] = [b.x - a.x, b.y - a.y];
  const length2 = dx * dx + dy * dy || 1;
  const t = Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / length2));
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

export class CloseUp {
  /**
   * @param {CloseUpKind} kind
   * @param {HTMLElement} surface  receives this view's pointer events
   * @param {{onChange: () => void, onDraft: (draft: Box | null) => void, onCommit: (edit: BoxEdit) => void,
   *   canEdit: () => boolean}} hooks
   */
  constructor(kind, surface, hooks) {
    this.kind = kind;
    this.view = VIEWS[kind];
    this.surface = surface;
    this.hooks = hooks;
    this.camera = new THREE.OrthographicCamera(-1, 1, 1, -1, 1, 100);
    this.width = 1;
    this.height = 1;
    this.zoom = 1;
    /** @type {Box | null} the box as the model has it (ego frame) */
    this.target = null;
    /** @type {Box | null} what the camera is framed on (frozen during a drag) */
    this.framed = null;
    this.scale = 1; // pixels per metre
    /** @type {{handle: Handle, start: {x: number, y: number}, base: Box, draft: Box, pointer: number} | null} */
    this.drag = null;
    /** @type {Handle | null} */
    this.hover = null;
    surface.addEventListener('pointerdown', (event) => this.onPointerDown(event));
    surface.addEventListener('pointermove', (event) => this.onPointerMove(event));
    surface.addEventListener('pointerup', (event) => this.onPointerUp(event));
    surface.addEventListener('pointercancel', () => this.cancelDrag());
    surface.addEventListener('wheel', (event) => this.onWheel(event), { passive: false });
  }

  /**
   * The box to follow (ego frame), or null; a new box resets the zoom.
   * @param {Box | null} box
   * @param {boolean} sameTrack
   */
  setTarget(box, sameTrack) {
    if (!sameTrack) {
      this.zoom = 1;
      this.cancelDrag();
    }
    this.target = box;
    if (!this.drag) this.frame();
  }

  /**
   * @param {number} width
   * @param {number} height
   */
  resize(width, height) {
    this.width = Math.max(1, width);
    this.height = Math.max(1, height);
    this.frame();
  }

  /** Put the camera on the box's axes, zoomed so the box and some context fill the view. */
  frame() {
    const box = this.target;
    this.framed = box ? copyBox(box) : null;
    if (!box) return;
    const { right, up, depth } = this.view;
    const [sx, sy] = [box.size[right.axis], box.size[up.axis]];
    const margin = 0.6 + 0.15 * Math.max(sx, sy);
    // The top view keeps room for the rotation knob ahead of the box (and symmetric behind it).
    const knobRoom = this.kind === 'top' ? 2 * (KNOB_OFFSET_PX + KNOB_RADIUS_PX + 4) : 0;
    const fit = Math.min(this.width / (sx + 2 * margin), Math.max(this.height - knobRoom, 20) / (sy + 2 * margin));
    this.scale = fit * this.zoom;
    this.surface.dataset.pixelsPerMetre = String(this.scale);
    const axes = boxAxes(box.yaw);
    const center = new THREE.Vector3(...box.center);
    const look = axes[depth].clone().multiplyScalar(this.kind === 'top' ? -1 : 1);
    this.camera.position.copy(center).addScaledVector(look, -CAMERA_DISTANCE);
    this.camera.up.copy(this.kind === 'top' ? axes[0] : axes[2]);
    this.camera.lookAt(center);
    const [halfW, halfH] = [this.width / 2 / this.scale, this.height / 2 / this.scale];
    Object.assign(this.camera, { left: -halfW, right: halfW, top: halfH, bottom: -halfH });
    const halfDepth = box.size[depth] / 2;
    this.camera.near = CAMERA_DISTANCE - halfDepth - DEPTH_MARGIN;
    // From above, the road under the box would hide its footprint: cut just above the bottom.
    this.camera.far = CAMERA_DISTANCE + (this.kind === 'top' ? Math.max(halfDepth - GROUND_CUT, 0.01) : halfDepth + DEPTH_MARGIN);
    this.camera.updateProjectionMatrix();
    this.camera.updateMatrixWorld();
  }

  /** The box on screen now: the draft while dragging. */
  get shown() {
    return this.drag ? this.drag.draft : this.target;
  }

  /**
   * An ego-frame point in this view's pixels.
   * @param {THREE.Vector3} point
   */
  toScreen(point) {
    const v = point.clone().project(this.camera);
    return { x: ((v.x + 1) / 2) * this.width, y: ((1 - v.y) / 2) * this.height };
  }

  /**
   * The handles of a box on screen: its four edges in this view, the rotation knob on top.
   * @param {Box} box
   * @returns {Handle[]}
   */
  handles(box) {
    const axes = boxAxes(box.yaw);
    const center = new THREE.Vector3(...box.center);
    /** @type {Handle[]} */
    const handles = [];
    const inPlane = [this.view.right.axis, this.view.up.axis];
    for (const axis of inPlane) {
      const other = inPlane[0] === axis ? inPlane[1] : inPlane[0];
      for (const side of [1, -1]) {
        const face = center.clone().addScaledVector(axes[axis], (side * box.size[axis]) / 2);
        const along = axes[other].clone().multiplyScalar(box.size[other] / 2);
        const a = this.toScreen(face.clone().add(along));
        const b = this.toScreen(face.clone().sub(along));
        handles.push({ kind: 'resize', axis, side, a, b });
      }
    }
    if (this.kind === 'top') {
      const mid = this.toScreen(center);
      const front = this.toScreen(center.clone().addScaledVector(axes[0], box.size[0] / 2));
      const length = Math.hypot(front.x - mid.x, front.y - mid.y) || 1;
      const knob = {
        x: front.x + ((front.x - mid.x) / length) * KNOB_OFFSET_PX,
        y: front.y + ((front.y - mid.y) / length) * KNOB_OFFSET_PX,
      };
      handles.push({ kind: 'rotate', axis: 2, side: 1, a: knob, b: front });
    }
    return handles;
  }

  /**
   * Which handle a pixel grabs: the knob, then an edge, then the inside (move), else null.
   * @param {{x: number, y: number}} p
   * @returns {Handle | null}
   */
  hitTest(p) {
    const box = this.shown;
    if (!box) return null;
    const handles = this.handles(box);
    const knob = handles.find((h) => h.kind === 'rotate');
    if (knob && Math.hypot(p.x - knob.a.x, p.y - knob.a.y) <= KNOB_RADIUS_PX + 3) return knob;
    let best = null;
    let bestDistance = EDGE_GRAB_PX;
    for (const handle of handles) {
      if (handle.kind !== 'resize') continue;
      const distance = distanceToSegment(p, handle.a, handle.b);
      if (distance <= bestDistance) [best, bestDistance] = [handle, distance];
    }
    if (best) return best;
    const xs = handles.filter((h) => h.kind === 'resize').flatMap((h) => [h.a.x, h.b.x]);
    const ys = handles.filter((h) => h.kind === 'resize').flatMap((h) => [h.a.y, h.b.y]);
    const inside = p.x > Math.min(...xs) && p.x < Math.max(...xs) && p.y > Math.min(...ys) && p.y < Math.max(...ys);
    return inside ? { kind: 'move', axis: -1, side: 0, a: p, b: p } : null;
  }

  /**
   * The box after dragging `handle` from `start` to `now` (pixels), from `base`.
   * @param {Handle} handle
   * @param {Box} base
   * @param {{x: number, y: number}} start
   * @param {{x: number, y: number}} now
   * @returns {Box}
   */
  dragged(handle, base, start, now) {
    const axes = boxAxes(base.yaw);
    const draft = copyBox(base);
    const center = new THREE.Vector3(...base.center);
    const delta = [0, 0, 0];
    const { right, up } = this.view;
    delta[right.axis] += (right.sign * (now.x - start.x)) / this.scale;
    delta[up.axis] += (up.sign * (start.y - now.y)) / this.scale;
    if (handle.kind === 'move') {
      for (let k = 0; k < 3; k++) center.addScaledVector(axes[k], delta[k]);
    } else if (handle.kind === 'resize') {
      const k = handle.axis;
      const size = Math.max(MIN_SIZE, base.size[k] + handle.side * delta[k]);
      center.addScaledVector(axes[k], (handle.side * (size - base.size[k])) / 2);
      draft.size[k] = size;
    } else {
      // The top view: screen right is -y, up is +x; turn by the pointer's angle about the centre.
      const mid = this.toScreen(new THREE.Vector3(...base.center));
      const angle = (/** @type {{x: number, y: number}} */ p) => Math.atan2(-(p.x - mid.x), mid.y - p.y);
      draft.yaw = base.yaw + angle(now) - angle(start);
      draft.yaw = Math.atan2(Math.sin(draft.yaw), Math.cos(draft.yaw));
      draft.quat = quatFromYaw(draft.yaw);
    }
    draft.center = [center.x, center.y, center.z];
    return draft;
  }

  /** @param {PointerEvent} event */
  onPointerDown(event) {
    if (event.button !== 0 || !this.target || !this.hooks.canEdit()) return;
    const p = { x: event.offsetX, y: event.offsetY };
    const handle = this.hitTest(p);
    if (!handle) return;
    event.preventDefault();
    this.surface.setPointerCapture(event.pointerId);
    const base = copyBox(this.target);
    this.drag = { handle, start: p, base, draft: copyBox(base), pointer: event.pointerId };
  }

  /** @param {PointerEvent} event */
  onPointerMove(event) {
    const p = { x: event.offsetX, y: event.offsetY };
    if (!this.drag) {
      const hover = this.hooks.canEdit() ? this.hitTest(p) : null;
      if (hover?.kind !== this.hover?.kind || hover?.axis !== this.hover?.axis || hover?.side !== this.hover?.side) {
        this.hover = hover;
        this.surface.style.cursor = this.cursorFor(hover);
        this.hooks.onChange();
      }
      return;
    }
    if (event.pointerId !== this.drag.pointer) return;
    this.drag.draft = this.dragged(this.drag.handle, this.drag.base, this.drag.start, p);
    this.hooks.onDraft(this.drag.draft);
  }

  /** @param {PointerEvent} event */
  onPointerUp(event) {
    const drag = this.drag;
    if (!drag || event.pointerId !== drag.pointer) return;
    this.drag = null;
    const moved = Math.hypot(event.offsetX - drag.start.x, event.offsetY - drag.start.y) > 1;
    if (moved) this.hooks.onCommit({ kind: drag.handle.kind, base: drag.base, draft: drag.draft });
    else this.hooks.onDraft(null);
  }

  cancelDrag() {
    if (!this.drag) return;
    this.drag = null;
    this.hooks.onDraft(null);
    this.frame();
  }

  /** @param {WheelEvent} event */
  onWheel(event) {
    if (!this.target) return;
    event.preventDefault();
    this.zoom = Math.min(8, Math.max(0.25, this.zoom * Math.exp(-event.deltaY * 0.0015)));
    if (!this.drag) this.frame();
    this.hooks.onChange();
  }

  /** @param {Handle | null} handle */
  cursorFor(handle) {
    if (!handle) return 'default';
    if (handle.kind === 'move') return 'move';
    if (handle.kind === 'rotate') return 'grab';
    const horizontal = Math.abs(handle.a.x - handle.b.x) > Math.abs(handle.a.y - handle.b.y);
    return horizontal ? 'ns-resize' : 'ew-resize';
  }
}
