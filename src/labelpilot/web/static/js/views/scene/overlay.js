// @ts-check
/**
 * The 2D layer over the WebGL canvas: box captions in the main view, the close-ups' frames,
 * captions, handles and measurements, and status messages. Crisp text and handles in screen
 * pixels, which WebGL lines (always 1 pixel wide) cannot give.
 */

import * as THREE from 'three';

/** @typedef {{x: number, y: number, width: number, height: number}} Rect */
/** @typedef {import('./closeUp.js').CloseUp} CloseUp */
/** @typedef {import('./boxLayer.js').BoxItem} BoxItem */

const FONT = '12px system-ui, sans-serif';
const MONO = '11px ui-monospace, monospace';
const AXIS_NAMES = ['L', 'W', 'H'];

export class Overlay {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    this.canvas = canvas;
    const context = canvas.getContext('2d');
    if (!context) throw new Error('no 2D canvas context');
    this.ctx = context;
  }

  /**
   * @param {number} width  CSS pixels
   * @param {number} height
   * @param {number} ratio  device pixels per CSS pixel
   */
  resize(width, height, ratio) {
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(height * ratio);
    this.ratio = ratio;
  }

  clear() {
    this.ctx.setTransform(1, 0, 0, 1, 0, 0);
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.ctx.setTransform(this.ratio ?? 1, 0, 0, this.ratio ?? 1, 0, 0);
  }

  /**
   * Captions above the boxes (at their top centre), skipping those off screen.
   * @param {BoxItem[]} items
   * @param {(point: ArrayLike<number>) => {x: number, y: number} | null} toScreen  viewport pixels
   * @param {Rect} rect
   */
  captions(items, toScreen, rect) {
    const ctx = this.ctx;
    ctx.save();
    this.clip(rect);
    ctx.font = FONT;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    for (const item of items) {
      const [x, y, z] = item.box.center;
      const p = toScreen([x, y, z + item.box.size[2] / 2]);
      if (!p || p.x < 0 || p.y < 0 || p.x > rect.width || p.y > rect.height) continue;
      const [sx, sy] = [rect.x + p.x, rect.y + p.y - 4];
      const width = ctx.measureText(item.caption).width + 8;
      ctx.fillStyle = 'rgba(13, 17, 22, 0.72)';
      ctx.fillRect(sx - width / 2, sy - 15, width, 15);
      ctx.fillStyle = item.look.color;
      ctx.fillText(item.caption, sx, sy - 1);
    }
    ctx.restore();
  }

  /**
   * A close-up's frame, caption, handles and the box's measurements.
   * @param {CloseUp} view
   * @param {Rect} rect
   * @param {{caption: string, color: string, focused: boolean, editable: boolean}} look
   */
  closeUp(view, rect, look) {
    const ctx = this.ctx;
    ctx.save();
    this.clip(rect);
    ctx.translate(rect.x, rect.y);
    ctx.strokeStyle = look.focused ? '#3d8bfd' : '#2a323d';
    ctx.lineWidth = look.focused ? 2 : 1;
    ctx.strokeRect(0.5, 0.5, rect.width - 1, rect.height - 1);
    ctx.font = FONT;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    const title = `${view.kind.toUpperCase()}  ${look.caption}`;
    ctx.fillStyle = 'rgba(13, 17, 22, 0.8)';
    ctx.fillRect(4, 3, ctx.measureText(title).width + 8, 18);
    ctx.fillStyle = look.focused ? '#5b9dff' : '#8b97a5';
    ctx.fillText(title, 8, 6);
    const box = view.shown;
    if (box) {
      const handles = view.handles(box);
      const center = view.toScreen(new THREE.Vector3(...box.center));
      ctx.font = MONO;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      for (const handle of handles) {
        const hot = view.hover && view.hover.kind === handle.kind && view.hover.axis === handle.axis && view.hover.side === handle.side;
        if (handle.kind === 'rotate') {
          if (!look.editable) continue;
          ctx.strokeStyle = look.color;
          ctx.beginPath();
          ctx.moveTo(handle.b.x, handle.b.y);
          ctx.lineTo(handle.a.x, handle.a.y);
          ctx.stroke();
          ctx.beginPath();
          ctx.arc(handle.a.x, handle.a.y, 6, 0, Math.PI * 2);
          ctx.fillStyle = hot ? '#ffffff' : look.color;
          ctx.fill();
          continue;
        }
        const mid = { x: (handle.a.x + handle.b.x) / 2, y: (handle.a.y + handle.b.y) / 2 };
        if (look.editable) {
          ctx.fillStyle = hot ? '#ffffff' : look.color;
          ctx.fillRect(mid.x - 4, mid.y - 4, 8, 8);
        }
        // Each in-plane size once, beside the edge that spans it, outside the box (behind it:
        // the top view's knob is ahead).
        if (handle.side === -1) {
          const { right, up } = view.view;
          const other = handle.axis === right.axis ? up.axis : right.axis;
          this.measurement(handle, center, `${AXIS_NAMES[other]} ${box.size[other].toFixed(2)}`, rect);
        }
      }
    } else {
      ctx.fillStyle = '#5f6b79';
      ctx.textAlign = 'center';
      ctx.fillText('select a box', rect.width / 2, rect.height / 2);
    }
    ctx.restore();
  }

  /**
   * A measurement written beside an edge, pushed outwards from the box's centre.
   * @param {import('./closeUp.js').Handle} handle  the edge
   * @param {{x: number, y: number}} center  the box's centre on screen
   * @param {string} text
   * @param {Rect} rect
   */
  measurement(handle, center, text, rect) {
    const ctx = this.ctx;
    const mid = { x: (handle.a.x + handle.b.x) / 2, y: (handle.a.y + handle.b.y) / 2 };
    const length = Math.hypot(mid.x - center.x, mid.y - center.y) || 1;
    const [nx, ny] = [(mid.x - center.x) / length, (mid.y - center.y) / length];
    const x = Math.min(Math.max(mid.x + nx * 36, 30), rect.width - 30);
    const y = Math.min(Math.max(mid.y + ny * 14, 24), rect.height - 10);
    ctx.fillStyle = '#d9e0e8';
    ctx.fillText(text, x, y);
  }

  /**
   * A line of text centred in a viewport (loading, no lidar, errors).
   * @param {string} text
   * @param {Rect} rect
   * @param {boolean} [error]
   */
  message(text, rect, error = false) {
    const ctx = this.ctx;
    ctx.save();
    ctx.font = FONT;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'bottom';
    const width = ctx.measureText(text).width;
    ctx.fillStyle = 'rgba(13, 17, 22, 0.8)';
    ctx.fillRect(rect.x + 4, rect.y + rect.height - 26, width + 12, 22);
    ctx.fillStyle = error ? '#f0565b' : '#d9e0e8';
    ctx.fillText(text, rect.x + 10, rect.y + rect.height - 9);
    ctx.restore();
  }

  /** @param {Rect} rect */
  clip(rect) {
    this.ctx.beginPath();
    this.ctx.rect(rect.x, rect.y, rect.width, rect.height);
    this.ctx.clip();
  }
}
