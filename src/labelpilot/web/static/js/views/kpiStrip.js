// @ts-check
/**
 * The KPI strip: this session's delivered shapes, shapes per hour and time, from the model (the
 * work layer's confirmed shapes now against when the editor opened). The home page shows the
 * event-based KPIs; this is the live feedback while working.
 */

/** @typedef {import('../model.js').EditorModel} EditorModel */

/** Shapes per hour also change as time passes without edits. */
const TICK_MS = 15_000;

/**
 * @param {HTMLElement} element
 * @param {EditorModel} model
 */
export function mountKpiStrip(element, model) {
  const doc = element.ownerDocument;
  /**
   * @param {string} name
   * @param {string} title
   */
  const stat = (name, title) => {
    const wrap = doc.createElement('span');
    wrap.className = 'stat';
    wrap.title = title;
    const value = doc.createElement('span');
    value.className = 'value';
    value.dataset.kpi = name;
    wrap.append(value, ` ${name}`);
    return { wrap, value };
  };
  const shapes = stat('shapes', 'Shapes delivered this session (confirmed boxes in every frame)');
  const rate = stat('per hour', 'Shapes per hour this session');
  const time = stat('min', 'Minutes in this session');
  element.replaceChildren(shapes.wrap, rate.wrap, time.wrap);

  const render = () => {
    const kpi = model.sessionKpi();
    shapes.value.textContent = String(kpi.shapes);
    // A rate over seconds says nothing: shown from the first full minute.
    if (kpi.minutes < 1) rate.value.textContent = '\u2014';
    else rate.value.textContent = kpi.perHour >= 100 ? String(Math.round(kpi.perHour)) : kpi.perHour.toFixed(1);
    time.value.textContent = String(Math.floor(kpi.minutes));
  };
  model.on('kpi', render);
  setInterval(render, TICK_MS);
  render();
}
