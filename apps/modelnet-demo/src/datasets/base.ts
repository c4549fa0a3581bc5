import { type AugmentInput, type AugmentStep, applyAugment, resolveAugment } from './augment.js';
import { createRng, mixSeed } from './random.js';
import type { PointCloudDataset, PointCloudSample } from './types.js';

/** Salt of the augmentation stream, so it never coincides with a generator's stream. */
const AUGMENT_STREAM = 0x41554720;

/**
 * What the point-cloud data sets share: index checks, the per-epoch augmentation stream and
 * `numClasses`. Subclasses implement {@link PointCloudBase.readSample}.
 */
export abstract class PointCloudBase implements PointCloudDataset {
  abstract readonly length: number;
  abstract readonly classNames: readonly string[];
  abstract readonly numPoints: number;
  abstract readonly channels: number;
  abstract readonly split: 'train' | 'test';
  /** The augmentations run by `get()`, defaults filled in, in order. Empty when none. */
  readonly augment: readonly AugmentStep[];
  /** Seed of the augmentation stream (and of generation, for generated data). */
  readonly seed: number;
  #epoch = 0;

  protected constructor(augment: AugmentInput | undefined, seed: number | undefined) {
    this.augment = resolveAugment(augment);
    this.seed = seed ?? 0;
  }

  get numClasses(): number {
    return this.classNames.length;
  }

  /** The epoch set by {@link PointCloudBase.setEpoch}. */
  get epoch(): number {
    return this.#epoch;
  }

  setEpoch(epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < 0) {
      throw new RangeError(`setEpoch expects an integer >= 0, got ${epoch}.`);
    }
    this.#epoch = epoch;
  }

  get(index: number): PointCloudSample {
    return this.getSync(index);
  }

  getSync(index: number): PointCloudSample {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(
        `Index ${index} is out of range for a data set of ${this.length} samples.`,
      );
    }
    const sample = this.readSample(index);
    if (this.augment.length > 0) {
      const rng = createRng(mixSeed(this.seed, AUGMENT_STREAM, this.#epoch, index));
      applyAugment(sample.points, this.channels, this.augment, rng);
    }
    return sample;
  }

  /** Sample `index` (already range-checked) in a fresh array the caller may modify. */
  protected abstract readSample(index: number): PointCloudSample;
}
