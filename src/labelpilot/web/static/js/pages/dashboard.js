// @ts-check
/**
 * The personal dashboard at the top of the home page: KPI tiles with the peer comparison, shapes per
 * hour by day against the team, how much automation did and review accepted, the work per object
 * class, and (for managers) the team section. Live:
 * an EventSource on `/api/kpis/stream` brings the caller's KPIs whenever anything happens in the
 * project, so a number changes within a second of the edit that moved it, without a reload.
 */

import { api as defaultApi, ApiError } from '../api.js';
import { DayChart } from '../charts.js';
import { dayLabel, dayRange, formatNumber, perDay } from '../kpiFormat.js';
import { CLASS_COLUMNS, mountClassTable } from './dashboardClasses.js';
import { mountTeam } from './dashboardTeam.js';
import { mountAdoption, mountTiles } from './dashboardTiles.js';

/**
 * @typedef {import('../api.js').Api} Api
 * @typedef {import('../types.js').Project} Project
 * @typedef {import('../types.js').User} User
 * @typedef {import('../kpiFormat.js').MyKpis} MyKpis
 * @typedef {'connecting' | 'live' | 'reconnecting' | 'offline'} LiveState
 * @typedef {object} DashboardOptions
 * @property {User} user
 * @property {Project[]} projects
 * @property {Api} [client]
 * @property {() => void} onLoggedOut called when the session turns out to be gone
 */

const STREAM_PATH = '/api/kpis/stream';
/** A busy project sends many updates; the team section reloads at most this often. */
const TEAM_REFRESH_MS = 1000;
/** Waits before reopening a stream the server refused or ended (the browser retries dropped ones itself). */
const RETRY_MS = [1000, 2000, 5000, 10_000, 30_000];
const CHART_DAYS = 14;
const PROJECT_KEY = 'labelpilot.dashboard.project';
const LIVE_TEXT = /** @type {Record<LiveState, string>} */ ({
  connecting: 'Connecting\u2026',
  live: 'Live',
  reconnecting: 'Reconnecting\u2026',
  offline: 'Offline',
});

/**
 * @param {ParentNode} root
 * @param {string} id
 * @returns {HTMLElement}
 */
function part(root, id) {
  const element = root.querySelector(`#${id}`);
  if (!(element instanceof HTMLElement)) throw new Error(`the dashboard has no #${id}`);
  return element;
}

/**
 * The server-sent KPI updates of one project. Reopens the stream after the server refused or ended it
 * (with a growing wait), and reports a lost session instead of retrying forever.
 */
class KpiStream {
  /**
   * @param {number} projectId
   * @param {{onKpi: (payload: MyKpis) => void, onState: (state: LiveState) => void, onReopen: () => void,
   *          onLoggedOut: () => void, client: Api}} handlers
   */
  constructor(projectId, handlers) {
    this.url = `${STREAM_PATH}?${new URLSearchParams({ project_id: String(projectId) })}`;
    this.handlers = handlers;
    /** @type {EventSource | null} */
    this.source = null;
    this.failures = 0;
    this.opened = false;
    /** @type {number | undefined} */
    this.retryTimer = undefined;
  }

  open() {
    const source = new EventSource(this.url);
    this.source = source;
    source.addEventListener('open', () => {
      this.failures = 0;
      this.handlers.onState('live');
      // Whatever happened while the stream was down is in a fresh read.
      if (this.opened) this.handlers.onReopen();
      this.opened = true;
    });
    source.addEventListener('kpi', (event) => {
      this.handlers.onKpi(JSON.parse(/** @type {MessageEvent<string>} */ (event).data));
    });
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CONNECTING) {
        this.handlers.onState('reconnecting');
        return;
      }
      source.close();
      this.handlers.onState('offline');
      void this.retry();
    });
  }

  async retry() {
    try {
      await this.handlers.client.me();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        this.handlers.onLoggedOut();
        return;
      }
    }
    const wait = RETRY_MS[Math.min(this.failures, RETRY_MS.length - 1)];
    this.failures += 1;
    this.retryTimer = window.setTimeout(() => this.open(), wait);
  }

  close() {
    window.clearTimeout(this.retryTimer);
    this.source?.close();
    this.source = null;
  }
}

/**
 * Calls `task` at most once per `ms`, always once after the last request.
 * @param {() => Promise<void>} task
 * @param {number} ms
 */
function throttled(task, ms) {
  let waiting = false;
  let again = false;
  const run = async () => {
    waiting = true;
    try {
      await task();
    } finally {
      window.setTimeout(() => {
        waiting = false;
        if (again) {
          again = false;
          void run();
        }
      }, ms);
    }
  };
  return () => {
    if (waiting) again = true;
    else void run();
  };
}

/** @param {Project[]} projects */
function initialProject(projects) {
  const stored = Number(localStorage.getItem(PROJECT_KEY));
  return projects.find((p) => p.id === stored) ?? projects[0];
}

/**
 * Show the dashboard in `root` (the `#dashboard` section of tasks.html) for the first (or the last
 * chosen) project of the caller, and keep it live.
 * @param {HTMLElement} root
 * @param {DashboardOptions} options
 */
export async function mountDashboard(root, { user, projects, client = defaultApi, onLoggedOut }) {
  if (projects.length === 0) {
    root.hidden = true;
    return;
  }
  const message = part(root, 'dashboard-message');
  const live = part(root, 'live-status');
  const picker = /** @type {HTMLSelectElement} */ (part(root, 'dashboard-project'));
  const teamSection = part(root, 'team');
  const showTiles = mountTiles(part(root, 'kpi-tiles'));
  const showAdoption = mountAdoption(part(root, 'adoption'));
  const showClasses = mountClassTable(part(root, 'my-classes'), {
    columns: [CLASS_COLUMNS.shapes, CLASS_COLUMNS.active_seconds, CLASS_COLUMNS.seconds_per_shape],
    empty: 'Your classes show here once you work on tracks',
  });
  const rateChart = new DayChart(
    part(root, 'rate-chart'),
    [
      { label: 'You', kind: 'bars', color: 'var(--accent)' },
      { label: 'Team median', kind: 'reference', color: 'var(--candidate)' },
      { label: 'Top quartile', kind: 'reference', color: 'var(--confirmed)' },
    ],
    { height: 230, format: formatNumber, empty: 'Your shapes per hour show here once you submit a task' },
  );

  /** @type {KpiStream | null} */
  let stream = null;
  /** @type {import('./dashboardTeam.js').TeamSection | null} */
  let teamView = null;
  /** Counts renders, so that a slow first read never overwrites a newer live update. */
  let renders = 0;
  let shownProject = 0;

  /** @param {LiveState} state */
  const setLive = (state) => {
    live.dataset.state = state;
    live.textContent = LIVE_TEXT[state];
    root.dataset.live = state;
  };

  /** @param {MyKpis} payload */
  const render = (payload) => {
    renders += 1;
    showTiles(payload);
    showAdoption(payload.totals);
    showClasses(payload.classes ?? []);
    const range = dayRange(payload.days, CHART_DAYS);
    const peer = payload.peers?.shapes_per_hour;
    rateChart.update(range.map(dayLabel), [
      perDay(payload.days, range, 'shapes_per_hour'),
      [peer?.median ?? null],
      [peer?.top_quartile ?? null],
    ]);
    live.title = `Updated ${new Date().toLocaleTimeString()}`;
    root.dataset.updates = String(renders);
    root.dataset.loaded = 'true';
  };

  /** @param {unknown} error */
  const failed = (error) => {
    if (error instanceof ApiError && error.status === 401) {
      onLoggedOut();
      return;
    }
    message.textContent = `KPIs are not available right now: ${error instanceof Error ? error.message : error}`;
    message.className = 'error';
    message.hidden = false;
  };

  /** @param {number} projectId */
  const load = async (projectId) => {
    const before = renders;
    /** @type {MyKpis} */
    const payload = await client.get(`/api/kpis/me?${new URLSearchParams({ project_id: String(projectId) })}`);
    if (renders === before && shownProject === projectId) render(payload);
    message.hidden = true;
  };

  /** @param {Project} project */
  const show = async (project) => {
    stream?.close();
    shownProject = project.id;
    localStorage.setItem(PROJECT_KEY, String(project.id));
    const manages = project.role === 'manager' || user.is_admin;
    teamSection.hidden = !manages;
    const team = manages ? (teamView ??= mountTeam(teamSection, client, failed)) : null;
    team?.show(project);
    const refreshTeam = throttled(() => (team ? team.refresh().catch(failed) : Promise.resolve()), TEAM_REFRESH_MS);
    setLive('connecting');
    stream = new KpiStream(project.id, {
      client,
      onState: setLive,
      onLoggedOut,
      onKpi: (payload) => {
        render(payload);
        refreshTeam();
      },
      onReopen: () => {
        load(project.id).catch(failed);
        refreshTeam();
      },
    });
    stream.open();
    await Promise.all([load(project.id), team?.refresh()]).catch(failed);
  };

  picker.replaceChildren(
    ...projects.map((project) => {
      const option = document.createElement('option');
      option.value = String(project.id);
      option.textContent = project.name;
      return option;
    }),
  );
  const first = initialProject(projects);
  picker.value = String(first.id);
  picker.hidden = projects.length < 2;
  picker.addEventListener('change', () => {
    const project = projects.find((p) => String(p.id) === picker.value);
    if (project) void show(project);
  });
  // A page kept in the back-forward cache must not hold a connection; it reconnects when shown again.
  window.addEventListener('pagehide', () => stream?.close());
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) stream?.open();
  });
  await show(first);
}
