// @ts-check
/**
 * Where each viewport sits inside the scene view, and drawing several viewports with one
 * WebGL renderer (scissored viewports, cleared one by one).
 */

import * as THREE from 'three';

/** @typedef {import('./overlay.js').Rect} Rect */

/**
 * The main view, with a column of close-ups on the right while there is something to show
 * (a close-up of weight 2 gets twice the height of the others).
 * @param {number} width  CSS pixels
 * @param {number} height
 * @param {number[] | null} weights  one per close-up; null: no close-ups
 * @returns {{main: Rect, closeUps: Rect[]}}
 */
export function layoutViewports(width, height, weights) {
  if (!weights) {
    return { main: { x: 0, y: 0, width, height }, closeUps: [] };
  }
  const column = Math.round(Math.min(Math.max(width * 0.28, 200), 380, width * 0.45));
  const total = weights.reduce((a, b) => a + b, 0);
  let top = 0;
  const closeUps = weights.map((weight, k) => {
    const h = k === weights.length - 1 ? height - top : Math.round((height * weight) / total);
    const rect = { x: width - column, y: top, width: column, height: h };
    top += h;
    return rect;
  });
  return { main: { x: 0, y: 0, width: width - column, height }, closeUps };
}

/**
 * Clear a viewport and aim the renderer at it (WebGL counts rows from the bottom).
 * @param {THREE.WebGLRenderer} renderer
 * @param {Rect} rect
 * @param {string} background
 */
export function enterViewport(renderer, rect, background) {
  const full = renderer.getSize(new THREE.Vector2());
  const y = full.y - rect.y - rect.height;
  renderer.setViewport(rect.x, y, rect.width, rect.height);
  renderer.setScissor(rect.x, y, rect.width, rect.height);
  renderer.setScissorTest(true);
  renderer.setClearColor(background);
  renderer.clear();
}

/**
 * Put an absolutely positioned element over a viewport.
 * @param {HTMLElement} element
 * @param {Rect} rect
 */
export function placeOver(element, rect) {
  Object.assign(element.style, {
    left: `${rect.x}px`,
    top: `${rect.y}px`,
    width: `${rect.width}px`,
    height: `${rect.height}px`,
  });
}
