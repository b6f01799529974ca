// @ts-check
/**
 * The main viewport's two cameras: a perspective camera that orbits (OrbitControls: left drag
 * rotates, right drag pans, wheel zooms), and a top-down orthographic bird's-eye view for drawing,
 * with the car's heading up the screen (right or middle drag pans, left drag too unless a tool
 * owns it, the wheel zooms about the cursor). Both look at the ego frame (x forward, z up).
 */

import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';

/** @typedef {'orbit' | 'bev'} MainMode */

const BEV_HEIGHT = 200; // metres above the ground; everything of a sweep is below
const MIN_METRES_PER_PIXEL = 0.005;
const MAX_METRES_PER_PIXEL = 1;

export class MainView {
  /**
   * @param {HTMLElement} surface  the element that receives this viewport's pointer events
   * @param {() => void} onChange  the view moved: render again
   */
  constructor(surface, onChange) {
    this.surface = surface;
    this.onChange = onChange;
    /** @type {MainMode} */
    this.mode = 'orbit';
    this.width = 1;
    this.height = 1;
    this.perspective = new THREE.PerspectiveCamera(55, 1, 0.1, 1000);
    this.perspective.up.set(0, 0, 1);
    this.perspective.position.set(-16, 0, 14);
    this.controls = new OrbitControls(this.perspective, surface);
    this.controls.target.set(10, 0, 0);
    this.controls.screenSpacePanning = true;
    this.controls.maxPolarAngle = Math.PI * 0.49; // never under the ground
    this.controls.addEventListener('change', () => this.onChange());
    this.controls.update();
    this.bev = new THREE.OrthographicCamera(-1, 1, 1, -1, 0.1, BEV_HEIGHT * 2);
    this.bev.up.set(1, 0, 0);
    this.bevCenter = new THREE.Vector2(12, 0);
    this.metresPerPixel = 0.08;
    /** a tool (drawing) owns the left button: no orbiting, no left-drag panning */
    this.toolActive = false;
    /** @type {{x: number, y: number, id: number} | null} */
    this.panning = null;
    surface.addEventListener('wheel', (event) => this.onWheel(event), { passive: false });
    surface.addEventListener('pointerdown', (event) => this.onPointerDown(event));
    surface.addEventListener('pointermove', (event) => this.onPointerMove(event));
    surface.addEventListener('pointerup', (event) => this.onPointerUp(event));
    surface.addEventListener('contextmenu', (event) => event.preventDefault());
    this.setMode('orbit');
  }

  /** @returns {THREE.Camera} */
  get camera() {
    return this.mode === 'orbit' ? this.perspective : this.bev;
  }

  /** @param {MainMode} mode */
  setMode(mode) {
    this.mode = mode;
    this.controls.enabled = mode === 'orbit' && !this.toolActive;
    this.updateBev();
    this.onChange();
  }

  /** @param {boolean} active  a tool takes the left button (orbit controls pause) */
  setToolActive(active) {
    this.toolActive = active;
    this.controls.enabled = this.mode === 'orbit' && !active;
  }

  /**
   * @param {number} width  CSS pixels
   * @param {number} height
   */
  resize(width, height) {
    this.width = Math.max(1, width);
    this.height = Math.max(1, height);
    this.perspective.aspect = this.width / this.height;
    this.perspective.updateProjectionMatrix();
    this.updateBev();
  }

  updateBev() {
    const halfW = (this.width / 2) * this.metresPerPixel;
    const halfH = (this.height / 2) * this.metresPerPixel;
    // Screen up is +x (ahead), screen right is -y (the car's right).
    this.bev.left = -halfW;
    this.bev.right = halfW;
    this.bev.top = halfH;
    this.bev.bottom = -halfH;
    this.bev.position.set(this.bevCenter.x, this.bevCenter.y, BEV_HEIGHT);
    this.bev.lookAt(this.bevCenter.x, this.bevCenter.y, 0);
    this.bev.updateProjectionMatrix();
    this.bev.updateMatrixWorld();
    // Where the bird's-eye view looks, for tests that draw in it.
    const data = this.surface.dataset;
    data.metresPerPixel = String(this.metresPerPixel);
    data.center = `${this.bevCenter.x},${this.bevCenter.y}`;
  }

  /**
   * Look at an ego-frame point: the bird's-eye view centres on it, the orbit camera turns to it.
   * @param {number} x
   * @param {number} y
   * @param {number} [z]
   */
  centerOn(x, y, z = 0) {
    this.bevCenter.set(x, y);
    this.updateBev();
    const offset = this.perspective.position.clone().sub(this.controls.target);
    this.controls.target.set(x, y, z);
    this.perspective.position.copy(this.controls.target).add(offset);
    this.controls.update();
    this.onChange();
  }

  /**
   * The ray through a pixel of the viewport, in the ego frame.
   * @param {number} px  CSS pixels from the viewport's left
   * @param {number} py  from its top
   * @returns {THREE.Ray}
   */
  ray(px, py) {
    const raycaster = new THREE.Raycaster();
    const ndc = new THREE.Vector2((px / this.width) * 2 - 1, 1 - (py / this.height) * 2);
    this.camera.updateMatrixWorld();
    raycaster.setFromCamera(ndc, this.camera);
    return raycaster.ray;
  }

  /**
   * Where the ray through a pixel meets the horizontal plane at height z, or null.
   * @param {number} px
   * @param {number} py
   * @param {number} z
   * @returns {THREE.Vector3 | null}
   */
  pointOnPlane(px, py, z) {
    const plane = new THREE.Plane(new THREE.Vector3(0, 0, 1), -z);
    return this.ray(px, py).intersectPlane(plane, new THREE.Vector3());
  }

  /**
   * A point of the ego frame in viewport pixels (null behind the camera).
   * @param {ArrayLike<number>} point
   * @returns {{x: number, y: number} | null}
   */
  toScreen(point) {
    const v = new THREE.Vector3(point[0], point[1], point[2]).project(this.camera);
    if (v.z > 1 || v.z < -1) return null;
    return { x: ((v.x + 1) / 2) * this.width, y: ((1 - v.y) / 2) * this.height };
  }

  /** @param {WheelEvent} event */
  onWheel(event) {
    if (this.mode !== 'bev') return;
    event.preventDefault();
    const before = this.pointOnPlane(event.offsetX, event.offsetY, 0);
    const factor = Math.exp(event.deltaY * 0.0015);
    this.metresPerPixel = Math.min(MAX_METRES_PER_PIXEL, Math.max(MIN_METRES_PER_PIXEL, this.metresPerPixel * factor));
    this.updateBev();
    const after = this.pointOnPlane(event.offsetX, event.offsetY, 0);
    // Zoom about the cursor: the point under it stays under it.
    if (before && after) this.bevCenter.add(new THREE.Vector2(before.x - after.x, before.y - after.y));
    this.updateBev();
    this.onChange();
  }

  /** @param {PointerEvent} event */
  onPointerDown(event) {
    if (this.mode !== 'bev') return;
    if (event.button === 0 && this.toolActive) return;
    this.panning = { x: event.clientX, y: event.clientY, id: event.pointerId };
  }

  /** @param {PointerEvent} event */
  onPointerMove(event) {
    if (!this.panning || this.panning.id !== event.pointerId) return;
    const dx = event.clientX - this.panning.x;
    const dy = event.clientY - this.panning.y;
    this.panning.x = event.clientX;
    this.panning.y = event.clientY;
    // Dragging right moves the ground right: the centre goes to the car's left (+y).
    this.bevCenter.x += dy * this.metresPerPixel;
    this.bevCenter.y += dx * this.metresPerPixel;
    this.updateBev();
    this.onChange();
  }

  /** @param {PointerEvent} event */
  onPointerUp(event) {
    if (this.panning && this.panning.id === event.pointerId) this.panning = null;
  }

  dispose() {
    this.controls.dispose();
  }
}
