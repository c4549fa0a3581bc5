/**
 * The shape `@gorilla-ts/train` gives its `Dataset<T>` interface. Declared here structurally
 * until `train` exports it, so that any dataset below can be handed to its DataLoader as it is.
 */
export interface Dataset<T> {
  readonly length: number;
  get(index: number): T | Promise<T>;
}

/** One point cloud and its class. */
export interface PointCloudSample {
  /** `numPoints × channels` values, row-major: `[x, y, z(, nx, ny, nz)]` per point. */
  points: Float32Array;
  /** The class index, in `[0, numClasses)`. */
  label: number;
}

/** What every point-cloud classification data set of this app offers beside `get()`. */
export interface PointCloudDataset extends Dataset<PointCloudSample> {
  /** Class names, indexed by label. */
  readonly classNames: readonly string[];
  /** `classNames.length`. */
  readonly numClasses: number;
  /** Points per sample. */
  readonly numPoints: number;
  /** Values per point: 3 (xyz) or 6 (xyz and normal). */
  readonly channels: number;
  /** The split this instance reads. */
  readonly split: 'train' | 'test';
  /** Synchronous form of `get()`: every data set here can answer without waiting. */
  getSync(index: number): PointCloudSample;
  /**
   * Picks the augmentation stream: sample `i` of epoch `e` always gets the same random draws,
   * whatever the order or the process that asks for it. Defaults to epoch 0.
   */
  setEpoch(epoch: number): void;
}
