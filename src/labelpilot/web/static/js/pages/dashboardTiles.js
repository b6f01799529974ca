// @ts-check
/**
 * The personal KPI tiles and the "how you work" card of the dashboard. Tiles are built once and then
 * updated in place, so that a live update changes only the numbers (and briefly marks the ones that
 * moved) instead of redrawing the page under the reader's eyes.
 */

import {
  DASH,
  dayRange,
  formatCount,
  formatDuration,
  formatNumber,
  formatShare,
  ordinal,
  perDay,
  reviewOutcome,
} from '../kpiFormat.js';

/**
 * @typedef {import('../kpiFormat.js').Kpi} Kpi
 * @typedef {import('../kpiFormat.js').MyKpis} MyKpis
 * @typedef {import('../kpiFormat.js').PeerBenchmark} PeerBenchmark
 * @typedef {import('../kpiFormat.js').BenchmarkedKpi} BenchmarkedKpi
 * @typedef {(value: number | null) => string} Formatter
 * @typedef {object} TileSpec
 * @property {keyof Kpi} kpi
 * @property {string} label
 * @property {string} unit
 * @property {Formatter} format
 * @property {string} help
 * @property {'higher' | 'lower'} [better] set for the KPIs with a peer benchmark
 */

/** Days in a volume tile's bar strip. */
const STRIP_DAYS = 14;

/** @type {TileSpec[]} */
export const TILES = [
  {
    kpi: 'shapes',
    label: 'Shapes delivered',
    unit: '',
    format: formatCount,
    help: 'Shapes (one box in one frame) of the confirmed tracks in your submitted tasks',
  },
  {
    kpi: 'active_seconds',
    label: 'Active time',
    unit: '',
    format: formatDuration,
    help: 'Time between your actions; a pause longer than the idle threshold is not counted',
  },
  {
    kpi: 'shapes_per_hour',
    label: 'Shapes per hour',
    unit: '/ h',
    format: formatNumber,
    better: 'higher',
    help: 'Shapes delivered per active hour',
  },
  {
    kpi: 'seconds_per_shape',
    label: 'Seconds per shape',
    unit: 's',
    format: formatNumber,
    better: 'lower',
    help: 'Active seconds per delivered shape (lower is faster)',
  },
  {
    kpi: 'shapes_per_euro',
    label: 'Shapes per euro',
    unit: '/ \u20ac',
    format: formatNumber,
    better: 'higher',
    help: "Shapes delivered per euro of active time at the project's hourly cost",
  },
];

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/**
 * Set a text and, when it changed (not on the first fill), mark the element so that CSS flashes it.
 * @param {HTMLElement} element
 * @param {string} text
 */
export function setLive(element, text) {
  if (element.textContent === text) return;
  const first = element.dataset.filled !== 'true';
  element.textContent = text;
  element.dataset.filled = 'true';
  if (first) return;
  element.classList.remove('changed');
  void element.offsetWidth; // restart the animation when two updates come close together
  element.classList.add('changed');
}

/** One tile: its parts, kept to update in place. */
class Tile {
  /** @param {TileSpec} spec */
  constructor(spec) {
    this.spec = spec;
    this.root = el('article', 'kpi-tile');
    this.root.dataset.kpi = spec.kpi;
    this.root.title = spec.help;
    this.value = el('span', 'value', DASH);
    this.trend = el('div', 'kpi-trend');
    this.visual = el('div', spec.better ? 'kpi-gauge' : 'kpi-strip');
    this.foot = el('div', 'kpi-foot');
    const value = el('div', 'kpi-value');
    value.append(this.value);
    if (spec.unit) value.append(el('span', 'unit', spec.unit));
    this.root.append(el('h3', 'kpi-label', spec.label), value, this.trend, this.visual, this.foot);
  }

  /**
   * @param {MyKpis} payload
   */
  update(payload) {
    const raw = payload.totals[this.spec.kpi];
    this.value.dataset.value = raw === null || raw === undefined ? '' : String(raw);
    this.root.classList.toggle('no-value', raw === null || raw === undefined);
    setLive(this.value, this.spec.format(raw ?? null));
    const benchmark = payload.peers?.[/** @type {BenchmarkedKpi} */ (this.spec.kpi)];
    if (this.spec.better) this.updateBenchmark(benchmark ?? null);
    else this.updateVolume(payload);
  }

  /** @param {PeerBenchmark | null} peer */
  updateBenchmark(peer) {
    const better = this.spec.better ?? 'higher';
    const { format } = this.spec;
    this.trend.replaceChildren(trendText(peer?.trend ?? null, better));
    this.trend.className = `kpi-trend ${trendClass(peer?.trend ?? null, better)}`;
    renderGauge(this.visual, peer, better);
    this.foot.replaceChildren();
    if (!peer || peer.median === null) {
      this.foot.append(el('span', 'muted', 'No team benchmark yet'));
      return;
    }
    const median = el('span', 'peer median');
    median.append('median ', el('b', '', format(peer.median)));
    const top = el('span', 'peer top');
    top.append('top 25 % ', el('b', '', format(peer.top_quartile)));
    const rank = el('span', 'rank', peer.percentile === null ? '' : `${ordinal(peer.percentile)} pct`);
    rank.title = "Your percentile among the project's annotators (100th: the best)";
    this.foot.append(median, top, rank);
  }

  /** @param {MyKpis} payload */
  updateVolume(payload) {
    const range = dayRange(payload.days, STRIP_DAYS).slice(-STRIP_DAYS);
    const values = perDay(payload.days, range, this.spec.kpi);
    const today = values[values.length - 1];
    this.trend.className = 'kpi-trend';
    this.trend.textContent = `today ${this.spec.format(today ?? 0)}`;
    const max = Math.max(0, ...values.map((v) => v ?? 0));
    this.visual.replaceChildren(
      ...values.map((v, i) => {
        const bar = el('i');
        bar.style.height = max > 0 && v ? `${Math.max(6, (100 * v) / max)}%` : '0';
        bar.title = `${range[i]}: ${this.spec.format(v ?? 0)}`;
        return bar;
      }),
    );
    this.foot.replaceChildren(el('span', 'muted', `last ${STRIP_DAYS} days`));
  }
}

/**
 * @param {number | null} trend
 * @param {'higher' | 'lower'} better
 */
function trendClass(trend, better) {
  if (trend === null || !Number.isFinite(trend) || Math.abs(trend - 1) < 0.005) return 'flat';
  const up = trend > 1;
  return `${up ? 'up' : 'down'} ${up === (better === 'higher') ? 'good' : 'bad'}`;
}

/**
 * "▲ 12 % vs last week"
 * @param {number | null} trend
 * @param {'higher' | 'lower'} better
 * @returns {Node}
 */
function trendText(trend, better) {
  if (trend === null || !Number.isFinite(trend)) return document.createTextNode('no trend yet');
  const change = Math.round((trend - 1) * 100);
  const arrow = change > 0 ? '\u25b2' : change < 0 ? '\u25bc' : '\u25b6';
  const span = el('span', '', `${arrow} ${Math.abs(change)} % vs last week`);
  span.title = better === 'higher' ? 'This week over the week before' : 'This week over the week before (lower is faster)';
  return span;
}

/**
 * A bullet gauge: the person's value as a bar, the team median and top quartile as ticks, on a scale
 * that fits all three.
 * @param {HTMLElement} gauge
 * @param {PeerBenchmark | null} peer
 * @param {'higher' | 'lower'} better
 */
function renderGauge(gauge, peer, better) {
  const values = [peer?.value, peer?.median, peer?.top_quartile].filter((v) => typeof v === 'number');
  const scale = Math.max(0, ...values.map(Number)) * 1.15;
  /** @param {number | null | undefined} v */
  const at = (v) => (scale > 0 && typeof v === 'number' ? `${Math.min(100, (100 * v) / scale)}%` : '0');
  const fill = el('i', 'fill');
  fill.style.width = at(peer?.value);
  if (peer && peer.value !== null && peer.median !== null) {
    const ahead = better === 'higher' ? peer.value >= peer.median : peer.value <= peer.median;
    fill.classList.add(ahead ? 'ahead' : 'behind');
  }
  const median = el('i', 'tick median');
  median.style.left = at(peer?.median);
  median.hidden = peer?.median === null || peer?.median === undefined;
  median.title = 'team median';
  const top = el('i', 'tick top');
  top.style.left = at(peer?.top_quartile);
  top.hidden = peer?.top_quartile === null || peer?.top_quartile === undefined;
  top.title = 'top quartile';
  gauge.replaceChildren(fill, median, top);
}

/**
 * The five tiles in `container`; returns the function that shows a payload.
 * @param {HTMLElement} container
 * @returns {(payload: MyKpis) => void}
 */
export function mountTiles(container) {
  const tiles = TILES.map((spec) => new Tile(spec));
  container.replaceChildren(...tiles.map((tile) => tile.root));
  return (payload) => {
    for (const tile of tiles) tile.update(payload);
  };
}

/**
 * "How you work": how much of the work automation did (candidates confirmed vs boxes drawn, stationary
 * tracks), how often a nudge was taken up, and how much of the work review accepted (the quality KPI
 * while review is the only judge).
 * @param {HTMLElement} container
 * @returns {(totals: Kpi) => void}
 */
export function mountAdoption(container) {
  /** @param {string} name @param {string} help @param {string} kind names the row for the stylesheet */
  const row = (name, help, kind) => {
    const root = el('div', 'adoption-row');
    root.title = help;
    root.dataset.kind = kind;
    const share = el('span', 'share num', DASH);
    const meter = el('div', 'meter');
    const fill = el('i');
    meter.append(fill);
    const detail = el('span', 'detail muted');
    const head = el('div', 'adoption-head');
    head.append(el('span', 'name', name), share);
    root.append(head, meter, detail);
    container.append(root);
    /** @param {number | null} part @param {number | null} whole @param {string} text */
    return (part, whole, text) => {
      setLive(share, formatShare(part, whole));
      fill.style.width = whole && part !== null ? `${Math.min(100, (100 * part) / whole)}%` : '0';
      detail.textContent = text;
    };
  };
  container.replaceChildren();
  const candidates = row(
    'From candidates',
    'Tracks confirmed from automation candidates, against tracks drawn by hand',
    'candidates',
  );
  const stationary = row('Stationary', 'Tracks labelled once as stationary objects', 'stationary');
  const nudges = row('Nudges followed', 'Faster paths the editor suggested that you took', 'nudges');
  const accepted = row(
    'Accepted in review',
    'Review decisions on your submitted tasks that accepted them (a task sent back and accepted later counts both)',
    'review',
  );
  return (totals) => {
    const confirmed = totals.candidates_confirmed ?? 0;
    const drawn = totals.tracks_drawn ?? 0;
    const tracks = confirmed + drawn;
    candidates(confirmed, tracks, `${formatCount(confirmed)} confirmed \u00b7 ${formatCount(drawn)} drawn`);
    stationary(totals.stationary_tracks, tracks, `${formatCount(totals.stationary_tracks ?? 0)} of ${formatCount(tracks)} tracks`);
    const shown = totals.nudges_shown ?? 0;
    nudges(totals.nudges_followed, shown, `${formatCount(totals.nudges_followed ?? 0)} of ${formatCount(shown)} shown`);
    const review = reviewOutcome(totals);
    accepted(
      review.accepted,
      review.decided,
      review.decided > 0 ? `${formatCount(review.accepted)} of ${formatCount(review.decided)} reviews` : 'not reviewed yet',
    );
  };
}
