// @ts-check
/**
 * What orients a person in every scene, with or without lidar: a ground grid with range rings
 * around the ego car, and the ego car itself, all at the estimated ground height.
 */

import * as THREE from 'three';
import { BOX_COLORS } from '../boxStyle.js';

/** A passenger car's footprint and height, metres: the ego car is drawn this size. */
const EGO_SIZE = /** @type {const} */ ([4.5, 1.8, 1.5]);
const GRID_SIZE = 160;
const GRID_STEP = 5;
const RING_RADII = [10, 20, 30, 50];

/** @param {number} radius */
function ring(radius) {
  const points = [];
  for (let i = 0; i <= 96; i++) {
    const a = (i / 96) * Math.PI * 2;
    points.push(new THREE.Vector3(Math.cos(a) * radius, Math.sin(a) * radius, 0));
  }
  return new THREE.BufferGeometry().setFromPoints(points);
}

export class GroundLayer {
  constructor() {
    this.group = new THREE.Group();
    this.group.name = 'ground';
    const grid = new THREE.GridHelper(GRID_SIZE, GRID_SIZE / GRID_STEP, '#3b4252', '#262b36');
    // GridHelper lies in the x-z plane; the ego frame's ground is x-y (z up).
    grid.rotation.x = Math.PI / 2;
    this.group.add(grid);
    const ringMaterial = new THREE.LineBasicMaterial({ color: '#3f4a5e' });
    for (const radius of RING_RADII) this.group.add(new THREE.LineLoop(ring(radius), ringMaterial));
    const body = new THREE.LineSegments(
      new THREE.EdgesGeometry(new THREE.BoxGeometry(...EGO_SIZE)),
      new THREE.LineBasicMaterial({ color: BOX_COLORS.ego }),
    );
    const roof = new THREE.Mesh(
      new THREE.BoxGeometry(...EGO_SIZE),
      new THREE.MeshBasicMaterial({ color: BOX_COLORS.ego, transparent: true, opacity: 0.18, depthWrite: false }),
    );
    const nose = new THREE.Mesh(
      new THREE.ConeGeometry(0.35, 0.8, 3),
      new THREE.MeshBasicMaterial({ color: BOX_COLORS.ego }),
    );
    nose.rotation.z = -Math.PI / 2; // the cone points along +y; the car drives along +x
    nose.position.set(EGO_SIZE[0] / 2 + 0.5, 0, 0);
    this.ego = new THREE.Group();
    this.ego.name = 'ego car';
    this.ego.add(body, roof, nose);
    this.group.add(this.ego);
    /** the ground's height in the ego frame */
    this.groundZ = 0;
    this.setGroundZ(0);
  }

  /**
   * Put the grid and the car on the ground (ego frame; KITTI's ego origin is the lidar, 1.7 m up).
   * @param {number} z
   */
  setGroundZ(z) {
    this.groundZ = z;
    this.group.position.z = z;
    this.ego.position.z = EGO_SIZE[2] / 2;
  }
}
