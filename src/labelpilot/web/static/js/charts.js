// @ts-check
/**
 * The dashboard's charts on uPlot (npm `uplot`, served at /vendor/uplot/): small, canvas-drawn, themed
 * from the stylesheet's colour variables so that they match the page. Two kinds:
 * - DayChart: one value per day on a category axis (bars for the person's days, lines for references
 *   such as the team median), with a live legend that shows the hovered day's values;
 * - BarList: horizontal bars of named quantities (where the time goes), largest first.
 * Both follow their container's width and show a quiet message instead of an empty frame.
 */

import uPlot from 'uplot';

/** @typedef {(value: number | null) => string} Formatter */
/**
 * @typedef {object} DaySeries
 * @property {string} label
 * @property {'bars' | 'line' | 'reference'} kind bars: the subject's days; line: a value per day; reference: a level
 * @property {string} color a CSS colour or a `var(--name)` of the stylesheet
 */
/**
 * @typedef {object} ChartOptions
 * @property {number} [height] CSS pixels of the plot and axes (the legend adds to it)
 * @property {Formatter} format how values read on the axis and in the legend
 * @property {string} empty what to say when there is no value at all
 */

/** The day axis labels every n-th day: at least this many pixels apart. */
const DAY_LABEL_SPACE = 56;

/**
 * A stylesheet colour: `var(--accent)` is resolved (canvas cannot read variables), anything else is kept.
 * @param {string} color
 */
export function cssColor(color) {
  const match = /^var\((--[\w-]+)\)$/.exec(color.trim());
  if (!match) return color;
  return getComputedStyle(document.documentElement).getPropertyValue(match[1]).trim() || '#888';
}

/**
 * The same colour with an alpha (for bar fills), from #rrggbb.
 * @param {string} color
 * @param {number} alpha
 */
function withAlpha(color, alpha) {
  const hex = /^#([0-9a-f]{6})$/i.exec(color);
  if (!hex) return color;
  const n = Number.parseInt(hex[1], 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/** Axis, grid and tick colours and font from the stylesheet. */
function axisStyle() {
  const muted = cssColor('var(--text-muted)');
  const grid = cssColor('var(--border)');
  return {
    stroke: muted,
    font: `11px ${cssColor('var(--font)')}`,
    grid: { stroke: grid, width: 1 },
    ticks: { stroke: grid, width: 1, size: 4 },
  };
}

/**
 * A chart frame inside `element`: the uPlot canvas plus an overlay for the empty message, resized
 * with the element.
 */
class ChartFrame {
  /**
   * @param {HTMLElement} element
   * @param {string} empty
   */
  constructor(element, empty) {
    this.element = element;
    this.element.classList.add('chart');
    this.emptyNote = document.createElement('div');
    this.emptyNote.className = 'chart-empty';
    this.emptyNote.append(Object.assign(document.createElement('span'), { textContent: empty }));
    this.emptyNote.hidden = true;
    this.element.append(this.emptyNote);
    /** @type {uPlot | null} */
    this.plot = null;
    this.resizer = new ResizeObserver(() => this.fit());
    this.resizer.observe(this.element);
  }

  width() {
    return Math.max(160, Math.floor(this.element.clientWidth));
  }

  fit() {
    if (!this.plot) return;
    const width = this.width();
    if (width !== this.plot.width) this.plot.setSize({ width, height: this.plot.height });
  }

  /**
   * @param {uPlot.Options} options
   * @param {uPlot.AlignedData} data
   */
  draw(options, data) {
    this.plot?.destroy();
    this.plot = new uPlot(options, data, this.element);
  }

  /** @param {boolean} empty */
  setEmpty(empty) {
    this.emptyNote.hidden = !empty;
    this.element.classList.toggle('is-empty', empty);
  }
}

export class DayChart {
  /**
   * @param {HTMLElement} element
   * @param {DaySeries[]} series
   * @param {ChartOptions} options
   */
  constructor(element, series, options) {
    this.frame = new ChartFrame(element, options.empty);
    this.series = series;
    this.options = options;
    /** @type {string[]} */
    this.dayLabels = [];
  }

  /**
   * Show these days (labels, oldest first) and per series its values (null: nothing that day). A
   * reference series takes one value for every day: pass a single-element array.
   * @param {string[]} dayLabels
   * @param {(number | null)[][]} values one array per series, in the constructor's order
   */
  update(dayLabels, values) {
    this.dayLabels = dayLabels;
    const columns = values.map((column, i) =>
      this.series[i].kind === 'reference' ? dayLabels.map(() => column[0] ?? null) : column,
    );
    const anything = columns.some((column, i) => this.series[i].kind !== 'reference' && column.some((v) => v !== null));
    this.frame.setEmpty(!anything);
    const data = /** @type {uPlot.AlignedData} */ ([dayLabels.map((_, i) => i), ...columns]);
    this.frame.draw(this.plotOptions(), data);
  }

  /** @returns {uPlot.Options} */
  plotOptions() {
    const { format } = this.options;
    const axis = axisStyle();
    const labels = this.dayLabels;
    const count = labels.length;
    return {
      width: this.frame.width(),
      height: this.options.height ?? 220,
      padding: [12, 8, 0, 0],
      cursor: { points: { size: 7 }, drag: { x: false, y: false, setScale: false } },
      legend: { live: true },
      scales: {
        x: { time: false, range: () => [-0.5, count - 0.5] },
        y: {
          range: (_u, _min, max) => [0, niceMax(max)],
        },
      },
      axes: [
        {
          ...axis,
          grid: { show: false },
          space: DAY_LABEL_SPACE,
          incrs: [1, 2, 3, 7, 14, 28],
          values: (_u, splits) => splits.map((i) => labels[i] ?? ''),
        },
        { ...axis, size: 48, values: (_u, splits) => roundTicks(splits) },
      ],
      series: [
        { label: 'Day', value: (u, i) => labels[Math.round(i ?? latestIndex(u))] ?? '' },
        ...this.series.map((s) => seriesOptions(s, format)),
      ],
    };
  }
}

/**
 * @param {DaySeries} series
 * @param {Formatter} format
 * @returns {uPlot.Series}
 */
function seriesOptions(series, format) {
  const color = cssColor(series.color);
  /** @type {uPlot.Series.Value} */
  const value = (u, v, seriesIndex, index) =>
    format(index === null ? (/** @type {(number | null)[]} */ (u.data[seriesIndex])[latestIndex(u)] ?? null) : v);
  if (series.kind === 'bars') {
    return {
      label: series.label,
      stroke: color,
      fill: withAlpha(color, 0.55),
      width: 1,
      paths: uPlot.paths.bars?.({ size: [0.62, 36], gap: 2 }),
      points: { show: false },
      value,
    };
  }
  return {
    label: series.label,
    stroke: color,
    width: series.kind === 'reference' ? 1.5 : 2,
    dash: series.kind === 'reference' ? [6, 4] : undefined,
    spanGaps: series.kind === 'line',
    points: { show: series.kind === 'line', size: 5, fill: color },
    value,
  };
}

/**
 * Axis ticks with as many decimals as their step needs, the same for all: "0", "2.5", "5.0", "7.5".
 * @param {number[]} splits
 */
function roundTicks(splits) {
  const step = splits.length > 1 ? Math.abs(splits[1] - splits[0]) : Math.abs(splits[0] ?? 1);
  const decimals = step > 0 ? Math.min(4, Math.max(0, -Math.floor(Math.log10(step) + 1e-9))) : 0;
  const halves = decimals > 0 || Number.isInteger(step) ? decimals : 1;
  return splits.map((v) => (v === 0 ? '0' : v.toLocaleString('en-US', { minimumFractionDigits: halves, maximumFractionDigits: halves })));
}

/**
 * The last day with a value of the subject (bars or line): what the legend shows while no day is hovered.
 * @param {uPlot} u
 */
function latestIndex(u) {
  const [days, subject] = /** @type {[number[], (number | null)[]]} */ (u.data);
  for (let i = subject.length - 1; i >= 0; i -= 1) if (subject[i] !== null) return i;
  return days.length - 1;
}

/**
 * A round axis maximum a little above `max` (never 0, so that an all-zero chart still has a scale).
 * @param {number | null} max
 */
function niceMax(max) {
  if (max === null || !Number.isFinite(max) || max <= 0) return 1;
  const padded = max * 1.12;
  const step = 10 ** Math.floor(Math.log10(padded));
  return Math.ceil(padded / step) * step;
}

const LABEL_FONT = () => cssColor('var(--mono)');

/** @type {CanvasRenderingContext2D | null} */
let measurer = null;

/**
 * The CSS pixel width of a value label.
 * @param {string} text
 */
function textWidth(text) {
  measurer ??= document.createElement('canvas').getContext('2d');
  if (!measurer) return 8 * text.length;
  measurer.font = `11px ${LABEL_FONT()}`;
  return Math.ceil(measurer.measureText(text).width);
}

/**
 * Write each horizontal bar's value just past its end (in the right padding for the longest).
 * @param {uPlot} u
 * @param {Formatter} format
 */
function labelBarEnds(u, format) {
  const [indexes, values] = /** @type {[number[], (number | null)[]]} */ (u.data);
  const ctx = u.ctx;
  const ratio = devicePixelRatio || 1;
  ctx.save();
  ctx.fillStyle = cssColor('var(--text)');
  ctx.font = `${11 * ratio}px ${LABEL_FONT()}`;
  ctx.textAlign = 'left'; // uPlot leaves the alignment of its last axis label
  ctx.textBaseline = 'middle';
  indexes.forEach((index, i) => {
    const value = values[i];
    if (value === null) return;
    ctx.fillText(format(value), u.valToPos(value, 'y', true) + 6 * ratio, u.valToPos(index, 'x', true));
  });
  ctx.restore();
}

/**
 * Horizontal bars, one per name, longest first. The names sit in the left axis; hovering a bar shows
 * its value in the legend.
 */
export class BarList {
  /**
   * @param {HTMLElement} element
   * @param {{label: string, color: string, format: Formatter, empty: string, barHeight?: number,
   *          axisFormat?: Formatter, axisIncrs?: number[]}} options axisFormat and axisIncrs: round ticks
   */
  constructor(element, options) {
    this.frame = new ChartFrame(element, options.empty);
    this.options = options;
    /** @type {string[]} */
    this.names = [];
    /** CSS pixels right of the plot for the longest value label. */
    this.labelRoom = 0;
  }

  /** @param {{name: string, value: number}[]} items */
  update(items) {
    const sorted = [...items].sort((a, b) => b.value - a.value);
    this.names = sorted.map((item) => item.name);
    this.labelRoom = Math.max(0, ...sorted.map((item) => textWidth(this.options.format(item.value)))) + 14;
    this.frame.setEmpty(sorted.length === 0);
    const rows = Math.max(sorted.length, 3);
    const height = rows * (this.options.barHeight ?? 26) + 40;
    const data = /** @type {uPlot.AlignedData} */ ([sorted.map((_, i) => i), sorted.map((item) => item.value)]);
    this.frame.draw(this.plotOptions(height, rows), data);
  }

  /**
   * @param {number} height
   * @param {number} rows
   * @returns {uPlot.Options}
   */
  plotOptions(height, rows) {
    const { format } = this.options;
    const color = cssColor(this.options.color);
    const axis = axisStyle();
    const names = this.names;
    return {
      width: this.frame.width(),
      height,
      padding: [4, this.labelRoom, 0, 0],
      legend: { show: false },
      hooks: { draw: [(u) => labelBarEnds(u, format)] },
      cursor: { points: { show: false }, drag: { x: false, y: false, setScale: false } },
      scales: {
        // The category scale runs top to bottom, the value scale left to right.
        x: { time: false, ori: 1, dir: -1, range: () => [-0.5, rows - 0.5] },
        y: { ori: 0, range: (_u, _min, max) => [0, this.options.axisIncrs ? max * 1.05 : niceMax(max)] },
      },
      axes: [
        {
          ...axis,
          side: 3,
          size: 170,
          gap: 8,
          grid: { show: false },
          ticks: { show: false },
          splits: () => names.map((_, i) => i),
          values: (_u, splits) => splits.map((i) => names[i] ?? ''),
        },
        {
          ...axis,
          side: 2,
          space: 70,
          incrs: this.options.axisIncrs,
          values: (_u, splits) => splits.map((v) => (this.options.axisFormat ?? format)(v)),
        },
      ],
      series: [
        {},
        {
          label: this.options.label,
          stroke: color,
          fill: withAlpha(color, 0.7),
          width: 0,
          paths: uPlot.paths.bars?.({ size: [0.66, 22] }),
          points: { show: false },
        },
      ],
    };
  }
}
