// @ts-check
/**
 * What the stationary-objects review draws in the main view: the sweeps accumulated in the world frame
 * (as the review's API answers them) and every candidate's world box, both placed in the ego frame of
 * the frame on screen.
 */

import * as THREE from 'three';
import { transformBox } from '../geometry.js';
import { BOX_COLORS } from './boxStyle.js';
import { BoxLayer } from './scene/boxLayer.js';
import { PointCloud } from './scene/pointCloud.js';

/** @typedef {import('../geometry.js').Mat4} Mat4 */
/** @typedef {import('./scene/boxLayer.js').BoxItem} BoxItem */
/** @typedef {import('../frameCache.js').Sweep} Sweep */
/** @typedef {{count: number, frames: number[], voxel_size: number, data: string}} ReviewPoints */

const BEV_POINT_SIZE = 1.6;

/**
 * The accumulated points (base64 float32 x, y, z, intensity rows) as a sweep the point cloud draws.
 * @param {ReviewPoints} points
 * @param {number | null} groundZ
 * @returns {Sweep}
 */
export function decodePoints(points, groundZ) {
  const bytes = Uint8Array.from(atob(points.data), (c) => c.charCodeAt(0));
  const raw = new Float32Array(bytes.buffer);
  const count = raw.length / 4;
  const positions = new Float32Array(count * 3);
  const intensity = new Float32Array(count);
  let maxIntensity = 0;
  for (let i = 0; i < count; i++) {
    positions.set(raw.subarray(i * 4, i * 4 + 3), i * 3);
    intensity[i] = raw[i * 4 + 3];
    maxIntensity = Math.max(maxIntensity, intensity[i]);
  }
  return { index: -1, count, positions, intensity, maxIntensity, groundZ, fetchMs: 0, decodeMs: 0 };
}

/** What the main view draws during the review: world-frame points and boxes, placed in the shown frame's ego frame. */
export class ReviewLayer {
  constructor() {
    this.scene = new THREE.Scene();
    this.points = new PointCloud();
    this.points.material.size = BEV_POINT_SIZE;
    this.points.object.matrixAutoUpdate = false;
    this.boxes = new BoxLayer();
    this.scene.add(this.points.object, this.boxes.group);
    /** @type {Array<{id: string, label: string, caption: string, center: number[], size: number[], yaw: number}>} */
    this.worldBoxes = [];
    /** @type {string | null} */
    this.currentId = null;
  }

  /**
   * Draw the boxes in the ego frame of the shown frame (the scene view asks on every redraw); answers
   * the ones to caption: the item in focus only (99 captions hide the boxes they name).
   * @param {Mat4} egoTWorld
   * @returns {BoxItem[]}
   */
  itemsAt(egoTWorld) {
    this.points.object.matrix.fromArray(egoTWorld);
    this.points.object.matrixWorldNeedsUpdate = true;
    const items = this.worldBoxes.map((b) => {
      const current = b.id === this.currentId;
      const look = current
        ? { color: BOX_COLORS.selected, dashed: false, opacity: 1, selected: true }
        : { color: BOX_COLORS.stationary, dashed: true, opacity: 0.85, selected: false };
      return { id: b.id, label: b.label, caption: b.caption, box: transformBox(egoTWorld, b), look };
    });
    this.boxes.update(items);
    return items.filter((item) => item.look.selected);
  }

  dispose() {
    this.points.dispose();
    this.boxes.dispose();
  }
}
