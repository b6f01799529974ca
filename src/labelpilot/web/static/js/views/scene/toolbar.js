// @ts-check
/**
 * The scene view's own controls, top left of the main view: 3D or bird's-eye, point colours,
 * captions, and a draw button for mouse users (the keymap has the keys). The choices persist
 * in localStorage per browser.
 */

/** @typedef {import('./mainView.js').MainMode} MainMode */
/** @typedef {import('./pointCloud.js').ColorMode} ColorMode */
/** @typedef {{main: MainMode, color: ColorMode, captions: boolean}} ViewSettings */

const STORAGE_KEY = 'labelpilot.sceneView';
const DEFAULTS = /** @type {ViewSettings} */ ({ main: 'orbit', color: 'height', captions: true });

/** @returns {ViewSettings} */
export function loadSettings() {
  try {
    const stored = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}');
    return {
      main: stored.main === 'bev' ? 'bev' : 'orbit',
      color: ['height', 'intensity', 'range'].includes(stored.color) ? stored.color : DEFAULTS.color,
      captions: typeof stored.captions === 'boolean' ? stored.captions : DEFAULTS.captions,
    };
  } catch {
    return { ...DEFAULTS };
  }
}

/** @param {ViewSettings} settings */
export function saveSettings(settings) {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(settings));
  } catch {
    // Private windows may refuse storage; the settings then last for the page.
  }
}

/**
 * @typedef {object} ToolbarHooks
 * @property {(mode: MainMode) => void} setMain
 * @property {(mode: ColorMode) => void} setColor
 * @property {(on: boolean) => void} setCaptions
 * @property {() => void} draw
 */

/**
 * @param {HTMLElement} parent
 * @param {ToolbarHooks} hooks
 * @returns {{element: HTMLElement, update: (settings: ViewSettings, drawing: boolean, hasLidar: boolean) => void}}
 */
export function createToolbar(parent, hooks) {
  const bar = document.createElement('div');
  bar.className = 'scene-toolbar';
  bar.setAttribute('role', 'toolbar');
  bar.setAttribute('aria-label', 'View');
  Object.assign(bar.style, {
    position: 'absolute',
    top: '8px',
    left: '8px',
    zIndex: '3',
    display: 'flex',
    gap: '4px',
    flexWrap: 'wrap',
    padding: '4px',
    borderRadius: '6px',
    background: 'rgba(13, 17, 22, 0.78)',
  });
  /**
   * @param {string} text
   * @param {string} title
   * @param {string} name
   * @param {() => void} onClick
   */
  const button = (text, title, name, onClick) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'btn small';
    b.textContent = text;
    b.title = title;
    b.dataset.control = name;
    b.addEventListener('click', () => {
      onClick();
      b.blur(); // keys go back to the editor's keymap
    });
    bar.append(b);
    return b;
  };
  const gap = () => {
    const s = document.createElement('span');
    s.style.width = '6px';
    bar.append(s);
  };
  const orbit = button('3D', 'Perspective view: drag to orbit, right-drag to pan, wheel to zoom', 'orbit', () => hooks.setMain('orbit'));
  const bev = button('BEV', "Bird's-eye view for drawing: drag to pan, wheel to zoom", 'bev', () => hooks.setMain('bev'));
  gap();
  const colors = /** @type {Array<[ColorMode, HTMLButtonElement]>} */ ([
    ['height', button('Height', 'Colour points by height above the ground', 'color-height', () => hooks.setColor('height'))],
    ['intensity', button('Intensity', 'Colour points by lidar intensity', 'color-intensity', () => hooks.setColor('intensity'))],
    ['range', button('Range', 'Colour points by distance from the car', 'color-range', () => hooks.setColor('range'))],
  ]);
  gap();
  /** @type {ViewSettings} */
  let current = { ...DEFAULTS };
  const captions = button('Labels', 'Show class and id above the boxes', 'captions', () => hooks.setCaptions(!current.captions));
  const draw = button('Draw', 'Draw a box in the bird’s-eye view', 'draw', () => hooks.draw());
  parent.append(bar);

  /** @param {HTMLButtonElement} b @param {boolean} on */
  const mark = (b, on) => {
    b.classList.toggle('primary', on);
    b.setAttribute('aria-pressed', String(on));
  };
  return {
    element: bar,
    update(settings, drawing, hasLidar) {
      current = settings;
      mark(orbit, settings.main === 'orbit');
      mark(bev, settings.main === 'bev');
      for (const [mode, b] of colors) {
        mark(b, settings.color === mode);
        b.hidden = !hasLidar;
      }
      mark(captions, settings.captions);
      mark(draw, drawing);
    },
  };
}
