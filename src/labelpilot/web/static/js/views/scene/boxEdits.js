// @ts-check
/**
 * Turning what the scene view's tools produce in the ego frame (a close-up drag, a drawn
 * footprint) into the world-frame edits the controller takes. Pure functions.
 */

import { fitBoxToPoints, groundUnder } from '../../boxFit.js';
import { invertRigid, normalizeYaw, pointsInBox, quatFromYaw, transformBox, transformPoint, yawOfMatrix } from '../../geometry.js';

/** @typedef {import('../../geometry.js').Box} Box */
/** @typedef {import('../../geometry.js').Mat4} Mat4 */
/** @typedef {import('../../frameCache.js').Sweep} Sweep */
/** @typedef {import('./closeUp.js').BoxEdit} BoxEdit */
/** @typedef {import('./drawTool.js').Footprint} Footprint */
/** @typedef {import('../../model.js').EditorModel} EditorModel */
/** @typedef {import('../../controller.js').EditorController} EditorController */

/** How far (metres) around a drawn footprint the ground under it is looked for. */
const GROUND_SEARCH = 0.5;

/**
 * The world-frame edits of a close-up drag: a new size (or null) and a new pose (or null). The
 * heading changes by the drag's turn, so a box with pitch or roll keeps them.
 * @param {BoxEdit} edit  ego frame
 * @param {Mat4} worldTEgo
 * @param {number} worldYaw  the box's yaw in the world before the drag
 * @returns {{size: number[] | null, pose: {center: number[], yaw?: number} | null}}
 */
export function worldEdit(edit, worldTEgo, worldYaw) {
  const { base, draft } = edit;
  const resized = draft.size.some((v, k) => Math.abs(v - base.size[k]) > 1e-4);
  const moved = draft.center.some((v, k) => Math.abs(v - base.center[k]) > 1e-4);
  const turned = Math.abs(draft.yaw - base.yaw) > 1e-5;
  /** @type {{center: number[], yaw?: number} | null} */
  let pose = null;
  if (moved || turned) {
    pose = { center: transformPoint(worldTEgo, draft.center) };
    if (turned) pose.yaw = normalizeYaw(worldYaw + draft.yaw - base.yaw);
  }
  return { size: resized ? [...draft.size] : null, pose };
}

/**
 * Send a close-up drag of the selected box at `frame` to the controller: the size first, then
 * the pose (world frame). Nothing when the editor has moved to another frame meanwhile.
 * @param {EditorModel} model
 * @param {EditorController} controller
 * @param {number} frame  the frame the drag was made in
 * @param {BoxEdit} edit
 */
export async function sendCloseUpEdit(model, controller, frame, edit) {
  let id = model.selectedId;
  const shape = id ? model.shapeOf(id, frame) : null;
  if (!id || !shape || frame !== model.frameIndex) return;
  const { size, pose } = worldEdit(edit, model.egoToWorld(frame), shape.yaw);
  if (size) {
    await controller.resizeBox(id, size);
    // Editing a candidate confirms it into a new track, and the selection follows it.
    id = model.selectedId ?? id;
  }
  if (pose) await controller.moveBox(id, pose);
}

/**
 * The box a drawn footprint stands for (ego frame): the given height, standing on the ground
 * under the footprint (the lowest points around it), else on `fallbackGround`.
 * @param {Footprint} footprint
 * @param {number} height
 * @param {Sweep | null} sweep
 * @param {number} fallbackGround
 * @returns {Box}
 */
export function footprintBox(footprint, height, sweep, fallbackGround) {
  const quat = quatFromYaw(footprint.yaw);
  const [x, y] = footprint.center;
  let ground = fallbackGround;
  if (sweep) {
    /** @type {Box} a tall column over the footprint */
    const column = { center: [x, y, fallbackGround], size: [footprint.length, footprint.width, 6], yaw: footprint.yaw, quat };
    const around = pointsInBox(sweep.positions, sweep.count, column, GROUND_SEARCH);
    ground = groundUnder(sweep.positions, around, sweep.groundZ) ?? fallbackGround;
  }
  return { center: [x, y, ground + height / 2], size: [footprint.length, footprint.width, height], yaw: footprint.yaw, quat };
}

/**
 * An ego-frame box in the world frame, as `controller.createBox` takes it.
 * @param {Box} box
 * @param {Mat4} worldTEgo
 * @returns {{center: number[], size: number[], yaw: number}}
 */
export function boxToWorld(box, worldTEgo) {
  return {
    center: transformPoint(worldTEgo, box.center),
    size: [...box.size],
    yaw: normalizeYaw(box.yaw + yawOfMatrix(worldTEgo)),
  };
}

/**
 * The tight box around the points near a world-frame box (boxFit.js, in the sweep's ego frame),
 * back in the world frame with the box's own heading; null with too few points.
 * @param {Sweep} sweep
 * @param {{center: number[], size: number[], quat: number[], yaw: number}} shape  world frame
 * @param {Mat4} worldTEgo  the sweep's frame
 * @returns {{center: number[], size: number[], yaw: number} | null}
 */
export function fitInWorld(sweep, shape, worldTEgo) {
  const egoBox = transformBox(invertRigid(worldTEgo), shape);
  const fitted = fitBoxToPoints(sweep.positions, sweep.count, egoBox, sweep.groundZ);
  if (!fitted) return null;
  return { center: transformPoint(worldTEgo, fitted.center), size: [...fitted.size], yaw: shape.yaw };
}
