// @ts-check
/**
 * The sweep as one THREE.Points object whose buffers are rewritten in place on every frame step:
 * no per-point objects, no new GPU buffers unless a sweep outgrows the current capacity, so a
 * 120k-point sweep steps as fast as one buffer upload. Colours come from a 256-entry lookup
 * table per mode (height above the ground, intensity, range).
 */

import * as THREE from 'three';

/** @typedef {'height' | 'intensity' | 'range'} ColorMode */
/** @typedef {import('../../frameCache.js').Sweep} Sweep */

export const COLOR_MODES = /** @type {ReadonlyArray<ColorMode>} */ (['height', 'intensity', 'range']);

/**
 * Gradient stops (value, '#rrggbb') of each mode, and the value range the table spans.
 * Height is metres above the ground: the road in grey so objects stand out, then blue to red.
 * @type {Record<ColorMode, {low: number, high: number, stops: Array<[number, string]>}>}
 */
const PALETTES = {
  height: {
    low: -0.5,
    high: 3.5,
    stops: [
      [-0.5, '#334155'],
      [0.15, '#64748b'],
      [0.3, '#2563eb'],
      [0.8, '#06b6d4'],
      [1.4, '#22c55e'],
      [2.0, '#eab308'],
      [2.8, '#f97316'],
      [3.5, '#ef4444'],
    ],
  },
  intensity: {
    low: 0,
    high: 1,
    stops: [
      [0, '#475569'],
      [0.25, '#7dd3fc'],
      [0.6, '#fde047'],
      [1, '#ffffff'],
    ],
  },
  range: {
    low: 0,
    high: 70,
    stops: [
      [0, '#f43f5e'],
      [10, '#f59e0b'],
      [25, '#84cc16'],
      [45, '#06b6d4'],
      [70, '#6366f1'],
    ],
  },
};

const LUT_SIZE = 256;

/**
 * @param {Array<[number, string]>} stops
 * @param {number} low
 * @param {number} high
 * @returns {Uint8Array}  LUT_SIZE rgb triples
 */
function buildLut(stops, low, high) {
  const lut = new Uint8Array(LUT_SIZE * 3);
  const colors = stops.map(([value, hex]) => /** @type {[number, THREE.Color]} */ ([value, new THREE.Color(hex)]));
  const mixed = new THREE.Color();
  for (let i = 0; i < LUT_SIZE; i++) {
    const value = low + ((high - low) * i) / (LUT_SIZE - 1);
    let k = 1;
    while (k < colors.length - 1 && colors[k][0] < value) k++;
    const [v0, c0] = colors[k - 1];
    const [v1, c1] = colors[k];
    const t = Math.min(1, Math.max(0, (value - v0) / (v1 - v0)));
    mixed.copy(c0).lerp(c1, t);
    lut[i * 3] = Math.round(mixed.r * 255);
    lut[i * 3 + 1] = Math.round(mixed.g * 255);
    lut[i * 3 + 2] = Math.round(mixed.b * 255);
  }
  return lut;
}

/** @type {Record<ColorMode, Uint8Array>} */
const LUTS = {
  height: buildLut(PALETTES.height.stops, PALETTES.height.low, PALETTES.height.high),
  intensity: buildLut(PALETTES.intensity.stops, PALETTES.intensity.low, PALETTES.intensity.high),
  range: buildLut(PALETTES.range.stops, PALETTES.range.low, PALETTES.range.high),
};

/**
 * Write the colours of a sweep into `out` (3 bytes a point).
 * @param {Sweep} sweep
 * @param {ColorMode} mode
 * @param {Uint8Array} out
 */
export function colorSweep(sweep, mode, out) {
  const lut = LUTS[mode];
  const { low, high } = PALETTES[mode];
  const { positions, intensity, count } = sweep;
  const ground = sweep.groundZ ?? 0;
  // Sensors report intensity as 0..1 or 0..255; a sweep of zeros (no intensity) stays one colour.
  const intensityScale = sweep.maxIntensity > 1 ? 1 / 255 : 1;
  const scale = (LUT_SIZE - 1) / (high - low);
  for (let i = 0, p = 0; i < count; i++, p += 3) {
    let value;
    if (mode === 'height') value = positions[p + 2] - ground;
    else if (mode === 'range') value = Math.hypot(positions[p], positions[p + 1]);
    else value = Math.sqrt(intensity[i] * intensityScale); // most returns are dim: spread them out
    let slot = Math.round((value - low) * scale);
    slot = slot < 0 ? 0 : slot >= LUT_SIZE ? LUT_SIZE - 1 : slot;
    out[p] = lut[slot * 3];
    out[p + 1] = lut[slot * 3 + 1];
    out[p + 2] = lut[slot * 3 + 2];
  }
}

export class PointCloud {
  constructor() {
    this.geometry = new THREE.BufferGeometry();
    this.material = new THREE.PointsMaterial({ size: 2, sizeAttenuation: false, vertexColors: true });
    this.object = new THREE.Points(this.geometry, this.material);
    // The cloud spans the whole view; its bounds would only cost a recomputation per frame.
    this.object.frustumCulled = false;
    /** @type {Sweep | null} */
    this.sweep = null;
    /** @type {ColorMode} */
    this.mode = 'height';
    this.capacity = 0;
    this.allocate(1);
  }

  /** @param {number} capacity points */
  allocate(capacity) {
    this.capacity = capacity;
    const position = new THREE.BufferAttribute(new Float32Array(capacity * 3), 3);
    const color = new THREE.BufferAttribute(new Uint8Array(capacity * 3), 3, true);
    position.setUsage(THREE.DynamicDrawUsage);
    color.setUsage(THREE.DynamicDrawUsage);
    this.geometry.setAttribute('position', position);
    this.geometry.setAttribute('color', color);
  }

  /**
   * Show a sweep (null: none), reusing the buffers.
   * @param {Sweep | null} sweep
   */
  setSweep(sweep) {
    this.sweep = sweep;
    if (!sweep) {
      this.geometry.setDrawRange(0, 0);
      return;
    }
    if (sweep.count > this.capacity) {
      // Grow with headroom: sweeps of one scene differ by a few percent.
      this.geometry.dispose();
      this.allocate(Math.ceil(sweep.count * 1.1));
    }
    const position = /** @type {THREE.BufferAttribute} */ (this.geometry.getAttribute('position'));
    /** @type {Float32Array} */ (position.array).set(sweep.positions);
    position.clearUpdateRanges();
    position.addUpdateRange(0, sweep.count * 3);
    position.needsUpdate = true;
    this.recolor();
    this.geometry.setDrawRange(0, sweep.count);
  }

  /** @param {ColorMode} mode */
  setColorMode(mode) {
    this.mode = mode;
    this.recolor();
  }

  recolor() {
    if (!this.sweep) return;
    const color = /** @type {THREE.BufferAttribute} */ (this.geometry.getAttribute('color'));
    colorSweep(this.sweep, this.mode, /** @type {Uint8Array} */ (color.array));
    color.clearUpdateRanges();
    color.addUpdateRange(0, this.sweep.count * 3);
    color.needsUpdate = true;
  }

  get count() {
    return this.sweep ? this.sweep.count : 0;
  }

  dispose() {
    this.geometry.dispose();
    this.material.dispose();
  }
}
