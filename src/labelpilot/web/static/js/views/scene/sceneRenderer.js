// @ts-check
/**
 * Drawing the scene view: one WebGL renderer for all viewports (the main view, then each
 * close-up, scissored) and the 2D overlay above it. Holds no editor state: the scene view passes
 * what to draw.
 */

import * as THREE from 'three';
import { Overlay } from './overlay.js';
import { enterViewport, layoutViewports, placeOver } from './viewports.js';

/** @typedef {import('./mainView.js').MainView} MainView */
/** @typedef {import('./closeUp.js').CloseUp} CloseUp */
/** @typedef {import('./closeUp.js').CloseUpKind} CloseUpKind */
/** @typedef {import('./boxLayer.js').BoxItem} BoxItem */
/** @typedef {import('./pointCloud.js').PointCloud} PointCloud */
/** @typedef {import('./overlay.js').Rect} Rect */
/**
 * @typedef {object} Frame  what one render draws
 * @property {BoxItem[]} items  the main view's boxes (for captions)
 * @property {THREE.Scene | null} [mainScene]  what the main view draws instead of the frame's scene
 * @property {boolean} captions
 * @property {BoxItem | null} selected
 * @property {string} selectedColor  the selected box's status colour, for its handles
 * @property {CloseUpKind | null} focused
 * @property {boolean} editable
 * @property {{text: string, error: boolean} | null} message
 */

const BACKGROUND = '#0b0e13';
const CLOSE_UP_BACKGROUND = '#10151c';
const POINT_SIZE = { orbit: 1.8, bev: 1.6, closeUp: 3 };

export class SceneRenderer {
  /**
   * @param {HTMLElement} element  the scene view's container
   * @param {THREE.Scene} scene
   * @param {PointCloud} points
   */
  constructor(element, scene, points) {
    this.element = element;
    this.scene = scene;
    this.points = points;
    // No multisampling: it buys nothing for points, and doubles a software renderer's frame time.
    this.renderer = new THREE.WebGLRenderer({ antialias: false });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.renderer.autoClear = false;
    this.renderer.domElement.style.cssText = 'position:absolute;inset:0;width:100%;height:100%;pointer-events:none';
    const overlayCanvas = document.createElement('canvas');
    overlayCanvas.style.cssText = 'position:absolute;inset:0;width:100%;height:100%;pointer-events:none;z-index:2';
    element.append(this.renderer.domElement, overlayCanvas);
    this.overlay = new Overlay(overlayCanvas);
    /** @type {{main: Rect, closeUps: Rect[]}} */
    this.rects = layoutViewports(1, 1, null);
  }

  /** Match the drawing buffers to the container's size. */
  resize() {
    const { clientWidth: width, clientHeight: height } = this.element;
    if (!width || !height) return false;
    this.renderer.setSize(width, height, false);
    this.overlay.resize(width, height, this.renderer.getPixelRatio());
    return true;
  }

  /**
   * Place the viewports: the main view, and the close-ups beside it while they have a box (the
   * focused one larger); their event surfaces follow.
   * @param {MainView} main
   * @param {CloseUp[]} closeUps
   * @param {CloseUpKind | null} focused
   */
  layout(main, closeUps, focused) {
    const { clientWidth: width, clientHeight: height } = this.element;
    const show = closeUps.length > 0 && closeUps[0].target !== null;
    const weights = show ? closeUps.map((v) => (v.kind === focused ? 2 : 1)) : null;
    this.rects = layoutViewports(width, height, weights);
    main.resize(this.rects.main.width, this.rects.main.height);
    placeOver(main.surface, this.rects.main);
    closeUps.forEach((view, k) => {
      view.surface.hidden = !show;
      const rect = this.rects.closeUps[k];
      if (!show || !rect) return;
      placeOver(view.surface, rect);
      if (view.width !== rect.width || view.height !== rect.height) view.resize(rect.width, rect.height);
    });
  }

  /**
   * @param {MainView} main
   * @param {CloseUp[]} closeUps
   * @param {Frame} frame
   * @returns {CloseUpKind[]}  the close-ups drawn
   */
  render(main, closeUps, frame) {
    const { renderer, overlay, points } = this;
    const rects = this.rects;
    enterViewport(renderer, rects.main, BACKGROUND);
    points.material.size = POINT_SIZE[main.mode];
    renderer.render(frame.mainScene ?? this.scene, main.camera);
    overlay.clear();
    if (frame.captions) overlay.captions(frame.items, (p) => main.toScreen(p), rects.main);
    /** @type {CloseUpKind[]} */
    const shown = [];
    points.material.size = POINT_SIZE.closeUp;
    closeUps.forEach((view, k) => {
      const rect = rects.closeUps[k];
      if (!view.target || !rect) return;
      enterViewport(renderer, rect, CLOSE_UP_BACKGROUND);
      renderer.render(this.scene, view.camera);
      overlay.closeUp(view, rect, {
        caption: frame.selected ? frame.selected.caption : '',
        color: frame.selectedColor,
        focused: view.kind === frame.focused,
        editable: frame.editable,
      });
      shown.push(view.kind);
    });
    renderer.setScissorTest(false);
    if (frame.message) overlay.message(frame.message.text, rects.main, frame.message.error);
    return shown;
  }

  dispose() {
    this.renderer.dispose();
  }
}

/**
 * Write what was drawn onto the element (data attributes for tests and benchmarks) and, for a
 * newly shown frame, fire `scene-rendered` with its timings.
 * @param {HTMLElement} element
 * @param {{mainView: string, closeUps: string[], boxes: number, colorMode: string, points: number,
 *   frame: {index: number, ms: number, cached: boolean, sweep: import('../../frameCache.js').Sweep | null} | null}} drawn
 */
export function stampElement(element, drawn) {
  const data = element.dataset;
  data.mainView = drawn.mainView;
  data.closeUps = drawn.closeUps.join(',');
  data.boxes = String(drawn.boxes);
  data.colorMode = drawn.colorMode;
  const frame = drawn.frame;
  if (!frame) return;
  data.frame = String(frame.index);
  data.points = String(drawn.points);
  data.frameMs = frame.ms.toFixed(1);
  const detail = {
    frame: frame.index,
    points: drawn.points,
    ms: frame.ms,
    cached: frame.cached,
    fetchMs: frame.sweep?.fetchMs ?? 0,
    decodeMs: frame.sweep?.decodeMs ?? 0,
  };
  element.dispatchEvent(new CustomEvent('scene-rendered', { detail }));
}
