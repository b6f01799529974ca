// @ts-check
/**
 * The 3D scene: one WebGL renderer drawing several viewports inside `#scene-view` — the main view
 * (3D orbit or bird's-eye) and, while a box is selected, three orthographic close-ups (top, side,
 * back) that follow it. Everything is drawn in the ego frame of the shown frame: the sweep
 * (frameCache.js), the model's world-frame boxes moved by `model.worldToEgo`, the ground and the
 * ego car. Renders on demand, never in a loop.
 *
 * For tests and benchmarks the element carries what it last drew: `data-frame`, `data-points`,
 * `data-boxes`, `data-main-view`, `data-close-ups` ("top,side,back" or ""), `data-color-mode`,
 * `data-frame-ms` (from the frame event to its first render); `scene-rendered` fires per frame.
 */

import * as THREE from 'three';
import { api as defaultApi } from '../api.js';
import { FrameCache } from '../frameCache.js';
import { quantile, transformBox, transformPoint } from '../geometry.js';
import { BOX_COLORS, adoptPageColors, boxLook } from './boxStyle.js';
import { BoxLayer, boxItems } from './scene/boxLayer.js';
import { boxToWorld, fitInWorld, footprintBox, sendCloseUpEdit } from './scene/boxEdits.js';
import { CLOSE_UP_KINDS, CloseUp } from './scene/closeUp.js';
import { DrawTool } from './scene/drawTool.js';
import { GroundLayer } from './scene/groundLayer.js';
import { wireMainPointer } from './scene/mainPointer.js';
import { MainView } from './scene/mainView.js';
import { PointCloud } from './scene/pointCloud.js';
import { SceneRenderer, stampElement } from './scene/sceneRenderer.js';
import { createToolbar, loadSettings, saveSettings } from './scene/toolbar.js';

/** @typedef {import('../model.js').EditorModel} EditorModel */
/** @typedef {import('../controller.js').EditorController} EditorController */
/** @typedef {import('../editorTypes.js').Focus} Focus */
/** @typedef {import('../editorTypes.js').Mode} Mode */
/** @typedef {import('../geometry.js').Box} Box */
/** @typedef {import('../frameCache.js').Sweep} Sweep */
/** @typedef {import('./scene/boxLayer.js').BoxItem} BoxItem */
/** @typedef {import('./scene/closeUp.js').BoxEdit} BoxEdit */
/** @typedef {import('./scene/closeUp.js').CloseUpKind} CloseUpKind */
/** @typedef {import('./scene/mainView.js').MainMode} MainMode */
/** @typedef {import('./scene/pointCloud.js').ColorMode} ColorMode */
/** @typedef {import('./scene/toolbar.js').ViewSettings} ViewSettings */
/**
 * Another scene for the main view; `itemsAt` places it in a frame's ego frame and answers the boxes to caption.
 * @typedef {{scene: THREE.Scene, itemsAt: (egoTWorld: import('../geometry.js').Mat4) => BoxItem[]}} MainLayer
 */

const FALLBACK_SIZE = /** @type {[number, number, number]} */ ([4.0, 1.8, 1.6]);

/** @param {string} viewport */
function surface(viewport) {
  const div = document.createElement('div');
  div.style.cssText = 'position:absolute;z-index:1;touch-action:none';
  div.dataset.viewport = viewport;
  return div;
}

export class SceneView {
  /**
   * @param {HTMLElement} element  `#scene-view`
   * @param {EditorModel} model
   * @param {EditorController} controller
   * @param {{api?: import('../frameCache.js').BinarySource}} [options]
   */
  constructor(element, model, controller, options = {}) {
    adoptPageColors();
    this.element = element;
    this.model = model;
    this.controller = controller;
    this.api = options.api ?? defaultApi;
    this.settings = loadSettings();
    this.scene = new THREE.Scene();
    this.points = new PointCloud();
    this.boxes = new BoxLayer();
    this.ground = new GroundLayer();
    this.scene.add(this.ground.group, this.points.object, this.boxes.group);
    this.points.setColorMode(this.settings.color);
    this.renderer = new SceneRenderer(element, this.scene, this.points);
    this.mainSurface = surface('main');
    element.append(this.mainSurface);

    const render = () => this.requestRender();
    this.main = new MainView(this.mainSurface, render);
    this.closeUps = CLOSE_UP_KINDS.map((kind) => {
      const div = surface(kind);
      element.append(div);
      return new CloseUp(kind, div, {
        onChange: render,
        onDraft: (draft) => this.setDraft(draft),
        onCommit: (edit) => this.commitEdit(edit),
        canEdit: () => this.model.editable,
      });
    });
    this.drawTool = new DrawTool({
      defaultSize: () => this.defaultSize(),
      onPreview: (footprint) => this.setDraft(footprint ? this.footprintBox(footprint) : null, true),
      onCommit: (footprint) => this.commitDraw(footprint),
    });
    wireMainPointer(this.mainSurface, this.main, this.drawTool, {
      drawing: () => this.model.mode === 'draw',
      groundZ: () => this.ground.groundZ,
      pick: (ray) => this.controller.select(this.boxes.pick(ray.origin, ray.direction)),
      lookAt: (ray) => {
        const box = this.items.find((item) => item.id === this.boxes.pick(ray.origin, ray.direction))?.box;
        if (box) this.main.centerOn(box.center[0], box.center[1], box.center[2]);
      },
    });
    this.toolbar = createToolbar(element, {
      setMain: (mode) => this.setMainView(mode),
      setColor: (mode) => this.setColorMode(mode),
      setCaptions: (on) => this.update({ captions: on }),
      draw: () => (this.model.mode === 'draw' ? this.controller.cancelDraw() : this.controller.startDraw()),
    });

    /** @type {FrameCache | null} */ this.cache = null;
    /** @type {number | null} the scene the cache is for */ this.sceneId = null;
    /** the frame whose points and boxes are on screen (-1: none yet) */ this.shownFrame = -1;
    /** @type {{index: number, started: number, sweep: Sweep | null, cached: boolean} | null} shown, not yet rendered */
    this.pendingStamp = null;
    this.frameToken = 0;
    this.status = '';
    this.statusIsError = false;
    /** @type {{box: Box, drawing: boolean} | null} a box being dragged or drawn (ego) */ this.draft = null;
    /** @type {BoxItem[]} */ this.items = [];
    /** @type {MainLayer | null} another scene the main view shows instead of the frame's (a review) */
    this.mainLayer = null;
    /** @type {BoxItem[]} the boxes the main view captions (the frame's, or the main layer's) */
    this.mainItems = [];
    /** @type {CloseUpKind | null} the close-up the guidance asked for */ this.focusedCloseUp = null;
    /** @type {string | null} the track the close-ups are framed on */ this.framedId = null;
    this.selectedColor = BOX_COLORS.selected;
    this.frameRequest = 0;

    this.unsubscribe = [
      model.on('frame', ({ index }) => this.showFrame(index)),
      model.on('tracks', () => this.refreshBoxes()),
      model.on('selection', () => this.refreshBoxes()),
      model.on('mode', ({ mode }) => this.onMode(mode)),
      model.on('focus', (focus) => this.onFocus(focus)),
    ];
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(element);
    this.main.setMode(this.settings.main);
    this.updateToolbar();
    this.resize();
    if (model.scene && model.frames.length) this.showFrame(model.frameIndex);
  }

  // --- frames -------------------------------------------------------------------------------

  /** The frame cache of the model's scene, made anew when another scene is loaded. */
  ensureCache() {
    const scene = this.model.scene;
    if (!scene) return null;
    if (this.cache && this.sceneId === scene.summary.id) return this.cache;
    const lidar = this.model.sensors.find((s) => s.kind === 'lidar') ?? null;
    this.sceneId = scene.summary.id;
    this.cache = new FrameCache(this.api, scene.summary.id, this.model.frames, lidar ? lidar.ego_T_sensor : null);
    this.updateToolbar();
    return this.cache;
  }

  /**
   * Show a frame: its sweep (cached, else fetched; the last one stays until it is here) and its
   * boxes, together.
   * @param {number} index
   */
  async showFrame(index) {
    const cache = this.ensureCache();
    if (!cache) return;
    const token = ++this.frameToken;
    const started = performance.now();
    /** @type {Sweep | null} */
    let sweep = cache.peek(index) ?? null;
    const cached = sweep !== null;
    if (cache.withLidar.has(index)) {
      const loading = cache.get(index); // also prefetches the neighbours
      if (!sweep) {
        this.setStatus(`loading the sweep of frame ${index}…`);
        try {
          sweep = await loading;
        } catch (error) {
          if (token === this.frameToken) this.setStatus(`frame ${index}: ${error instanceof Error ? error.message : error}`, true);
          return;
        }
        if (token !== this.frameToken) return; // the user has moved on
      }
    }
    this.shownFrame = index;
    this.points.setSweep(sweep);
    if (sweep?.groundZ != null) this.ground.setGroundZ(sweep.groundZ);
    this.setStatus(cache.hasLidar ? '' : 'no lidar in this scene: boxes, ground and cameras only');
    this.pendingStamp = { index, started, sweep, cached };
    this.refreshBoxes();
  }

  /**
   * @param {string} text
   * @param {boolean} [error]
   */
  setStatus(text, error = false) {
    this.status = text;
    this.statusIsError = error;
    this.requestRender();
  }

  // --- boxes and close-ups ------------------------------------------------------------------

  /** Rebuild the drawn boxes from the model at the shown frame, with the draft if any. */
  refreshBoxes() {
    const frame = this.shownFrame;
    if (frame < 0 || !this.model.frames[frame]) return;
    const egoTWorld = this.model.worldToEgo(frame);
    const selectedId = this.model.selectedId;
    const shapes = this.model.shapesAt(frame);
    const selectedShape = shapes.find((shape) => shape.id === selectedId) ?? null;
    const items = boxItems(shapes, egoTWorld, selectedId, this.draft, this.controller.drawLabel);
    this.items = items;
    this.boxes.update(items);
    this.mainItems = this.mainLayer ? this.mainLayer.itemsAt(egoTWorld) : items;
    if (!this.points.sweep && items.length) {
      // Without a sweep the ground is where the boxes stand.
      this.ground.setGroundZ(quantile(items.map((i) => i.box.center[2] - i.box.size[2] / 2), 0.5));
    }
    this.selectedColor = selectedShape ? boxLook(selectedShape, false).color : BOX_COLORS.selected;
    const target = selectedShape ? transformBox(egoTWorld, selectedShape) : null;
    for (const view of this.closeUps) view.setTarget(target, selectedId === this.framedId);
    this.framedId = selectedId;
    this.layout();
    this.requestRender();
  }

  /**
   * @param {Box | null} box  ego frame
   * @param {boolean} [drawing]  a box being drawn (else the selected box being dragged)
   */
  setDraft(box, drawing = false) {
    this.draft = box ? { box, drawing } : null;
    this.refreshBoxes();
  }

  /**
   * Send a close-up drag to the controller; the draft stays until its edits are made.
   * @param {BoxEdit} edit
   */
  async commitEdit(edit) {
    try {
      await sendCloseUpEdit(this.model, this.controller, this.shownFrame, edit);
    } finally {
      this.setDraft(null);
    }
  }

  // --- drawing ------------------------------------------------------------------------------

  /** @returns {[number, number, number]} the drawn class's typical length, width, height */
  defaultSize() {
    const mean = this.model.sizePriors[this.controller.drawLabel]?.mean;
    return mean && mean.length === 3 ? [mean[0], mean[1], mean[2]] : FALLBACK_SIZE;
  }

  /** @param {import('./scene/drawTool.js').Footprint} footprint */
  footprintBox(footprint) {
    return footprintBox(footprint, this.defaultSize()[2], this.points.sweep, this.ground.groundZ);
  }

  /** @param {import('./scene/drawTool.js').Footprint} footprint */
  async commitDraw(footprint) {
    // Drawn over the shown sweep, it belongs to that frame's pose: not while the next one loads.
    if (this.shownFrame !== this.model.frameIndex) return this.setStatus('the frame was still loading: draw again', true);
    const world = boxToWorld(this.footprintBox(footprint), this.model.egoToWorld(this.shownFrame));
    await this.controller.createBox({ ...world, label: this.controller.drawLabel });
  }

  /** @param {Mode} mode */
  onMode(mode) {
    if (mode === 'draw') this.setMainView('bev');
    else if (this.drawTool.active || this.draft?.drawing) this.drawTool.reset();
    this.main.setToolActive(mode === 'draw');
    this.mainSurface.style.cursor = mode === 'draw' ? 'crosshair' : '';
    this.updateToolbar();
    this.requestRender();
  }

  /**
   * The guidance wants a view: the bird's-eye view centred on a point, or one close-up larger.
   * @param {Focus} focus
   */
  onFocus(focus) {
    this.focusedCloseUp = focus.view === 'bev' ? null : /** @type {CloseUpKind} */ (focus.view);
    const frame = this.model.frames[focus.frame] ? focus.frame : this.model.frameIndex;
    const world = focus.center ?? (focus.trackId ? this.model.shapeOf(focus.trackId, frame)?.center : null);
    if (world) {
      const [x, y, z] = transformPoint(this.model.worldToEgo(frame), world);
      this.main.centerOn(x, y, z);
    }
    if (focus.view === 'bev') this.setMainView('bev');
    this.layout();
    this.requestRender();
  }

  /**
   * Show another scene in the main view (the stationary review: world-frame content placed in the
   * shown frame's ego frame), or the frame's own again (null). The close-ups keep the frame's.
   * @param {MainLayer | null} layer
   */
  setMainLayer(layer) {
    this.mainLayer = layer;
    this.element.dataset.mainLayer = layer ? 'review' : '';
    this.refreshBoxes();
  }

  // --- settings -----------------------------------------------------------------------------

  /** @param {MainMode} mode */
  setMainView(mode) {
    this.main.setMode(mode);
    this.update({ main: mode });
  }

  /** @param {ColorMode} mode */
  setColorMode(mode) {
    this.points.setColorMode(mode);
    this.update({ color: mode });
  }

  /** @param {Partial<ViewSettings>} change */
  update(change) {
    this.settings = { ...this.settings, ...change };
    saveSettings(this.settings);
    this.updateToolbar();
    this.requestRender();
  }

  updateToolbar() {
    this.toolbar.update(this.settings, this.model.mode === 'draw', this.cache?.hasLidar ?? true);
  }

  // --- fitting ------------------------------------------------------------------------------

  /**
   * A tight box around the points near track `id` at the current frame, keeping its heading,
   * in the world frame; null without a sweep there or with too few points.
   * @param {string} id
   * @returns {{center: number[], size: number[], yaw: number} | null}
   */
  fitBoxToPoints(id) {
    const frame = this.model.frameIndex;
    const sweep = this.cache?.peek(frame);
    const shape = this.model.shapeOf(id, frame);
    return sweep && shape ? fitInWorld(sweep, shape, this.model.egoToWorld(frame)) : null;
  }

  // --- layout and rendering -------------------------------------------------------------------

  resize() {
    if (!this.renderer.resize()) return;
    this.layout();
    this.requestRender();
  }

  layout() {
    this.renderer.layout(this.main, this.closeUps, this.focusedCloseUp);
  }

  requestRender() {
    if (!this.frameRequest) this.frameRequest = requestAnimationFrame(() => this.render());
  }

  render() {
    this.frameRequest = 0;
    const drawing = this.model.mode === 'draw';
    const hint = `Draw a ${this.controller.drawLabel}: drag from its back to its front, then click (typical width) or drag the width · Esc cancels`;
    const shown = this.renderer.render(this.main, this.closeUps, {
      items: this.mainItems,
      mainScene: this.mainLayer?.scene ?? null,
      captions: this.settings.captions,
      selected: this.items.find((item) => item.id === this.model.selectedId) ?? null,
      selectedColor: this.selectedColor,
      focused: this.focusedCloseUp,
      editable: this.model.editable,
      message: drawing ? { text: hint, error: false } : this.status ? { text: this.status, error: this.statusIsError } : null,
    });
    this.stamp(shown);
  }

  /** @param {string[]} closeUps  the close-ups drawn */
  stamp(closeUps) {
    const pending = this.pendingStamp;
    this.pendingStamp = null;
    stampElement(this.element, {
      mainView: this.main.mode,
      closeUps,
      boxes: this.items.length,
      colorMode: this.settings.color,
      points: this.points.count,
      frame: pending ? { ...pending, ms: performance.now() - pending.started } : null,
    });
  }

  dispose() {
    for (const stop of this.unsubscribe) stop();
    this.resizeObserver.disconnect();
    if (this.frameRequest) cancelAnimationFrame(this.frameRequest);
    this.main.dispose();
    this.points.dispose();
    this.boxes.dispose();
    this.renderer.dispose();
  }
}
