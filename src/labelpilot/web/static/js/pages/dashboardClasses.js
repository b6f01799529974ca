// @ts-check
/**
 * The "By class" cards of the dashboard (the person's and the team's): per object class, the shapes of
 * the delivered tracks of the class, the active time spent on tracks of the class and the seconds per
 * shape. Rows are kept per class and updated in place, so that a live update only changes (and briefly
 * marks) the numbers that moved.
 */

import { formatCount, formatDuration, formatNumber } from '../kpiFormat.js';
import { el, setLive } from './dashboardTiles.js';

/**
 * @typedef {import('../kpiFormat.js').ClassKpi} ClassKpi
 * @typedef {object} ClassColumn
 * @property {string} key names the cell (`data-kpi`) for the stylesheet and the tests
 * @property {string} title
 * @property {(row: ClassKpi) => string} cell
 * @property {string} [help]
 * @property {(row: ClassKpi) => number | null} [share] the row's part of the column's whole, drawn as a bar
 * @typedef {object} ClassTableOptions
 * @property {ClassColumn[]} columns after the class name
 * @property {string} empty what the card says while no class has any work
 */

/** @param {ClassKpi} row */
const tracksOf = (row) => (row.candidates_confirmed ?? 0) + (row.tracks_drawn ?? 0);

/** @type {Record<string, ClassColumn>} */
export const CLASS_COLUMNS = {
  tracks: {
    key: 'tracks',
    title: 'Tracks',
    cell: (row) => formatCount(tracksOf(row)),
    help: 'Delivered tracks of the class (confirmed from candidates or drawn)',
  },
  shapes: {
    key: 'shapes',
    title: 'Shapes',
    cell: (row) => formatCount(row.shapes),
    help: 'Shapes (one box in one frame) of the delivered tracks of the class',
    share: (row) => row.shapes,
  },
  active_seconds: {
    key: 'active_seconds',
    title: 'Active time',
    cell: (row) => formatDuration(row.active_seconds),
    help: 'Active time spent in edits of tracks of the class',
    share: (row) => row.active_seconds,
  },
  shapes_per_hour: {
    key: 'shapes_per_hour',
    title: 'Shapes / h',
    cell: (row) => formatNumber(row.shapes_per_hour),
    help: 'Shapes per active hour on the class',
  },
  seconds_per_shape: {
    key: 'seconds_per_shape',
    title: 's / shape',
    cell: (row) => formatNumber(row.seconds_per_shape),
    help: 'Active seconds per shape of the class (lower is faster)',
  },
};

/**
 * Classes with the most shapes first, then the most time; classes without any work are left out.
 * @param {ClassKpi[]} classes
 */
function ordered(classes) {
  return classes
    .filter((row) => (row.shapes ?? 0) > 0 || (row.active_seconds ?? 0) > 0)
    .sort(
      (a, b) =>
        (b.shapes ?? 0) - (a.shapes ?? 0) ||
        (b.active_seconds ?? 0) - (a.active_seconds ?? 0) ||
        a.label.localeCompare(b.label),
    );
}

/** One class's row: its cells and share bars, kept to update in place. */
class ClassRow {
  /** @param {string} label @param {ClassColumn[]} columns */
  constructor(label, columns) {
    this.columns = columns;
    this.root = el('tr');
    this.root.dataset.label = label;
    this.root.append(el('td', 'class-name', label));
    /** @type {{value: HTMLElement, bar: HTMLElement | null}[]} */
    this.cells = columns.map((column) => {
      const cell = el('td', column.share ? 'num shared' : 'num');
      cell.dataset.kpi = column.key;
      const value = el('span', 'value');
      let bar = null;
      if (column.share) {
        // The row's share of the column's whole, left of the number: which class the work went to.
        const meter = el('span', 'class-share');
        bar = el('i');
        meter.append(bar);
        cell.append(meter);
      }
      cell.append(value);
      this.root.append(cell);
      return { value, bar };
    });
  }

  /** @param {ClassKpi} row @param {number[]} wholes per column, the sum its share bar is drawn against */
  update(row, wholes) {
    this.columns.forEach((column, i) => {
      const { value, bar } = this.cells[i];
      setLive(value, column.cell(row));
      if (!bar || !column.share) return;
      const part = column.share(row) ?? 0;
      bar.style.width = wholes[i] > 0 ? `${Math.min(100, (100 * part) / wholes[i])}%` : '0';
    });
  }
}

/**
 * A "By class" table in `container`; returns the function that shows the classes of a payload.
 * @param {HTMLElement} container
 * @param {ClassTableOptions} options
 * @returns {(classes: ClassKpi[]) => void}
 */
export function mountClassTable(container, { columns, empty }) {
  const table = el('table', 'table class-table');
  const head = el('tr');
  head.append(el('th', '', 'Class'));
  for (const column of columns) {
    const th = el('th', 'num', column.title);
    if (column.help) th.title = column.help;
    head.append(th);
  }
  const thead = el('thead');
  thead.append(head);
  const body = el('tbody');
  table.append(thead, body);
  container.replaceChildren(table);
  /** @type {Map<string, ClassRow>} */
  const rows = new Map();
  const emptyRow = el('tr');
  const emptyCell = el('td', 'empty', empty);
  emptyCell.colSpan = columns.length + 1;
  emptyRow.append(emptyCell);

  return (classes) => {
    const shown = ordered(classes);
    const wholes = columns.map((column) =>
      column.share ? shown.reduce((sum, row) => sum + (column.share?.(row) ?? 0), 0) : 0,
    );
    for (const label of [...rows.keys()]) {
      if (!shown.some((row) => row.label === label)) rows.delete(label);
    }
    const trs = shown.map((row) => {
      let view = rows.get(row.label);
      if (!view) {
        view = new ClassRow(row.label, columns);
        rows.set(row.label, view);
      }
      view.update(row, wholes);
      return view.root;
    });
    body.replaceChildren(...(trs.length > 0 ? trs : [emptyRow]));
    thead.hidden = trs.length === 0;
    container.dataset.classes = String(trs.length);
  };
}
