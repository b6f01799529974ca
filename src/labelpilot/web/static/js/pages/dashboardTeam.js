// @ts-check
/**
 * The manager's "Team" section of the dashboard: one row per person (with the acceptance in review),
 * the team's shapes per euro over the days, where the time goes (active seconds by the kind of action
 * that ended each stretch) and the team's work per object class. Read from `GET /api/projects/{id}/kpis`;
 * the CSV links are the same route with `?format=csv&table=people|days|classes`.
 */

import { BarList, DayChart } from '../charts.js';
import {
  actionName,
  dayLabel,
  dayRange,
  DURATION_TICKS,
  formatAcceptance,
  formatCount,
  formatDuration,
  formatDurationTick,
  formatNumber,
  formatShare,
  perDay,
  reviewOutcome,
  userName,
} from '../kpiFormat.js';
import { CLASS_COLUMNS, mountClassTable } from './dashboardClasses.js';
import { el } from './dashboardTiles.js';

/**
 * @typedef {import('../api.js').Api} Api
 * @typedef {import('../kpiFormat.js').Kpi} Kpi
 * @typedef {import('../kpiFormat.js').PersonKpi} PersonKpi
 * @typedef {import('../kpiFormat.js').ProjectKpis} ProjectKpis
 * @typedef {import('../types.js').Project & {hourly_cost_eur?: number, show_peer_names?: boolean}} KpiProject
 *   a project with its KPI settings (`GET /api/projects` answers them)
 * @typedef {{show: (project: KpiProject) => void, refresh: () => Promise<void>}} TeamSection
 */

/** Days the team chart shows at least. */
const CHART_DAYS = 14;

/**
 * @typedef {object} Column
 * @property {string} title
 * @property {(person: PersonKpi) => string} cell
 * @property {(person: PersonKpi) => number | null} [sort] the value people are ordered by, when numeric
 * @property {(person: PersonKpi) => string} [hint] the cell's title (e.g. the counts behind a rate)
 */
/** @type {Column[]} */
const COLUMNS = [
  { title: 'Person', cell: (p) => userName(p.user) },
  { title: 'Active time', cell: (p) => formatDuration(p.active_seconds), sort: (p) => p.active_seconds },
  { title: 'Shapes', cell: (p) => formatCount(p.shapes), sort: (p) => p.shapes },
  { title: 'Shapes / h', cell: (p) => formatNumber(p.shapes_per_hour), sort: (p) => p.shapes_per_hour },
  { title: 's / shape', cell: (p) => formatNumber(p.seconds_per_shape), sort: (p) => p.seconds_per_shape },
  { title: 'Shapes / \u20ac', cell: (p) => formatNumber(p.shapes_per_euro), sort: (p) => p.shapes_per_euro },
  {
    title: 'From candidates',
    cell: (p) => formatShare(p.candidates_confirmed, (p.candidates_confirmed ?? 0) + (p.tracks_drawn ?? 0)),
  },
  {
    title: 'Stationary',
    cell: (p) => formatShare(p.stationary_tracks, (p.candidates_confirmed ?? 0) + (p.tracks_drawn ?? 0)),
  },
  { title: 'Nudges followed', cell: (p) => `${formatCount(p.nudges_followed ?? 0)} / ${formatCount(p.nudges_shown ?? 0)}` },
  {
    title: 'Accepted',
    cell: (p) => {
      const { accepted, decided } = reviewOutcome(p);
      return formatShare(accepted, decided);
    },
    sort: (p) => p.acceptance_rate,
    hint: formatAcceptance,
  },
];
/** The tables `?format=csv` offers, by the `table` parameter. */
const CSV_TABLES = ['people', 'days', 'classes'];

/**
 * @param {HTMLElement} section the `#team` section of tasks.html
 * @param {string} id
 * @returns {HTMLElement}
 */
function part(section, id) {
  const element = section.querySelector(`#${id}`);
  if (!(element instanceof HTMLElement)) throw new Error(`the team section has no #${id}`);
  return element;
}

/**
 * The people, best pace first; people without a pace (no shapes yet) last, by active time.
 * @param {PersonKpi[]} people
 */
function ranked(people) {
  return [...people].sort(
    (a, b) =>
      (b.shapes_per_hour ?? -1) - (a.shapes_per_hour ?? -1) || (b.active_seconds ?? 0) - (a.active_seconds ?? 0),
  );
}

/**
 * @param {HTMLTableSectionElement} body
 * @param {PersonKpi[]} people
 * @param {Kpi} team
 */
function renderPeople(body, people, team) {
  if (people.length === 0) {
    const cell = el('td', 'empty', 'Nobody in this project has recorded any work yet.');
    cell.colSpan = COLUMNS.length;
    const row = el('tr');
    row.append(cell);
    body.replaceChildren(row);
    return;
  }
  const rows = ranked(people).map((person) => {
    const row = el('tr');
    row.dataset.user = userName(person.user);
    row.append(...cells(person));
    return row;
  });
  const total = el('tr', 'total');
  total.append(...cells(/** @type {PersonKpi} */ ({ ...team, user: 'Team' })));
  body.replaceChildren(...rows, total);
}

/** @param {PersonKpi} person */
function cells(person) {
  return COLUMNS.map((column, i) => {
    const cell = el('td', i === 0 ? 'person' : 'num', column.cell(person));
    if (column.hint) cell.title = column.hint(person);
    return cell;
  });
}

/**
 * Group event kinds that read the same ("keyframe_set", "keyframes_set") and drop empty ones.
 * @param {Record<string, number>} secondsByAction
 */
function timeByAction(secondsByAction) {
  /** @type {Map<string, number>} */
  const byName = new Map();
  for (const [kind, seconds] of Object.entries(secondsByAction)) {
    if (!(seconds > 0)) continue;
    const name = actionName(kind);
    byName.set(name, (byName.get(name) ?? 0) + seconds);
  }
  return [...byName].map(([name, value]) => ({ name, value }));
}

/**
 * Wire the team section (shown by the caller for managers): `show` switches to a project, `refresh`
 * loads and draws its KPIs. The settings (hourly cost, peer names) are saved as soon as they change;
 * the server records the change as an event, so every open dashboard recomputes through its stream.
 * @param {HTMLElement} section
 * @param {Api} client
 * @param {(error: unknown) => void} failed
 * @returns {TeamSection}
 */
export function mountTeam(section, client, failed) {
  const body = /** @type {HTMLTableSectionElement} */ (part(section, 'team-body'));
  const head = part(section, 'team-head');
  const summary = part(section, 'team-summary');
  const csvLinks = /** @type {HTMLAnchorElement[]} */ (
    CSV_TABLES.map((table) => part(section, `team-csv-${table}`))
  );
  const cost = /** @type {HTMLInputElement} */ (part(section, 'hourly-cost'));
  const names = /** @type {HTMLInputElement} */ (part(section, 'show-peer-names'));
  /** @type {KpiProject | null} */
  let project = null;
  const headRow = el('tr');
  headRow.append(...COLUMNS.map((column, i) => el('th', i === 0 ? '' : 'num', column.title)));
  head.replaceChildren(headRow);

  const euroChart = new DayChart(
    part(section, 'team-euro-chart'),
    [
      { label: 'Team, per day', kind: 'bars', color: 'var(--confirmed)' },
      { label: 'Whole period', kind: 'reference', color: 'var(--text-muted)' },
    ],
    { height: 200, format: formatNumber, empty: 'No delivered shapes yet' },
  );
  const showClasses = mountClassTable(part(section, 'team-classes'), {
    columns: [
      CLASS_COLUMNS.tracks,
      CLASS_COLUMNS.shapes,
      CLASS_COLUMNS.active_seconds,
      CLASS_COLUMNS.shapes_per_hour,
      CLASS_COLUMNS.seconds_per_shape,
    ],
    empty: 'No work on any class yet',
  });
  const timeChart = new BarList(part(section, 'time-chart'), {
    label: 'Active time',
    color: 'var(--accent)',
    format: formatDuration,
    axisFormat: formatDurationTick,
    axisIncrs: DURATION_TICKS,
    empty: 'No active time recorded yet',
  });

  /** @param {{hourly_cost_eur?: number, show_peer_names?: boolean}} change */
  const save = async (change) => {
    if (!project) return;
    const current = project;
    try {
      Object.assign(current, await client.patch(`/api/projects/${current.id}`, change));
    } catch (error) {
      failed(error);
    }
    cost.value = String(current.hourly_cost_eur ?? '');
    names.checked = Boolean(current.show_peer_names);
  };
  cost.addEventListener('change', () => {
    const value = cost.valueAsNumber;
    if (Number.isFinite(value) && value >= 0) void save({ hourly_cost_eur: value });
    else cost.value = String(project?.hourly_cost_eur ?? '');
  });
  names.addEventListener('change', () => void save({ show_peer_names: names.checked }));

  return {
    show(next) {
      project = next;
      CSV_TABLES.forEach((table, i) => {
        csvLinks[i].href = `/api/projects/${next.id}/kpis?${new URLSearchParams({ format: 'csv', table })}`;
        csvLinks[i].download = `project-${next.id}-kpis-${table}.csv`;
      });
      cost.value = String(next.hourly_cost_eur ?? '');
      names.checked = Boolean(next.show_peer_names);
    },
    async refresh() {
      if (!project) return;
      /** @type {ProjectKpis} */
      const kpis = await client.get(`/api/projects/${project.id}/kpis`);
      renderPeople(body, kpis.people, kpis.team);
      const active = kpis.people.filter((p) => (p.active_seconds ?? 0) > 0).length;
      summary.textContent =
        `${active} of ${kpis.people.length} people active \u00b7 ${formatDuration(kpis.team.active_seconds ?? 0)}` +
        ` \u00b7 ${formatCount(kpis.team.shapes ?? 0)} shapes`;
      const range = dayRange(kpis.days, CHART_DAYS);
      euroChart.update(range.map(dayLabel), [perDay(kpis.days, range, 'shapes_per_euro'), [kpis.team.shapes_per_euro]]);
      timeChart.update(timeByAction(kpis.seconds_by_action));
      showClasses(kpis.classes);
      section.dataset.loaded = 'true';
    },
  };
}
