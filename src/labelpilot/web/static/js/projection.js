// @ts-check
/**
 * Cuboids into camera images: ego frame -> camera frame (the camera's `ego_T_sensor`, OpenCV
 * convention: x right, y down, z forward) -> pixels through the 3x3 intrinsic matrix. Edges are
 * clipped at a near plane in front of the camera, so a box beside or behind the car draws only
 * its visible part instead of wrapping through infinity. Pure functions.
 */

import { BOX_EDGES, FRONT_CROSS, boxCorners, invertRigid, poseToMatrix, transformPoint } from './geometry.js';

/** @typedef {import('./geometry.js').Box} Box */
/** @typedef {import('./geometry.js').Vec3} Vec3 */
/** @typedef {[number, number, number, number]} Segment  u0, v0, u1, v1 in pixels */
/**
 * @typedef {object} PinholeCamera
 * @property {Float64Array} cameraTEgo  4x4 column-major
 * @property {number[][]} matrix  3x3 intrinsics (row-major rows)
 * @property {number} width  image pixels
 * @property {number} height
 */

/** Metres in front of the camera where edges are cut. */
export const NEAR_PLANE = 0.1;

/**
 * @param {{ego_T_sensor: number[], intrinsics: {matrix: number[][], width: number, height: number} | null}} sensor
 * @returns {PinholeCamera | null}  null for a sensor without intrinsics
 */
export function pinholeCamera(sensor) {
  if (!sensor.intrinsics) return null;
  const { matrix, width, height } = sensor.intrinsics;
  return { cameraTEgo: invertRigid(poseToMatrix(sensor.ego_T_sensor)), matrix, width, height };
}

/**
 * @param {PinholeCamera} camera
 * @param {Vec3} p  camera frame, in front of the near plane
 * @returns {[number, number]}
 */
function pixel(camera, p) {
  const k = camera.matrix;
  const u = (k[0][0] * p[0] + k[0][1] * p[1] + k[0][2] * p[2]) / p[2];
  const v = (k[1][0] * p[0] + k[1][1] * p[1] + k[1][2] * p[2]) / p[2];
  return [u, v];
}

/**
 * A segment of the camera frame cut to the part in front of the near plane, or null.
 * @param {Vec3} a
 * @param {Vec3} b
 * @returns {[Vec3, Vec3] | null}
 */
export function clipToNearPlane(a, b) {
  const inA = a[2] >= NEAR_PLANE;
  const inB = b[2] >= NEAR_PLANE;
  if (inA && inB) return [a, b];
  if (!inA && !inB) return null;
  const t = (NEAR_PLANE - a[2]) / (b[2] - a[2]);
  /** @type {Vec3} */
  const cut = [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, NEAR_PLANE];
  return inA ? [a, cut] : [cut, b];
}

/**
 * The pixel segments of a box's 12 edges and its front cross (the last two), near-clipped.
 * @param {PinholeCamera} camera
 * @param {Box} egoBox
 * @returns {{edges: Segment[], cross: Segment[], visible: boolean}}  visible: some part lies in the image
 */
export function projectBox(camera, egoBox) {
  const corners = boxCorners(egoBox).map((c) => transformPoint(camera.cameraTEgo, c));
  /** @param {ReadonlyArray<[number, number]>} pairs @returns {Segment[]} */
  const project = (pairs) => {
    /** @type {Segment[]} */
    const out = [];
    for (const [i, j] of pairs) {
      const clipped = clipToNearPlane(corners[i], corners[j]);
      if (!clipped) continue;
      const [u0, v0] = pixel(camera, clipped[0]);
      const [u1, v1] = pixel(camera, clipped[1]);
      out.push([u0, v0, u1, v1]);
    }
    return out;
  };
  const edges = project(BOX_EDGES);
  const cross = project(FRONT_CROSS);
  return { edges, cross, visible: boundsMeetImage(edges, camera.width, camera.height) };
}

/**
 * Whether the box around the projected edges overlaps the image by more than its border (the
 * rule of geometry/projection.py `project_cuboid_bbox`: pixel centres run 0 .. width - 1).
 * @param {Segment[]} edges
 * @param {number} width
 * @param {number} height
 */
export function boundsMeetImage(edges, width, height) {
  if (!edges.length) return false;
  let [x1, y1, x2, y2] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [u0, v0, u1, v1] of edges) {
    x1 = Math.min(x1, u0, u1);
    y1 = Math.min(y1, v0, v1);
    x2 = Math.max(x2, u0, u1);
    y2 = Math.max(y2, v0, v1);
  }
  return x2 > 0 && y2 > 0 && x1 < width - 1 && y1 < height - 1;
}
