// @ts-check
/**
 * The KPI payloads of `/api/kpis/me`, `/api/projects/{id}/kpis` and `/api/kpis/stream` (docs/api.md) as
 * JSDoc types, and how the dashboard writes their numbers. Every KPI may be null (no active time, no
 * shapes yet): null is written as a dash, never as 0, so "not measured" never reads as "zero output".
 */

/**
 * @typedef {object} Kpi
 * @property {number | null} active_seconds
 * @property {number | null} shapes
 * @property {number | null} shapes_per_hour
 * @property {number | null} seconds_per_shape
 * @property {number | null} shapes_per_euro
 * @property {number | null} candidates_confirmed
 * @property {number | null} tracks_drawn
 * @property {number | null} stationary_tracks
 * @property {number | null} nudges_shown
 * @property {number | null} nudges_followed
 * @property {number | null} tasks_accepted review decisions on the person's tasks: accepted ...
 * @property {number | null} tasks_rejected ... and sent back
 * @property {number | null} acceptance_rate accepted / decided, null while nothing was reviewed
 */
/** @typedef {Kpi & {day: string}} DayKpi one UTC day, "YYYY-MM-DD" */
/**
 * One object class: the shapes of the delivered tracks of the class, and the active time spent in
 * events on tracks of the class.
 * @typedef {Kpi & {label: string}} ClassKpi
 */
/**
 * Where the person stands among the project's annotators.
 * @typedef {object} PeerBenchmark
 * @property {number | null} value
 * @property {number | null} median
 * @property {number | null} top_quartile the expert pace (the better quartile's edge)
 * @property {number | null} percentile 0..100
 * @property {number | null} trend this week over the week before (1.1 = 10 % more)
 */
/** @typedef {'shapes_per_hour' | 'seconds_per_shape' | 'shapes_per_euro'} BenchmarkedKpi */
/** @typedef {string | {name: string}} KpiUser a user name (peers may be anonymised: "peer 1") */
/**
 * @typedef {object} MyKpis
 * @property {KpiUser} user
 * @property {number} project_id
 * @property {Kpi} totals
 * @property {DayKpi[]} days
 * @property {ClassKpi[]} classes
 * @property {Partial<Record<BenchmarkedKpi, PeerBenchmark>>} peers
 */
/** @typedef {Kpi & {user: KpiUser}} PersonKpi */
/**
 * @typedef {object} ProjectKpis
 * @property {number} project_id
 * @property {PersonKpi[]} people
 * @property {Kpi} team
 * @property {DayKpi[]} days
 * @property {ClassKpi[]} classes
 * @property {Record<string, number>} seconds_by_action event kind -> active seconds attributed to it
 */

export const DASH = '\u2014';
const DAY_MS = 86_400_000;

/** @param {KpiUser} user */
export function userName(user) {
  return typeof user === 'string' ? user : user.name;
}

/**
 * A rate with as many digits as it deserves: 1234, 123, 12.3, 1.23.
 * @param {number | null | undefined} value
 */
export function formatNumber(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  const size = Math.abs(value);
  if (size === 0) return '0';
  if (size >= 1000) return Math.round(value).toLocaleString('en-US');
  if (size >= 100) return value.toFixed(0);
  if (size >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/**
 * A count: whole, with thousands separators.
 * @param {number | null | undefined} value
 */
export function formatCount(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  return Math.round(value).toLocaleString('en-US');
}

/**
 * Active time the way people say it: "42 s", "17 min", "3 h 05 min".
 * @param {number | null | undefined} seconds
 */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return DASH;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** Round steps of an axis of durations (seconds): seconds to days. */
export const DURATION_TICKS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 432_000];

/**
 * An axis tick of a duration: "0", "30 s", "15 min", "2 h", "1.5 h".
 * @param {number | null} seconds
 */
export function formatDurationTick(seconds) {
  if (seconds === null || !Number.isFinite(seconds)) return '';
  if (seconds === 0) return '0';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  const hours = seconds / 3600;
  return `${Number.isInteger(hours) ? hours : hours.toFixed(1)} h`;
}

/**
 * "62nd" for 62.4.
 * @param {number} percentile
 */
export function ordinal(percentile) {
  const n = Math.round(percentile);
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' })[n % 10] ?? 'th';
  return `${n}${suffix}`;
}

/**
 * A share as a whole percentage, or a dash when there is nothing to share.
 * @param {number | null | undefined} part
 * @param {number | null | undefined} whole
 */
export function formatShare(part, whole) {
  if (!whole || part === null || part === undefined) return DASH;
  return `${Math.round((100 * part) / whole)} %`;
}

/**
 * The review decisions on a person's (or the team's) tasks: how many, and the acceptance rate.
 * @param {Kpi} kpi
 * @returns {{accepted: number, decided: number, rate: number | null}}
 */
export function reviewOutcome(kpi) {
  const accepted = kpi.tasks_accepted ?? 0;
  const decided = accepted + (kpi.tasks_rejected ?? 0);
  return { accepted, decided, rate: decided > 0 ? (kpi.acceptance_rate ?? accepted / decided) : null };
}

/**
 * "3 of 4 accepted (75 %)", or "not reviewed yet".
 * @param {Kpi} kpi
 */
export function formatAcceptance(kpi) {
  const { accepted, decided } = reviewOutcome(kpi);
  if (decided === 0) return 'not reviewed yet';
  return `${formatCount(accepted)} of ${formatCount(decided)} accepted (${formatShare(accepted, decided)})`;
}

/** @param {string} day "YYYY-MM-DD" */
export function dayTime(day) {
  return Date.parse(`${day}T00:00:00Z`);
}

/** @param {number} time ms since the epoch, a UTC midnight */
export function dayKey(time) {
  return new Date(time).toISOString().slice(0, 10);
}

/** @param {string} day "YYYY-MM-DD" -> "Dec 5" */
export function dayLabel(day) {
  return new Date(dayTime(day)).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

/**
 * Every day from the first one with data (at least `minDays` back from today) to today, so that charts
 * show idle days as gaps instead of hiding them.
 * @param {DayKpi[]} days
 * @param {number} minDays
 * @param {Date} [today]
 * @returns {string[]}
 */
export function dayRange(days, minDays, today = new Date()) {
  const last = Math.max(dayTime(dayKey(today.getTime())), ...days.map((d) => dayTime(d.day)));
  let first = last - (minDays - 1) * DAY_MS;
  for (const d of days) first = Math.min(first, dayTime(d.day));
  /** @type {string[]} */
  const range = [];
  for (let time = first; time <= last; time += DAY_MS) range.push(dayKey(time));
  return range;
}

/**
 * One KPI of each day of `range` (null where the day has no entry).
 * @param {DayKpi[]} days
 * @param {string[]} range
 * @param {keyof Kpi} kpi
 * @returns {(number | null)[]}
 */
export function perDay(days, range, kpi) {
  const byDay = new Map(days.map((d) => [d.day, d[kpi]]));
  return range.map((day) => byDay.get(day) ?? null);
}

/** Names of the event kinds whose time "where the time goes" shows; other kinds are spelled out. */
const ACTION_NAMES = /** @type {Record<string, string>} */ ({
  track_created: 'Drawing boxes',
  track_updated: 'Changing class or size',
  track_deleted: 'Deleting tracks',
  keyframe_set: 'Setting keyframes',
  keyframes_set: 'Setting keyframes',
  keyframe_deleted: 'Deleting keyframes',
  track_life_set: 'Trimming lives',
  track_extended: 'Extending tracks',
  life_accepted: 'Accepting lives',
  frames_absent_set: 'Marking absent frames',
  track_made_stationary: 'Making stationary',
  stationary_pose_set: 'Placing stationary boxes',
  track_made_moving: 'Making moving',
  candidate_confirmed: 'Confirming candidates',
  candidate_rejected: 'Rejecting candidates',
  candidate_reopened: 'Reopening candidates',
  frame_viewed: 'Looking through frames',
  heartbeat: 'In the editor, no edit',
  guidance_item_opened: 'Following guidance',
  nudge_shown: 'Reading nudges',
  nudge_followed: 'Following nudges',
  nudge_dismissed: 'Dismissing nudges',
  task_created: 'Creating tasks',
  task_assigned: 'Assigning tasks',
  task_started: 'Starting tasks',
  task_submitted: 'Submitting',
  task_accepted: 'Reviewing',
  task_rejected: 'Reviewing',
  project_settings_changed: 'Project settings',
});

/** @param {string} kind an event kind, e.g. "keyframe_set" */
export function actionName(kind) {
  const name = ACTION_NAMES[kind];
  if (name) return name;
  const words = kind.replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
