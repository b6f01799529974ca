// @ts-check
/**
 * The frame's camera images with every cuboid projected into them (projection.js), in the
 * colours of the 3D view. Hidden when no frame of the scene has an image; a frame without one
 * says where the images are. Images are decoded once (createImageBitmap) and kept in a small LRU.
 *
 * For tests the element carries `data-frame`, `data-cameras` (names drawn), `data-boxes` (how many
 * boxes at least one image shows) and `data-box-ids` (their ids, sorted).
 */

import { api as defaultApi } from '../api.js';
import { transformBox } from '../geometry.js';
import { pinholeCamera, projectBox } from '../projection.js';
import { adoptPageColors, boxCaption, boxLook } from './boxStyle.js';

/** @typedef {import('../model.js').EditorModel} EditorModel */
/** @typedef {import('../projection.js').PinholeCamera} PinholeCamera */
/** @typedef {{get: (path: string) => Promise<any>, binary: (path: string) => Promise<ArrayBuffer>}} ImageSource */

const IMAGE_CACHE = 12;
const MAX_IMAGE_HEIGHT_VH = 24;

class CameraPanel {
  /**
   * @param {HTMLElement} element
   * @param {EditorModel} model
   * @param {ImageSource} api
   */
  constructor(element, model, api) {
    adoptPageColors();
    this.element = element;
    this.model = model;
    this.api = api;
    /** @type {Map<string, Promise<ImageBitmap>>} LRU by insertion order */
    this.images = new Map();
    this.heading = document.createElement('h2');
    this.heading.textContent = 'Cameras';
    this.count = document.createElement('span');
    this.count.className = 'count';
    this.heading.append(' ', this.count);
    this.strip = document.createElement('div');
    this.strip.className = 'body camera-strip';
    this.strip.style.cssText = 'display:flex;gap:8px;align-items:flex-start;overflow-x:auto';
    element.replaceChildren(this.heading, this.strip);
    this.drawToken = 0;
    this.scheduled = 0;
    const redraw = () => this.schedule();
    model.on('frame', redraw);
    model.on('tracks', redraw);
    model.on('selection', redraw);
    new ResizeObserver(redraw).observe(element);
    this.schedule();
  }

  /** The scene's cameras by name (those with intrinsics). */
  cameras() {
    /** @type {Map<string, PinholeCamera>} */
    const byName = new Map();
    for (const sensor of this.model.sensors) {
      const camera = sensor.kind === 'camera' ? pinholeCamera(sensor) : null;
      if (camera) byName.set(sensor.name, camera);
    }
    return byName;
  }

  schedule() {
    if (!this.scheduled) this.scheduled = requestAnimationFrame(() => this.draw());
  }

  async draw() {
    this.scheduled = 0;
    const token = ++this.drawToken;
    const frames = this.model.frames;
    const withImages = frames.filter((f) => f.cameras.length > 0).map((f) => f.index);
    this.element.hidden = withImages.length === 0;
    if (this.element.hidden) return;
    const index = this.model.frameIndex;
    const frame = frames[index];
    const cameras = this.cameras();
    const names = (frame?.cameras ?? []).filter((name) => cameras.has(name));
    this.element.dataset.frame = String(index);
    if (!names.length) {
      this.count.textContent = '';
      this.showNote(index, withImages);
      return;
    }
    this.count.textContent = names.join(' · ');
    const bitmaps = await Promise.all(names.map((name) => this.image(index, name).catch(() => null)));
    if (token !== this.drawToken) return;
    const canvases = names.map((name) => this.canvasFor(name));
    this.strip.replaceChildren(...canvases.map((c) => /** @type {HTMLElement} */ (c.parentElement)));
    const seen = new Set();
    names.forEach((name, k) => {
      const ids = this.paint(canvases[k], /** @type {PinholeCamera} */ (cameras.get(name)), bitmaps[k], names.length);
      for (const id of ids) seen.add(id);
    });
    this.element.dataset.cameras = names.join(',');
    this.element.dataset.boxes = String(seen.size);
    this.element.dataset.boxIds = [...seen].sort().join(',');
    this.prefetch(withImages, index);
  }

  /**
   * @param {number} index
   * @param {number[]} withImages
   */
  showNote(index, withImages) {
    const note = document.createElement('p');
    note.className = 'muted camera-note';
    note.style.margin = '0';
    const nearest = withImages.reduce((best, f) => (Math.abs(f - index) < Math.abs(best - index) ? f : best), withImages[0]);
    const list = withImages.length > 8 ? `${withImages.slice(0, 8).join(', ')}, …` : withImages.join(', ');
    note.textContent = `No camera image at frame ${index}. Images at frames ${list} (nearest: ${nearest}).`;
    this.strip.replaceChildren(note);
    this.element.dataset.cameras = '';
    this.element.dataset.boxes = '0';
    this.element.dataset.boxIds = '';
  }

  /**
   * A canvas (in a figure with a caption) per camera, reused across frames.
   * @param {string} name
   * @returns {HTMLCanvasElement}
   */
  canvasFor(name) {
    const existing = /** @type {HTMLCanvasElement | null} */ (this.element.querySelector(`canvas[data-camera="${CSS.escape(name)}"]`));
    if (existing) return existing;
    const figure = document.createElement('figure');
    figure.className = 'camera-view';
    figure.style.cssText = 'margin:0;flex:none';
    const canvas = document.createElement('canvas');
    canvas.dataset.camera = name;
    canvas.style.display = 'block';
    canvas.style.borderRadius = '4px';
    const caption = document.createElement('figcaption');
    caption.className = 'muted';
    caption.style.cssText = 'font-size:11px;margin-top:2px';
    caption.textContent = name;
    figure.append(canvas, caption);
    return canvas;
  }

  /**
   * Draw the image and the projected boxes; returns the ids of the boxes seen in it.
   * @param {HTMLCanvasElement} canvas
   * @param {PinholeCamera} camera
   * @param {ImageBitmap | null} bitmap
   * @param {number} cameraCount
   */
  paint(canvas, camera, bitmap, cameraCount) {
    const available = Math.max(160, (this.strip.clientWidth - 8 * (cameraCount - 1) - 24) / cameraCount);
    const maxHeight = (window.innerHeight * MAX_IMAGE_HEIGHT_VH) / 100;
    const scale = Math.min(available / camera.width, maxHeight / camera.height);
    const [width, height] = [Math.round(camera.width * scale), Math.round(camera.height * scale)];
    const ratio = Math.min(window.devicePixelRatio || 1, 2);
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
    ctx.setTransform(ratio * scale, 0, 0, ratio * scale, 0, 0);
    ctx.fillStyle = '#0d1116';
    ctx.fillRect(0, 0, camera.width, camera.height);
    if (bitmap) ctx.drawImage(bitmap, 0, 0, camera.width, camera.height);
    const frame = this.model.frameIndex;
    const egoTWorld = this.model.worldToEgo(frame);
    const seen = [];
    const shapes = this.model.shapesAt(frame);
    // The selected box last, on top of the others.
    shapes.sort((a, b) => Number(a.id === this.model.selectedId) - Number(b.id === this.model.selectedId));
    for (const shape of shapes) {
      const projected = projectBox(camera, transformBox(egoTWorld, shape));
      if (!projected.visible) continue;
      seen.push(shape.id);
      const look = boxLook(shape, shape.id === this.model.selectedId);
      ctx.strokeStyle = look.color;
      ctx.globalAlpha = look.opacity;
      ctx.lineWidth = (look.selected ? 2.5 : 1.5) / scale;
      ctx.setLineDash(look.dashed ? [6 / scale, 4 / scale] : []);
      ctx.beginPath();
      for (const [u0, v0, u1, v1] of [...projected.edges, ...projected.cross]) {
        ctx.moveTo(u0, v0);
        ctx.lineTo(u1, v1);
      }
      ctx.stroke();
      this.caption(ctx, boxCaption(shape), projected.edges, look.color, scale);
    }
    ctx.globalAlpha = 1;
    ctx.setLineDash([]);
    if (!bitmap) {
      ctx.fillStyle = '#f0565b';
      ctx.font = `${14 / scale}px system-ui, sans-serif`;
      ctx.fillText('image unavailable', 12 / scale, 24 / scale);
    }
    return seen;
  }

  /**
   * A box's caption above its highest projected point.
   * @param {CanvasRenderingContext2D} ctx
   * @param {string} text
   * @param {import('../projection.js').Segment[]} edges
   * @param {string} color
   * @param {number} scale
   */
  caption(ctx, text, edges, color, scale) {
    let top = edges[0];
    for (const e of edges) if (Math.min(e[1], e[3]) < Math.min(top[1], top[3])) top = e;
    const [u, v] = top[1] < top[3] ? [top[0], top[1]] : [top[2], top[3]];
    ctx.font = `${11 / scale}px system-ui, sans-serif`;
    ctx.fillStyle = color;
    ctx.fillText(text, u, Math.max(v - 3 / scale, 11 / scale));
  }

  /**
   * The decoded image of a frame's camera (cached).
   * @param {number} index
   * @param {string} camera
   */
  image(index, camera) {
    const key = `${index}/${camera}`;
    const cached = this.images.get(key);
    if (cached) {
      this.images.delete(key);
      this.images.set(key, cached);
      return cached;
    }
    const sceneId = this.model.scene?.summary.id;
    const loading = this.api
      .binary(`/api/scenes/${sceneId}/frames/${index}/images/${encodeURIComponent(camera)}`)
      .then((payload) => createImageBitmap(new Blob([payload])));
    loading.catch(() => this.images.delete(key));
    this.images.set(key, loading);
    for (const old of this.images.keys()) {
      if (this.images.size <= IMAGE_CACHE) break;
      this.images.delete(old);
    }
    return loading;
  }

  /**
   * Load the next and previous frames' images that exist, so stepping shows them at once.
   * @param {number[]} withImages
   * @param {number} index
   */
  prefetch(withImages, index) {
    const position = withImages.indexOf(index);
    for (const neighbour of [withImages[position + 1], withImages[position - 1]]) {
      if (neighbour === undefined) continue;
      for (const name of this.model.frames[neighbour].cameras) this.image(neighbour, name).catch(() => null);
    }
  }
}

/**
 * Mount the camera panel into `#camera-panel`.
 * @param {HTMLElement} element
 * @param {EditorModel} model
 * @param {{api?: ImageSource}} [options]
 */
export function mountCameraPanel(element, model, options = {}) {
  return new CameraPanel(element, model, options.api ?? defaultApi);
}
