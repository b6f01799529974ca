// @ts-check
/**
 * Fit a box to the lidar points of one object, keeping its heading: the editor's one-click
 * "fit to points". Pure functions on packed ego-frame positions (see frameCache.js).
 *
 * The ground is cut away by height (a per-sweep estimate, refined by the lowest points around
 * the box); what stays inside the box grown by a margin is the object. The fit is tight along
 * the box's own axes and sits on the ground, as an annotator would draw it.
 */

import { pointsInBox, quantile } from './geometry.js';

/** @typedef {import('./geometry.js').Box} Box */

/** Ground points lie at most this high (metres) above the estimated ground. */
export const GROUND_TOLERANCE = 0.2;
/** How far (metres) around the box the fit looks for points of the object. */
export const FIT_MARGIN = 0.5;
/** Fewer object points than this cannot define a box. */
export const MIN_FIT_POINTS = 5;

const GROUND_BIN = 0.1;
const GROUND_LOW = -5;
const GROUND_HIGH = 2;

/**
 * The sweep's ground height in its frame: the most common height of the points 3 to 30 m away
 * (the road dominates there), or null for an empty sweep.
 * @param {Float32Array} xyz  packed x, y, z
 * @param {number} count
 * @returns {number | null}
 */
export function estimateGroundZ(xyz, count) {
  const bins = new Uint32Array(Math.round((GROUND_HIGH - GROUND_LOW) / GROUND_BIN));
  let seen = 0;
  for (let i = 0, o = 0; i < count; i++, o += 3) {
    const range2 = xyz[o] * xyz[o] + xyz[o + 1] * xyz[o + 1];
    if (range2 < 9 || range2 > 900) continue;
    const bin = Math.floor((xyz[o + 2] - GROUND_LOW) / GROUND_BIN);
    if (bin < 0 || bin >= bins.length) continue;
    bins[bin]++;
    seen++;
  }
  if (seen === 0) return null;
  let best = 0;
  for (let b = 1; b < bins.length; b++) if (bins[b] > bins[best]) best = b;
  return GROUND_LOW + (best + 0.5) * GROUND_BIN;
}

/**
 * The ground under a box: the lowest points around it, unless none of them is near the sweep's
 * ground (an object seen without the road around it), then the sweep's ground.
 * @param {Float32Array} xyz
 * @param {Uint32Array} around  indices of the points around the box
 * @param {number | null} sweepGround
 * @returns {number | null}
 */
export function groundUnder(xyz, around, sweepGround) {
  if (around.length < 10) return sweepGround;
  const heights = new Float64Array(around.length);
  for (let k = 0; k < around.length; k++) heights[k] = xyz[around[k] * 3 + 2];
  const low = quantile(heights, 0.05);
  if (sweepGround !== null && Math.abs(low - sweepGround) > 0.5) return sweepGround;
  return low;
}

/**
 * A tight box around the object points near `box`, with the same heading, on the ground.
 * @param {Float32Array} xyz  packed ego-frame positions
 * @param {number} count
 * @param {Box} box  in the same (ego) frame
 * @param {number | null} sweepGround  from `estimateGroundZ`
 * @returns {Box | null}  null when too few points belong to the object
 */
export function fitBoxToPoints(xyz, count, box, sweepGround) {
  /** @type {Box} */
  const search = {
    center: box.center,
    size: [box.size[0], box.size[1], box.size[2] + 2 * FIT_MARGIN],
    yaw: box.yaw,
    quat: box.quat,
  };
  const around = pointsInBox(xyz, count, search, FIT_MARGIN);
  const ground = groundUnder(xyz, around, sweepGround) ?? box.center[2] - box.size[2] / 2;
  const cos = Math.cos(box.yaw);
  const sin = Math.sin(box.yaw);
  let [minU, maxU, minV, maxV, maxZ] = [Infinity, -Infinity, Infinity, -Infinity, -Infinity];
  let kept = 0;
  for (let k = 0; k < around.length; k++) {
    const o = around[k] * 3;
    const z = xyz[o + 2];
    if (z <= ground + GROUND_TOLERANCE) continue;
    const dx = xyz[o] - box.center[0];
    const dy = xyz[o + 1] - box.center[1];
    const u = dx * cos + dy * sin;
    const v = -dx * sin + dy * cos;
    minU = Math.min(minU, u);
    maxU = Math.max(maxU, u);
    minV = Math.min(minV, v);
    maxV = Math.max(maxV, v);
    maxZ = Math.max(maxZ, z);
    kept++;
  }
  if (kept < MIN_FIT_POINTS) return null;
  const [u, v] = [(minU + maxU) / 2, (minV + maxV) / 2];
  return {
    center: [box.center[0] + u * cos - v * sin, box.center[1] + u * sin + v * cos, (ground + maxZ) / 2],
    size: [Math.max(maxU - minU, 0.1), Math.max(maxV - minV, 0.1), Math.max(maxZ - ground, 0.1)],
    yaw: box.yaw,
    quat: [0, 0, Math.sin(box.yaw / 2), Math.cos(box.yaw / 2)],
  };
}
