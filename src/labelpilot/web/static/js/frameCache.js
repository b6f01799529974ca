// @ts-check
/**
 * Lidar sweeps for the editor: fetched as binary (docs/api.md "Lidar sweep layout": N records of
 * little-endian float32 x, y, z, intensity in the lidar frame), moved into the ego frame once,
 * kept decoded in a small LRU, and the neighbouring frames prefetched after the current one
 * arrives so stepping through a scene rarely waits for the network.
 */

import { estimateGroundZ } from './boxFit.js';
import { poseToMatrix, transformPoints } from './geometry.js';

/**
 * One decoded sweep in the ego frame of its frame.
 * @typedef {object} Sweep
 * @property {number} index  the frame
 * @property {number} count  points
 * @property {Float32Array} positions  packed x, y, z (ego frame), 3 * count floats
 * @property {Float32Array} intensity  count floats, as the sensor reported them
 * @property {number} maxIntensity  0 when the sweep carries no intensity
 * @property {number | null} groundZ  the ground height in the ego frame (see boxFit.estimateGroundZ)
 * @property {number} fetchMs  how long the request took
 * @property {number} decodeMs  how long decoding and the ego transform took
 */

/** @typedef {{binary: (path: string) => Promise<ArrayBuffer>}} BinarySource */

const FLOATS_PER_POINT = 4;

/**
 * Decode a sweep payload into ego-frame positions and intensities.
 * @param {ArrayBuffer} payload
 * @param {Float64Array} egoTLidar  4x4 column-major
 * @param {number} index
 * @returns {Sweep}
 */
export function decodeSweep(payload, egoTLidar, index) {
  if (payload.byteLength % (FLOATS_PER_POINT * 4) !== 0) {
    throw new Error(`sweep of frame ${index}: ${payload.byteLength} bytes is not a whole number of points`);
  }
  const started = performance.now();
  const raw = new Float32Array(payload);
  const count = raw.length / FLOATS_PER_POINT;
  const positions = new Float32Array(count * 3);
  transformPoints(egoTLidar, raw, count, FLOATS_PER_POINT, positions);
  const intensity = new Float32Array(count);
  let maxIntensity = 0;
  for (let i = 0, s = 3; i < count; i++, s += FLOATS_PER_POINT) {
    const value = raw[s];
    intensity[i] = value;
    if (value > maxIntensity) maxIntensity = value;
  }
  return {
    index,
    count,
    positions,
    intensity,
    maxIntensity,
    groundZ: estimateGroundZ(positions, count),
    fetchMs: 0,
    decodeMs: performance.now() - started,
  };
}

export class FrameCache {
  /**
   * @param {BinarySource} api
   * @param {number} sceneId
   * @param {ReadonlyArray<{index: number, has_lidar: boolean}>} frames
   * @param {ArrayLike<number> | null} egoTLidar  the lidar's `ego_T_sensor` (3x4 row-major); null: no lidar
   * @param {{capacity?: number, radius?: number}} [options]
   */
  constructor(api, sceneId, frames, egoTLidar, options = {}) {
    this.api = api;
    this.sceneId = sceneId;
    /** @type {Set<number>} */
    this.withLidar = new Set(egoTLidar ? frames.filter((f) => f.has_lidar).map((f) => f.index) : []);
    this.egoTLidar = poseToMatrix(egoTLidar ?? [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]);
    // 120k points take ~2 MB decoded: 24 sweeps (~50 MB) cover stepping back and forth in a window.
    this.capacity = options.capacity ?? 24;
    this.radius = options.radius ?? 2;
    /** @type {Map<number, Sweep>} insertion order = least recently used first */
    this.sweeps = new Map();
    /** @type {Map<number, Promise<Sweep | null>>} */
    this.pending = new Map();
    /** @type {number} the frame the user is on: prefetches around it, never evicts it */
    this.current = -1;
    this.fetched = 0;
  }

  /** Whether the scene has any sweep to show. */
  get hasLidar() {
    return this.withLidar.size > 0;
  }

  /**
   * The decoded sweep if it is already here (marks it recently used).
   * @param {number} index
   * @returns {Sweep | undefined}
   */
  peek(index) {
    const sweep = this.sweeps.get(index);
    if (sweep) {
      this.sweeps.delete(index);
      this.sweeps.set(index, sweep);
    }
    return sweep;
  }

  /**
   * The sweep of the frame the user is on; the neighbours are prefetched once it is here.
   * @param {number} index
   * @returns {Promise<Sweep | null>}  null for a frame without a sweep
   */
  async get(index) {
    this.current = index;
    const sweep = await this.load(index);
    if (this.current === index) this.prefetchAround(index);
    return sweep;
  }

  /**
   * Load the frames around `index` nearest first, without holding up a `get`: each waits for
   * the previous one, so at most one prefetch is on the wire beside the current frame.
   * @param {number} index
   */
  async prefetchAround(index) {
    for (let step = 1; step <= this.radius; step++) {
      for (const neighbour of [index + step, index - step]) {
        if (this.current !== index) return;
        if (!this.withLidar.has(neighbour) || this.sweeps.has(neighbour)) continue;
        try {
          await this.load(neighbour);
        } catch {
          // A failed prefetch is retried when the user gets there; the current frame reports errors.
        }
      }
    }
  }

  /**
   * @param {number} index
   * @returns {Promise<Sweep | null>}
   */
  load(index) {
    if (!this.withLidar.has(index)) return Promise.resolve(null);
    const cached = this.peek(index);
    if (cached) return Promise.resolve(cached);
    const inFlight = this.pending.get(index);
    if (inFlight) return inFlight;
    const request = this.fetchSweep(index).finally(() => this.pending.delete(index));
    this.pending.set(index, request);
    return request;
  }

  /**
   * @param {number} index
   * @returns {Promise<Sweep>}
   */
  async fetchSweep(index) {
    const started = performance.now();
    const payload = await this.api.binary(`/api/scenes/${this.sceneId}/frames/${index}/lidar`);
    const fetchMs = performance.now() - started;
    const sweep = decodeSweep(payload, this.egoTLidar, index);
    sweep.fetchMs = fetchMs;
    this.fetched++;
    this.store(sweep);
    return sweep;
  }

  /** @param {Sweep} sweep */
  store(sweep) {
    this.sweeps.delete(sweep.index);
    this.sweeps.set(sweep.index, sweep);
    for (const index of this.sweeps.keys()) {
      if (this.sweeps.size <= this.capacity) break;
      if (index !== this.current) this.sweeps.delete(index);
    }
  }
}
