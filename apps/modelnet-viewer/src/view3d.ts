/** The 3D view: the cloud as three.js points, orbit controls, adjustable point size. */
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';

export class CloudView {
  readonly #renderer: THREE.WebGLRenderer;
  readonly #scene = new THREE.Scene();
  readonly #camera = new THREE.PerspectiveCamera(45, 1, 0.01, 100);
  readonly #controls: OrbitControls;
  readonly #material = new THREE.PointsMaterial({ size: 0.03, vertexColors: true });
  #points: THREE.Points | undefined;
  #cloud: { points: Float32Array; channels: number } | undefined;
  #up: 'y' | 'z' = 'z';

  constructor(readonly container: HTMLElement) {
    this.#renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
    this.#renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
    this.#scene.background = new THREE.Color(0xf4f6f8);
    container.appendChild(this.#renderer.domElement);
    this.#controls = new OrbitControls(this.#camera, this.#renderer.domElement);
    this.#placeCamera();
    this.#controls.enableDamping = true;
    this.#controls.addEventListener('change', () => this.render());
    this.#scene.add(new THREE.AxesHelper(0.3));
    new ResizeObserver(() => this.#resize()).observe(container);
    this.#resize();
  }

  /** Which axis points up: `z` for ModelNet's meshes and HDF5 copies (the default), or `y`. */
  set upAxis(axis: 'y' | 'z') {
    this.#up = axis;
    this.#placeCamera();
    if (this.#cloud) this.show(this.#cloud.points, this.#cloud.channels);
  }

  #placeCamera(): void {
    if (this.#up === 'z') {
      this.#camera.up.set(0, 0, 1);
      this.#camera.position.set(1.5, -1.9, 1.0);
    } else {
      this.#camera.up.set(0, 1, 0);
      this.#camera.position.set(1.5, 1.0, 1.9);
    }
    this.#camera.lookAt(0, 0, 0);
    this.#controls.update();
  }

  /** Shows `points` (`n × channels`, xyz first), coloured by height along the up axis. */
  show(points: Float32Array, channels: number): void {
    this.#cloud = { points, channels };
    const up = this.#up === 'z' ? 2 : 1;
    if (this.#points !== undefined) {
      this.#scene.remove(this.#points);
      this.#points.geometry.dispose();
    }
    const n = points.length / channels;
    const positions = new Float32Array(n * 3);
    const colors = new Float32Array(n * 3);
    let low = Number.POSITIVE_INFINITY;
    let high = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const y = points[i * channels + up]!;
      low = Math.min(low, y);
      high = Math.max(high, y);
    }
    const color = new THREE.Color();
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < 3; a++) positions[i * 3 + a] = points[i * channels + a]!;
      const t = (points[i * channels + up]! - low) / (high - low || 1);
      color.setHSL(0.66 - 0.66 * t, 0.75, 0.45);
      colors.set([color.r, color.g, color.b], i * 3);
    }
    const geometry = new THREE.BufferGeometry();
    geometry.setAttribute('position', new THREE.BufferAttribute(positions, 3));
    geometry.setAttribute('color', new THREE.BufferAttribute(colors, 3));
    this.#points = new THREE.Points(geometry, this.#material);
    this.#scene.add(this.#points);
    this.render();
  }

  /** Point size in scene units (the cloud spans the unit sphere). */
  set pointSize(size: number) {
    this.#material.size = size;
    this.render();
  }

  render(): void {
    this.#controls.update();
    this.#renderer.render(this.#scene, this.#camera);
  }

  #resize(): void {
    const { clientWidth: width, clientHeight: height } = this.container;
    if (width === 0 || height === 0) return;
    this.#renderer.setSize(width, height);
    this.#camera.aspect = width / height;
    this.#camera.updateProjectionMatrix();
    this.render();
  }
}
