// @ts-check
/**
 * Drawing a cuboid in the bird's-eye view, in two gestures:
 * 1. drag from the back of the object to its front: the drag is the length and the heading;
 * 2. then either click (the class's typical width) or drag sideways (the width: twice the
 *    distance from the centre line).
 * A click without a drag places a box of the class's typical size facing the ego car's heading.
 * The height is the class's too, the box standing on the ground; the close-ups refine it.
 * Works on ground-plane (ego x, y) points; the view turns pixels into those.
 */

/** @typedef {{x: number, y: number}} GroundPoint */
/** @typedef {{center: [number, number], length: number, width: number, yaw: number}} Footprint */
/** @typedef {'idle' | 'length' | 'width'} DrawPhase */

const CLICK_METRES = 0.3; // a first gesture shorter than this is a click
const MIN_WIDTH = 0.2;

export class DrawTool {
  /**
   * @param {{defaultSize: () => [number, number, number], onPreview: (footprint: Footprint | null) => void,
   *   onCommit: (footprint: Footprint) => void}} hooks
   */
  constructor(hooks) {
    this.hooks = hooks;
    /** @type {DrawPhase} */
    this.phase = 'idle';
    /** @type {GroundPoint | null} */
    this.back = null;
    /** @type {GroundPoint | null} */
    this.front = null;
    /** @type {GroundPoint | null} where the width drag started (null: no drag, the typical width) */
    this.widthStart = null;
    this.width = 0;
  }

  get active() {
    return this.phase !== 'idle';
  }

  /** @param {GroundPoint} p */
  down(p) {
    if (this.phase === 'idle') {
      this.phase = 'length';
      this.back = p;
      this.front = p;
    } else if (this.phase === 'width') {
      this.widthStart = p;
    }
  }

  /**
   * @param {GroundPoint} p
   * @param {boolean} pressed  a button is held
   */
  move(p, pressed) {
    if (this.phase === 'length') {
      this.front = p;
    } else if (this.phase === 'width' && pressed && this.widthStart) {
      this.width = Math.max(MIN_WIDTH, 2 * Math.abs(this.offsetFromAxis(p)));
    } else {
      return;
    }
    this.hooks.onPreview(this.footprint());
  }

  /** @param {GroundPoint} p */
  up(p) {
    if (this.phase === 'length' && this.back) {
      this.front = p;
      if (Math.hypot(p.x - this.back.x, p.y - this.back.y) < CLICK_METRES) {
        const [length, width] = this.hooks.defaultSize();
        this.finish({ center: [this.back.x, this.back.y], length, width, yaw: 0 });
        return;
      }
      this.phase = 'width';
      this.widthStart = null;
      this.width = this.hooks.defaultSize()[1];
      this.hooks.onPreview(this.footprint());
    } else if (this.phase === 'width') {
      const dragged = this.widthStart && Math.hypot(p.x - this.widthStart.x, p.y - this.widthStart.y) >= CLICK_METRES;
      if (!dragged) this.width = this.hooks.defaultSize()[1];
      const footprint = this.footprint();
      if (footprint) this.finish(footprint);
    }
  }

  /**
   * Signed distance of a point from the centre line (left positive).
   * @param {GroundPoint} p
   */
  offsetFromAxis(p) {
    if (!this.back || !this.front) return 0;
    const yaw = Math.atan2(this.front.y - this.back.y, this.front.x - this.back.x);
    return -(p.x - this.back.x) * Math.sin(yaw) + (p.y - this.back.y) * Math.cos(yaw);
  }

  /** @returns {Footprint | null} */
  footprint() {
    if (!this.back || !this.front) return null;
    const [dx, dy] = [this.front.x - this.back.x, this.front.y - this.back.y];
    const length = Math.hypot(dx, dy);
    const width = this.phase === 'length' ? this.hooks.defaultSize()[1] : this.width;
    return {
      center: [(this.back.x + this.front.x) / 2, (this.back.y + this.front.y) / 2],
      length: Math.max(length, CLICK_METRES),
      width,
      yaw: Math.atan2(dy, dx),
    };
  }

  /** @param {Footprint} footprint */
  finish(footprint) {
    this.reset();
    this.hooks.onCommit(footprint);
  }

  reset() {
    this.phase = 'idle';
    this.back = null;
    this.front = null;
    this.widthStart = null;
    this.hooks.onPreview(null);
  }
}
