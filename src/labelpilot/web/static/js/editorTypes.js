// @ts-check
/**
 * JSDoc types of the editor core (model, controller, views): the API payloads of types.js under the
 * names the editor uses, and what the editor adds on top of them.
 */

/** @typedef {import('./types.js').Track} Track */
/** @typedef {import('./types.js').Shapes} Shapes */
/** @typedef {import('./types.js').TrackWithShapes} EditResult */
/** @typedef {import('./types.js').Task} Task */
/** @typedef {import('./types.js').Scene} Scene */
/** @typedef {import('./types.js').Frame} Frame */
/** @typedef {import('./types.js').Sensor} Sensor */
/** @typedef {import('./types.js').Layer} Layer */
/** @typedef {import('./types.js').SizePriors} SizePriors */
/** @typedef {import('./types.js').GuidanceAction} GuidanceAction */
/** @typedef {import('./types.js').GuidanceKind} ActionKind */
/** @typedef {import('./types.js').Nudge} Nudge */

/**
 * A world pose in the shape the API accepts.
 * @typedef {{center: number[], quat_xyzw: number[]}} WorldPose
 */

/**
 * One cuboid of one track at one frame, as the views draw it.
 * @typedef {Object} ShapeAt
 * @property {string} id
 * @property {'track' | 'candidate'} kind
 * @property {string} label
 * @property {string} status
 * @property {boolean} stationary
 * @property {boolean} keyframe
 * @property {number[]} center world
 * @property {number[]} size length, width, height
 * @property {number[]} quat x, y, z, w
 * @property {number} yaw
 */

/** @typedef {'idle' | 'draw' | 'play'} Mode */
/** @typedef {'saved' | 'saving' | 'error'} SaveState */

/**
 * Where the guidance (or a nudge) wants the person to look.
 * @typedef {Object} Focus
 * @property {string | null} trackId
 * @property {number} frame
 * @property {string} view bev | side | back | top
 * @property {number[] | null} center world point to centre on (a missed object)
 */

/**
 * A conflict: my intended state of a track against the server's.
 * @typedef {Object} Conflict
 * @property {string} action what I was doing
 * @property {string} message the server's reason
 * @property {Track | null} mine
 * @property {Track} theirs
 */

/**
 * Detail of each event the model emits.
 * @typedef {Object} EditorEventMap
 * @property {{index: number}} frame
 * @property {{}} tracks
 * @property {{id: string | null}} selection
 * @property {{mode: Mode}} mode
 * @property {{}} guidance
 * @property {{state: SaveState, message?: string}} save
 * @property {Conflict} conflict
 * @property {{}} kpi
 * @property {Focus} focus
 * @property {{message: string, level: 'info' | 'error'}} notice
 */

export {};
