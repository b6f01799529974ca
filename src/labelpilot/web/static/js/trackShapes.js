// @ts-check
/**
 * A track's world-frame shapes derived in the browser, the way the server derives them
 * (src/labelpilot/tracks/interpolation.py): linear centres and spherical-linear rotations between
 * keyframes, the nearest keyframe held before the first and after the last, one size for the life,
 * no shape on absent frames. The editor uses it only for optimistic updates and for tracks listed
 * without shapes; every edit's response replaces what it computes here.
 */

import { matrixFromQuat, poseToMatrix, quatFromMatrix, yawFromQuat } from './geometry.js';

/** @typedef {import('./editorTypes.js').Track} Track */
/** @typedef {import('./editorTypes.js').Shapes} Shapes */
/** @typedef {import('./editorTypes.js').WorldPose} WorldPose */

/** @typedef {[number, number, number, number]} Quat */

/**
 * A 3x4 row-major pose (12 numbers, the API's pose) as centre and quaternion x, y, z, w.
 * @param {number[]} m
 * @returns {WorldPose}
 */
export function poseFromMatrix(m) {
  return { center: [m[3], m[7], m[11]], quat_xyzw: quatFromMatrix(poseToMatrix(m)) };
}

/**
 * A world pose as the API's 12 numbers (3x4 row-major).
 * @param {ArrayLike<number>} center
 * @param {ArrayLike<number>} quat x, y, z, w
 */
export function poseRows(center, quat) {
  const m = matrixFromQuat(quat, center);
  return [m[0], m[4], m[8], m[12], m[1], m[5], m[9], m[13], m[2], m[6], m[10], m[14]];
}

/**
 * @param {number[]} q
 * @returns {Quat}
 */
function normalize(q) {
  const n = Math.hypot(q[0], q[1], q[2], q[3]) || 1;
  return [q[0] / n, q[1] / n, q[2] / n, q[3] / n];
}

/**
 * Spherical-linear interpolation along the shortest arc.
 * @param {number[]} a
 * @param {number[]} b
 * @param {number} t in [0, 1]
 * @returns {Quat}
 */
export function slerp(a, b, t) {
  let dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3];
  const sign = dot < 0 ? -1 : 1;
  dot *= sign;
  if (dot > 0.9995) {
    return normalize([0, 1, 2, 3].map((i) => a[i] + (sign * b[i] - a[i]) * t));
  }
  const theta = Math.acos(dot);
  const wa = Math.sin((1 - t) * theta) / Math.sin(theta);
  const wb = (sign * Math.sin(t * theta)) / Math.sin(theta);
  return normalize([0, 1, 2, 3].map((i) => wa * a[i] + wb * b[i]));
}

/**
 * Whether the track has a shape in ``frame`` (inside its life, not marked absent there).
 * @param {Track} track
 * @param {number} frame
 */
export function hasShapeAt(track, frame) {
  return track.first_frame <= frame && frame <= track.last_frame && !track.absent_frames.includes(frame);
}

/**
 * Every frame of the track's life where it has a shape.
 * @param {Track} track
 */
export function shapeFrames(track) {
  const absent = new Set(track.absent_frames);
  const frames = [];
  for (let f = track.first_frame; f <= track.last_frame; f += 1) {
    if (!absent.has(f)) frames.push(f);
  }
  return frames;
}

/**
 * The world pose of a keyframed track at ``frame`` (keyframes as frame -> 12 numbers).
 * @param {Array<[number, WorldPose]>} keys ascending by frame, at least one
 * @param {number} frame
 * @returns {WorldPose}
 */
function interpolate(keys, frame) {
  if (frame <= keys[0][0]) return keys[0][1];
  const last = keys[keys.length - 1];
  if (frame >= last[0]) return last[1];
  let hi = 1;
  while (keys[hi][0] < frame) hi += 1;
  const [f0, p0] = keys[hi - 1];
  const [f1, p1] = keys[hi];
  const t = (frame - f0) / (f1 - f0);
  return {
    center: [0, 1, 2].map((i) => p0.center[i] + (p1.center[i] - p0.center[i]) * t),
    quat_xyzw: slerp(p0.quat_xyzw, p1.quat_xyzw, t),
  };
}

/**
 * The track's keyframes as ascending (frame, pose) pairs.
 * @param {Track} track
 * @returns {Array<[number, WorldPose]>}
 */
export function keyframePoses(track) {
  return Object.entries(track.keyframes)
    .map(([frame, m]) => /** @type {[number, WorldPose]} */ ([Number(frame), poseFromMatrix(m)]))
    .sort((a, b) => a[0] - b[0]);
}

/**
 * The world pose of the track at ``frame`` (held past the ends of its keyframes), or null when the
 * track has neither a stationary pose nor keyframes.
 * @param {Track} track
 * @param {number} frame
 * @returns {WorldPose | null}
 */
export function poseAt(track, frame) {
  if (track.stationary_pose) return poseFromMatrix(track.stationary_pose);
  const keys = keyframePoses(track);
  return keys.length ? interpolate(keys, frame) : null;
}

/**
 * The track's derived world-frame shapes in every frame where it has one.
 * @param {Track} track
 * @returns {Shapes}
 */
export function deriveShapes(track) {
  /** @type {Shapes} */
  const shapes = { frames: [], centers: [], sizes: [], quats_xyzw: [], yaws: [] };
  if (track.deleted) return shapes;
  const fixed = track.stationary_pose ? poseFromMatrix(track.stationary_pose) : null;
  const keys = fixed ? [] : keyframePoses(track);
  if (!fixed && !keys.length) return shapes;
  for (const frame of shapeFrames(track)) {
    const pose = fixed ?? interpolate(keys, frame);
    shapes.frames.push(frame);
    shapes.centers.push([pose.center[0], pose.center[1], pose.center[2]]);
    shapes.sizes.push([track.size[0], track.size[1], track.size[2]]);
    const q = pose.quat_xyzw;
    shapes.quats_xyzw.push([q[0], q[1], q[2], q[3]]);
    shapes.yaws.push(yawFromQuat(pose.quat_xyzw));
  }
  return shapes;
}

/**
 * The index of ``frame`` in ``shapes.frames`` (ascending), or -1.
 * @param {Shapes} shapes
 * @param {number} frame
 */
export function shapeIndex(shapes, frame) {
  let lo = 0;
  let hi = shapes.frames.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const value = shapes.frames[mid];
    if (value === frame) return mid;
    if (value < frame) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
