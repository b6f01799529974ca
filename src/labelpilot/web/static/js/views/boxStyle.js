// @ts-check
/**
 * How a cuboid looks, the same in the 3D views and the camera panel: colour by status (work
 * tracks, stationary ones, candidates apart and dashed), the selected one highlighted.
 */

/** @typedef {import('../editorTypes.js').ShapeAt} ShapeAt */

/**
 * @typedef {object} BoxLook
 * @property {string} color  '#rrggbb'
 * @property {boolean} dashed  candidates: not the delivered work yet
 * @property {number} opacity
 * @property {boolean} selected
 */

/**
 * Status colours: the stylesheet's variables where the page defines them (so the timeline, the
 * object list and the cuboids agree), else these.
 */
export const BOX_COLORS = {
  track: '#4cc26e',
  stationary: '#2ec4b6',
  candidate: '#f0b429',
  rejected: '#8b97a5',
  selected: '#ffffff',
  draft: '#e879f9',
  ego: '#8b97a5',
};

/** @type {Record<string, keyof typeof BOX_COLORS>} */
const CSS_VARIABLES = {
  '--confirmed': 'track',
  '--stationary': 'stationary',
  '--candidate': 'candidate',
  '--text-muted': 'rejected',
  '--flag': 'draft',
};

/** Take the page's colours once the stylesheet is in (views call it when they mount). */
export function adoptPageColors() {
  const style = getComputedStyle(document.documentElement);
  for (const [variable, key] of Object.entries(CSS_VARIABLES)) {
    const value = style.getPropertyValue(variable).trim();
    if (/^#[0-9a-f]{6}$/i.test(value)) BOX_COLORS[key] = value;
  }
}

/**
 * @param {Pick<ShapeAt, 'kind' | 'status' | 'stationary'>} shape
 * @param {boolean} selected
 * @returns {BoxLook}
 */
export function boxLook(shape, selected) {
  const candidate = shape.kind === 'candidate' || shape.status === 'candidate';
  let color = shape.stationary ? BOX_COLORS.stationary : BOX_COLORS.track;
  if (candidate) color = BOX_COLORS.candidate;
  if (shape.status === 'rejected') color = BOX_COLORS.rejected;
  if (selected) color = BOX_COLORS.selected;
  return { color, dashed: candidate && !selected, opacity: candidate && !selected ? 0.75 : 1, selected };
}

/**
 * The short caption of a box: its class and track id.
 * @param {Pick<ShapeAt, 'label' | 'id' | 'keyframe'>} shape
 */
export function boxCaption(shape) {
  return `${shape.label} ${shape.id}${shape.keyframe ? ' ◆' : ''}`;
}
