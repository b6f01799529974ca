// @ts-check
/**
 * JSDoc types of the API payloads the pages use (docs/api.md is the reference). Import them with
 * `@typedef {import('./types.js').Task} Task`; this module exports no values.
 *
 * Conventions: poses are 12 numbers (a 3x4 row-major world pose); quaternions are x, y, z, w;
 * sizes are length (x), width (y), height (z) in metres; timestamps are integer microseconds.
 */

/** @typedef {{id: number, name: string, is_admin: boolean}} User */
/** @typedef {{user: User, csrf_token: string}} LoginAnswer */
/** @typedef {{error: string, field?: string, problems?: {field: string, error: string}[], current?: any}} ErrorBody */

/** @typedef {'annotator' | 'reviewer' | 'coach' | 'manager'} Role */
/** @typedef {{id: number, name: string, role: Role | null}} Project */

/** @typedef {'queued' | 'in_progress' | 'submitted' | 'accepted' | 'rejected'} TaskState */
/**
 * @typedef {object} Task
 * @property {number} id
 * @property {number} project_id
 * @property {number} scene_id
 * @property {'annotate' | 'review' | 'practice'} kind
 * @property {TaskState} state
 * @property {string} layer the layer the task edits (e.g. "work")
 * @property {string | null} assignee user name
 * @property {number} priority
 * @property {number} version
 * @property {string} created_at ISO 8601
 * @property {string} updated_at ISO 8601
 */

/**
 * @typedef {object} SceneSummary
 * @property {number} id
 * @property {number} project_id
 * @property {string} name
 * @property {string} source_format
 * @property {number} frame_count
 * @property {number} duration_s
 * @property {string} created_at
 */
/** @typedef {{matrix: number[][], width: number, height: number, distortion: number[]}} Intrinsics */
/**
 * @typedef {object} Sensor
 * @property {string} name
 * @property {'lidar' | 'camera'} kind
 * @property {number[]} ego_T_sensor 3x4 row-major; cameras in the OpenCV convention (x right, y down, z forward)
 * @property {Intrinsics | null} intrinsics cameras only
 */
/** @typedef {{id: number, name: string, description: string, track_count: number, track_2d_count: number}} Layer */
/** @typedef {{summary: SceneSummary, sensors: Sensor[], layers: Layer[], notes: string[]}} Scene */
/**
 * @typedef {object} Frame
 * @property {number} index
 * @property {number} timestamp_us
 * @property {number[]} world_T_ego 3x4 row-major
 * @property {boolean} has_lidar
 * @property {number | null} lidar_points
 * @property {string[]} cameras names of the cameras with an image in this frame
 */

/** @typedef {'candidate' | 'confirmed' | 'rejected'} TrackStatus */
/**
 * A track as every edit answers it (also `current` of a 409, and the layer listing's `track`).
 * @typedef {object} Track
 * @property {number} id
 * @property {string} key the track's id in its source (e.g. "cand-0003")
 * @property {number} layer_id
 * @property {string} label
 * @property {Record<string, string | number | boolean>} attributes
 * @property {[number, number, number]} size length, width, height
 * @property {number} first_frame
 * @property {number} last_frame
 * @property {boolean} stationary
 * @property {number[] | null} stationary_pose 12 numbers when stationary
 * @property {Record<string, number[]>} keyframes frame (as a string) -> 12 numbers; empty when stationary
 * @property {number[]} absent_frames frames of the life without a shape
 * @property {{kind: 'manual' | 'imported' | 'candidate', source: string | null}} provenance source: the candidate layer
 * @property {TrackStatus} status
 * @property {number | null} score
 * @property {number} version send it back as `expected_version`
 * @property {boolean} deleted
 */
/**
 * The track's derived world-frame cuboids at every frame where it has a shape (parallel arrays).
 * @typedef {object} Shapes
 * @property {number[]} frames
 * @property {[number, number, number][]} centers
 * @property {[number, number, number][]} sizes
 * @property {[number, number, number, number][]} quats_xyzw
 * @property {number[]} yaws radians, (-pi, pi]
 */
/**
 * The answer of every track edit and one item of `GET /api/scenes/{id}/layers/{layer}/tracks`.
 * @typedef {object} TrackWithShapes
 * @property {Track} track
 * @property {Shapes} shapes
 * @property {Track} [candidate] a confirmation's candidate after it was copied into the task's layer
 */

/**
 * A pose as edits accept it: 12 numbers, or a centre with a yaw or a quaternion.
 * @typedef {number[] | {center: number[], yaw: number} | {center: number[], quat_xyzw: number[]}} PoseInput
 */

/** @typedef {{center: [number, number, number], size: [number, number, number], yaw: number, quaternion: [number, number, number, number]}} Cuboid */
/**
 * One item of `GET /api/scenes/{id}/frames/{i}/shapes?layer=`.
 * @typedef {object} FrameShape
 * @property {number} track_id
 * @property {string} key
 * @property {string} label
 * @property {TrackStatus} status
 * @property {boolean} stationary
 * @property {number | null} score
 * @property {number} version
 * @property {boolean} keyframe
 * @property {Cuboid} ego
 * @property {Cuboid} world
 */

/** @typedef {{mean: [number, number, number], std: [number, number, number], count: number}} SizePrior */
/** @typedef {Record<string, SizePrior>} SizePriors class label -> size prior */

/** @typedef {'confirm_stationary' | 'confirm_moving' | 'measure' | 'review_flag' | 'reject_false_positive' | 'look_at_missed' | 'accept_life' | 'check_end'} GuidanceKind */
/**
 * One next best action of `GET /api/scenes/{id}/guidance`, best first.
 * @typedef {object} GuidanceAction
 * @property {GuidanceKind} kind
 * @property {string} reason
 * @property {string | null} track_id a track id as a string
 * @property {string} layer
 * @property {number} frame
 * @property {'bev' | 'side' | 'back' | 'top'} view
 * @property {number[]} keyframes suggested keyframes (confirm_moving)
 * @property {number} saves_seconds
 * @property {number} cost_seconds
 * @property {number} priority
 * @property {string} key the editor key
 * @property {number[] | null} center_world
 * @property {number[] | null} [life] the proposed [first, last] frame (accept_life, check_end); the
 *   first and last frame a missed object was seen in (look_at_missed)
 * @property {MissedBox | null} [proposal] the box seen at a missed object's frame (look_at_missed)
 */
/**
 * A box the tool offers to start a track from: world centre, heading, size (length, width, height),
 * class (null: the class picked for drawing), and whether the object stood still where it was seen.
 * @typedef {{center: number[], yaw: number, size: number[], label: string | null, stationary: boolean}} MissedBox
 */
/**
 * A faster path for what the task's events show (`GET /api/tasks/{id}/nudges`).
 * @typedef {object} Nudge
 * @property {'make_stationary' | 'use_keyframes' | 'go_to_measurement_view'} kind
 * @property {string} message
 * @property {string | null} track_id
 * @property {GuidanceAction | null} action
 * @property {number} saves_seconds
 */

export {};
