// @ts-check
/**
 * Cuboids as wireframes: one shared unit-cube line geometry (12 edges, a cross on the front face
 * and a line from the centre to it, so the heading reads in every view), placed by a matrix per
 * box. Objects are pooled and reused across frames; the selected box also gets a faint fill.
 */

import * as THREE from 'three';
import { BOX_EDGES, FRONT_CROSS, boxMatrix, rayHitsBox, transformBox } from '../../geometry.js';
import { BOX_COLORS, boxCaption, boxLook } from '../boxStyle.js';

/** @typedef {import('../../geometry.js').Box} Box */
/** @typedef {import('../boxStyle.js').BoxLook} BoxLook */
/** @typedef {import('../../editorTypes.js').ShapeAt} ShapeAt */
/**
 * One box to draw, in the ego frame.
 * @typedef {{id: string, label: string, caption: string, box: Box, look: BoxLook}} BoxItem
 */

/**
 * What to draw for a frame's shapes (world frame) in the ego frame: the selected box replaced by
 * the draft while it is dragged, a box being drawn added.
 * @param {ShapeAt[]} shapes
 * @param {import('../../geometry.js').Mat4} egoTWorld
 * @param {string | null} selectedId
 * @param {{box: Box, drawing: boolean} | null} draft
 * @param {string} drawLabel
 * @returns {BoxItem[]}
 */
export function boxItems(shapes, egoTWorld, selectedId, draft, drawLabel) {
  /** @type {BoxItem[]} */
  const items = shapes.map((shape) => {
    const selected = shape.id === selectedId;
    const box = selected && draft && !draft.drawing ? draft.box : transformBox(egoTWorld, shape);
    return { id: shape.id, label: shape.label, caption: boxCaption(shape), box, look: boxLook(shape, selected) };
  });
  if (draft?.drawing) {
    const look = { color: BOX_COLORS.draft, dashed: false, opacity: 1, selected: false };
    items.push({ id: 'draft', label: drawLabel, caption: drawLabel, box: draft.box, look });
  }
  return items;
}

/** @returns {THREE.BufferGeometry} */
function unitBoxLines() {
  /** @type {number[]} */
  const points = [];
  /** @param {number} i */
  const corner = (i) => [i & 1 ? 0.5 : -0.5, i & 2 ? 0.5 : -0.5, i & 4 ? 0.5 : -0.5];
  for (const [a, b] of [...BOX_EDGES, ...FRONT_CROSS]) points.push(...corner(a), ...corner(b));
  points.push(0, 0, 0, 0.5, 0, 0);
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.Float32BufferAttribute(points, 3));
  return geometry;
}

export class BoxLayer {
  constructor() {
    this.group = new THREE.Group();
    this.group.name = 'boxes';
    this.lines = unitBoxLines();
    // Dashes need distances along each segment; the unit geometry is shared, so compute once.
    const distances = new Float32Array(this.lines.getAttribute('position').count);
    const pos = this.lines.getAttribute('position');
    for (let i = 0; i < distances.length; i += 2) {
      distances[i] = 0;
      distances[i + 1] = Math.hypot(pos.getX(i + 1) - pos.getX(i), pos.getY(i + 1) - pos.getY(i), pos.getZ(i + 1) - pos.getZ(i));
    }
    this.lines.setAttribute('lineDistance', new THREE.BufferAttribute(distances, 1));
    /** @type {THREE.LineSegments<THREE.BufferGeometry, THREE.LineDashedMaterial>[]} */
    this.pool = [];
    this.fill = new THREE.Mesh(
      new THREE.BoxGeometry(1, 1, 1),
      new THREE.MeshBasicMaterial({ color: '#ffffff', transparent: true, opacity: 0.1, depthWrite: false }),
    );
    this.fill.matrixAutoUpdate = false;
    this.fill.visible = false;
    this.group.add(this.fill);
    /** @type {BoxItem[]} */
    this.items = [];
  }

  /** @param {number} index */
  wireframe(index) {
    while (this.pool.length <= index) {
      const material = new THREE.LineDashedMaterial({ color: '#ffffff', dashSize: 0.06, gapSize: 0.04 });
      const object = new THREE.LineSegments(this.lines, material);
      object.matrixAutoUpdate = false;
      object.frustumCulled = false;
      this.pool.push(object);
      this.group.add(object);
    }
    return this.pool[index];
  }

  /**
   * Draw exactly these boxes.
   * @param {BoxItem[]} items
   */
  update(items) {
    this.items = items;
    this.fill.visible = false;
    items.forEach((item, index) => {
      const object = this.wireframe(index);
      object.matrix.fromArray(boxMatrix(item.box));
      object.matrixWorldNeedsUpdate = true;
      const material = object.material;
      material.color.set(item.look.color);
      material.transparent = item.look.opacity < 1;
      material.opacity = item.look.opacity;
      // A solid line is a dash longer than every segment.
      material.dashSize = item.look.dashed ? 0.06 : 10;
      material.gapSize = item.look.dashed ? 0.05 : 0;
      object.visible = true;
      if (item.look.selected) {
        this.fill.matrix.fromArray(boxMatrix(item.box));
        this.fill.matrixWorldNeedsUpdate = true;
        this.fill.visible = true;
      }
    });
    for (let i = items.length; i < this.pool.length; i++) this.pool[i].visible = false;
  }

  /**
   * The id of the nearest box a ray (ego frame) passes through, or null.
   * @param {THREE.Vector3} origin
   * @param {THREE.Vector3} direction
   * @returns {string | null}
   */
  pick(origin, direction) {
    let best = null;
    let bestDistance = Infinity;
    for (const item of this.items) {
      const distance = rayHitsBox(origin.toArray(), direction.toArray(), item.box);
      if (distance !== null && distance < bestDistance) {
        best = item.id;
        bestDistance = distance;
      }
    }
    return best;
  }

  dispose() {
    this.lines.dispose();
    for (const object of this.pool) object.material.dispose();
    this.fill.geometry.dispose();
    this.fill.material.dispose();
  }
}
