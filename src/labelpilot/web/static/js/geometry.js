// @ts-check
/**
 * Pure geometry shared by the 3D views, the camera panel and the controller: rigid poses as 4x4
 * column-major matrices (the layout three.js and `model.worldToEgo` use), quaternions (x, y, z, w)
 * and yaw, cuboid corners and edges, points inside a box, ray picking. No DOM, no three.js.
 *
 * Conventions are the back end's (DESIGN.md): the API sends poses as 12 numbers, a 3x4 row-major
 * `a_T_b`; a cuboid has centre, size (length along its x, width along y, height along z) and a
 * rotation (yaw about z, or a full quaternion).
 */

/** @typedef {[number, number, number]} Vec3 */
/** @typedef {[number, number, number, number]} Quat  x, y, z, w */
/** @typedef {Float64Array} Mat4  4x4, column-major */
/**
 * A cuboid in some frame (world or ego).
 * @typedef {{center: Vec3, size: Vec3, yaw: number, quat: Quat}} Box
 */

/** @returns {Mat4} */
export function identity() {
  const m = new Float64Array(16);
  m[0] = m[5] = m[10] = m[15] = 1;
  return m;
}

/**
 * A 3x4 row-major pose (as the API sends `world_T_ego`, `ego_T_sensor`) as a 4x4 column-major matrix.
 * @param {ArrayLike<number>} pose
 * @returns {Mat4}
 */
export function poseToMatrix(pose) {
  if (pose.length !== 12) throw new Error(`a pose has 12 numbers, got ${pose.length}`);
  const m = identity();
  for (let row = 0; row < 3; row++) {
    for (let col = 0; col < 4; col++) m[col * 4 + row] = pose[row * 4 + col];
  }
  return m;
}

/**
 * The inverse of a rigid transform (rotation + translation): R^T, -R^T t.
 * @param {Mat4} m
 * @returns {Mat4}
 */
export function invertRigid(m) {
  const out = identity();
  for (let row = 0; row < 3; row++) {
    for (let col = 0; col < 3; col++) out[col * 4 + row] = m[row * 4 + col];
  }
  for (let row = 0; row < 3; row++) {
    out[12 + row] = -(out[row] * m[12] + out[4 + row] * m[13] + out[8 + row] * m[14]);
  }
  return out;
}

/**
 * a * b (apply b first).
 * @param {Mat4} a
 * @param {Mat4} b
 * @returns {Mat4}
 */
export function multiply(a, b) {
  const out = new Float64Array(16);
  for (let col = 0; col < 4; col++) {
    for (let row = 0; row < 4; row++) {
      let sum = 0;
      for (let k = 0; k < 4; k++) sum += a[k * 4 + row] * b[col * 4 + k];
      out[col * 4 + row] = sum;
    }
  }
  return out;
}

/**
 * @param {Mat4} m
 * @param {ArrayLike<number>} p
 * @returns {Vec3}
 */
export function transformPoint(m, p) {
  const [x, y, z] = [p[0], p[1], p[2]];
  return [
    m[0] * x + m[4] * y + m[8] * z + m[12],
    m[1] * x + m[5] * y + m[9] * z + m[13],
    m[2] * x + m[6] * y + m[10] * z + m[14],
  ];
}

/**
 * Transform packed xyz triples into `out` (which may be `xyz` itself); `stride` is the number of
 * floats per point in `xyz` (4 for raw sweeps x, y, z, intensity; 3 for packed positions).
 * @param {Mat4} m
 * @param {Float32Array} xyz
 * @param {number} count
 * @param {number} stride
 * @param {Float32Array} out  packed x, y, z (3 floats a point)
 */
export function transformPoints(m, xyz, count, stride, out) {
  const [r00, r10, r20, , r01, r11, r21, , r02, r12, r22, , tx, ty, tz] = m;
  for (let i = 0, s = 0, o = 0; i < count; i++, s += stride, o += 3) {
    const x = xyz[s];
    const y = xyz[s + 1];
    const z = xyz[s + 2];
    out[o] = r00 * x + r01 * y + r02 * z + tx;
    out[o + 1] = r10 * x + r11 * y + r12 * z + ty;
    out[o + 2] = r20 * x + r21 * y + r22 * z + tz;
  }
}

/**
 * Yaw normalised to (-pi, pi].
 * @param {number} yaw
 */
export function normalizeYaw(yaw) {
  let y = yaw % (2 * Math.PI);
  if (y > Math.PI) y -= 2 * Math.PI;
  if (y <= -Math.PI) y += 2 * Math.PI;
  return y;
}

/**
 * @param {number} yaw
 * @returns {Quat}
 */
export function quatFromYaw(yaw) {
  return [0, 0, Math.sin(yaw / 2), Math.cos(yaw / 2)];
}

/**
 * The heading of a rotation: the angle of its x axis projected on the ground plane.
 * @param {ArrayLike<number>} q  x, y, z, w
 */
export function yawFromQuat(q) {
  const [x, y, z, w] = [q[0], q[1], q[2], q[3]];
  return Math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z));
}

/**
 * The rotation part of a matrix as a unit quaternion (x, y, z, w).
 * @param {Mat4} m
 * @returns {Quat}
 */
export function quatFromMatrix(m) {
  const [m00, m11, m22] = [m[0], m[5], m[10]];
  const trace = m00 + m11 + m22;
  /** @type {Quat} */
  let q;
  if (trace > 0) {
    const s = Math.sqrt(trace + 1) * 2;
    q = [(m[6] - m[9]) / s, (m[8] - m[2]) / s, (m[1] - m[4]) / s, s / 4];
  } else if (m00 > m11 && m00 > m22) {
    const s = Math.sqrt(1 + m00 - m11 - m22) * 2;
    q = [s / 4, (m[4] + m[1]) / s, (m[8] + m[2]) / s, (m[6] - m[9]) / s];
  } else if (m11 > m22) {
    const s = Math.sqrt(1 + m11 - m00 - m22) * 2;
    q = [(m[4] + m[1]) / s, s / 4, (m[9] + m[6]) / s, (m[8] - m[2]) / s];
  } else {
    const s = Math.sqrt(1 + m22 - m00 - m11) * 2;
    q = [(m[8] + m[2]) / s, (m[9] + m[6]) / s, s / 4, (m[1] - m[4]) / s];
  }
  const n = Math.hypot(...q);
  return [q[0] / n, q[1] / n, q[2] / n, q[3] / n];
}

/**
 * The 4x4 matrix of a rotation and a translation.
 * @param {ArrayLike<number>} q  x, y, z, w
 * @param {ArrayLike<number>} t
 * @returns {Mat4}
 */
export function matrixFromQuat(q, t = [0, 0, 0]) {
  const [x, y, z, w] = [q[0], q[1], q[2], q[3]];
  const m = identity();
  m[0] = 1 - 2 * (y * y + z * z);
  m[1] = 2 * (x * y + z * w);
  m[2] = 2 * (x * z - y * w);
  m[4] = 2 * (x * y - z * w);
  m[5] = 1 - 2 * (x * x + z * z);
  m[6] = 2 * (y * z + x * w);
  m[8] = 2 * (x * z + y * w);
  m[9] = 2 * (y * z - x * w);
  m[10] = 1 - 2 * (x * x + y * y);
  m[12] = t[0];
  m[13] = t[1];
  m[14] = t[2];
  return m;
}

/**
 * The heading (yaw) of a pose's rotation.
 * @param {Mat4} m
 */
export function yawOfMatrix(m) {
  return Math.atan2(m[1], m[0]);
}

/**
 * A box moved by a rigid transform (e.g. world -> ego with `model.worldToEgo(i)`).
 * @param {Mat4} m
 * @param {{center: ArrayLike<number>, size: ArrayLike<number>, quat?: ArrayLike<number> | null, yaw?: number}} box
 * @returns {Box}
 */
export function transformBox(m, box) {
  const quat = box.quat ?? quatFromYaw(box.yaw ?? 0);
  const rotated = multiply(m, matrixFromQuat(quat, box.center));
  const q = quatFromMatrix(rotated);
  return {
    center: [rotated[12], rotated[13], rotated[14]],
    size: [box.size[0], box.size[1], box.size[2]],
    yaw: normalizeYaw(yawOfMatrix(rotated)),
    quat: q,
  };
}

/**
 * The 4x4 matrix that maps the unit cube [-0.5, 0.5]^3 onto the box.
 * @param {Box} box
 * @returns {Mat4}
 */
export function boxMatrix(box) {
  const m = matrixFromQuat(box.quat, box.center);
  for (let col = 0; col < 3; col++) {
    for (let row = 0; row < 3; row++) m[col * 4 + row] *= box.size[col];
  }
  return m;
}

/**
 * Corner order: bit 0 = +x (front), bit 1 = +y (left), bit 2 = +z (top), so corner i is at
 * ((i & 1 ? +1 : -1) * l/2, (i & 2 ? +1 : -1) * w/2, (i & 4 ? +1 : -1) * h/2) in the box frame.
 * @param {Box} box
 * @returns {Vec3[]}
 */
export function boxCorners(box) {
  const m = boxMatrix(box);
  /** @type {Vec3[]} */
  const corners = [];
  for (let i = 0; i < 8; i++) {
    corners.push(transformPoint(m, [i & 1 ? 0.5 : -0.5, i & 2 ? 0.5 : -0.5, i & 4 ? 0.5 : -0.5]));
  }
  return corners;
}

/** The 12 edges of a cuboid as pairs of `boxCorners` indices: 4 along x, 4 along y, 4 along z. */
export const BOX_EDGES = /** @type {ReadonlyArray<[number, number]>} */ ([
  [0, 1], [2, 3], [4, 5], [6, 7],
  [0, 2], [1, 3], [4, 6], [5, 7],
  [0, 4], [1, 5], [2, 6], [3, 7],
]);

/** The front face's diagonals, which mark the heading in every view. */
export const FRONT_CROSS = /** @type {ReadonlyArray<[number, number]>} */ ([
  [1, 7],
  [3, 5],
]);

/**
 * Indices of the points inside an oriented box grown by `margin` metres on every side.
 * @param {Float32Array} xyz  packed x, y, z in the box's frame of reference
 * @param {number} count
 * @param {Box} box
 * @param {number} [margin]
 * @returns {Uint32Array}
 */
export function pointsInBox(xyz, count, box, margin = 0) {
  const local = invertRigid(matrixFromQuat(box.quat, box.center));
  const [hx, hy, hz] = [box.size[0] / 2 + margin, box.size[1] / 2 + margin, box.size[2] / 2 + margin];
  const [r00, r10, r20, , r01, r11, r21, , r02, r12, r22, , tx, ty, tz] = local;
  const radius = Math.hypot(hx, hy, hz);
  const [cx, cy, cz] = box.center;
  const hits = [];
  for (let i = 0, o = 0; i < count; i++, o += 3) {
    const x = xyz[o];
    const y = xyz[o + 1];
    const z = xyz[o + 2];
    // Cheap rejection first: almost every point of a sweep is far from any one box.
    if (Math.abs(x - cx) > radius || Math.abs(y - cy) > radius || Math.abs(z - cz) > radius) continue;
    const lx = r00 * x + r01 * y + r02 * z + tx;
    const ly = r10 * x + r11 * y + r12 * z + ty;
    const lz = r20 * x + r21 * y + r22 * z + tz;
    if (Math.abs(lx) <= hx && Math.abs(ly) <= hy && Math.abs(lz) <= hz) hits.push(i);
  }
  return Uint32Array.from(hits);
}

/**
 * Where a ray first enters a box (slab test in the box frame), or null when it misses.
 * @param {ArrayLike<number>} origin
 * @param {ArrayLike<number>} direction
 * @param {Box} box
 * @returns {number | null}  distance along `direction` (in its units)
 */
export function rayHitsBox(origin, direction, box) {
  const local = invertRigid(matrixFromQuat(box.quat, box.center));
  const o = transformPoint(local, origin);
  const d = [
    local[0] * direction[0] + local[4] * direction[1] + local[8] * direction[2],
    local[1] * direction[0] + local[5] * direction[1] + local[9] * direction[2],
    local[2] * direction[0] + local[6] * direction[1] + local[10] * direction[2],
  ];
  let near = -Infinity;
  let far = Infinity;
  for (let axis = 0; axis < 3; axis++) {
    const half = box.size[axis] / 2;
    if (Math.abs(d[axis]) < 1e-12) {
      if (Math.abs(o[axis]) > half) return null;
      continue;
    }
    const t1 = (-half - o[axis]) / d[axis];
    const t2 = (half - o[axis]) / d[axis];
    near = Math.max(near, Math.min(t1, t2));
    far = Math.min(far, Math.max(t1, t2));
  }
  if (near > far || far < 0) return null;
  return Math.max(near, 0);
}

/**
 * The value below which `fraction` of the numbers lie (nearest rank; sorts a copy).
 * @param {ArrayLike<number>} values
 * @param {number} fraction  0..1
 */
export function quantile(values, fraction) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.round(fraction * (sorted.length - 1))));
  return sorted[rank];
}
