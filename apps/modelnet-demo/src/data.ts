import { InferenceSampler } from '@gorilla-ts/dist';
import type { BuildConfig } from '@gorilla-ts/registry';
import { buildDataloader, buildDataset, type DataLoader, type Sampler } from '@gorilla-ts/train';
import * as tf from '@tensorflow/tfjs-core';
import { ensureH5, type PointCloudDataset, type PointCloudSample } from './datasets/index.js';
import { AppError } from './errors.js';

/** A batch as the training step uses it: the seed's `batch["point_set"]` and `batch["label"]`. */
export interface PointBatch {
  /** `[B, N, C]` float32. */
  points: tf.Tensor3D;
  /** `[B]` int32 class indices. */
  labels: tf.Tensor1D;
}

/**
 * Builds one split of the configured data set through `DATASETS`. The test split never
 * augments: `augment` only applies to `train`. HDF5 data sets need h5wasm initialised first.
 */
export async function buildPointCloudDataset(
  config: Readonly<BuildConfig>,
  split: 'train' | 'test',
): Promise<PointCloudDataset> {
  const { augment, ...rest } = config;
  const splitConfig = split === 'train' && augment !== undefined ? { ...rest, augment } : rest;
  if (config.type === 'ModelNetH5') await ensureH5();
  return buildDataset<PointCloudSample>({ ...splitConfig, split }) as PointCloudDataset;
}

/** Turns samples (`points` `[N*C]`) into a {@link PointBatch} with one copy. */
export function pointCollate(
  dataset: PointCloudDataset,
): (samples: PointCloudSample[]) => PointBatch {
  const { numPoints, channels } = dataset;
  const size = numPoints * channels;
  return (samples) => {
    const points = new Float32Array(samples.length * size);
    const labels = new Int32Array(samples.length);
    samples.forEach((sample, i) => {
      points.set(sample.points, i * size);
      labels[i] = sample.label;
    });
    return {
      points: tf.tensor3d(points, [samples.length, numPoints, channels]),
      labels: tf.tensor1d(labels, 'int32'),
    };
  };
}

/** The train loader: shuffled, the last partial batch dropped (the seed's options). */
export function buildTrainLoader(
  dataset: PointCloudDataset,
  loaderConfig: Readonly<Record<string, unknown>>,
  sampler: Sampler | undefined,
): DataLoader<PointCloudSample, PointBatch> {
  return buildDataloader<PointCloudSample, PointBatch>(dataset, loaderConfig, {
    shuffle: true,
    dropLast: true,
    collate: pointCollate(dataset),
    ...(sampler === undefined ? {} : { sampler }),
  });
}

/**
 * The evaluation loader: this rank's contiguous shard of the test split (an
 * `InferenceSampler`: every sample counted once over all ranks), in order, nothing dropped.
 */
export function buildTestLoader(
  dataset: PointCloudDataset,
  loaderConfig: Readonly<Record<string, unknown>>,
): DataLoader<PointCloudSample, PointBatch> {
  return buildDataloader<PointCloudSample, PointBatch>(dataset, loaderConfig, {
    shuffle: false,
    dropLast: false,
    sampler: new InferenceSampler(dataset.length),
    collate: pointCollate(dataset),
  });
}

/** What the app needs to know of the model's options to check it against the data. */
interface ModelShape {
  readonly options?: { readonly numClasses?: number; readonly inChannels?: number };
}

/** Refuses a model whose class count or input channels differ from the data's. */
export function checkModelFitsData(model: ModelShape, dataset: PointCloudDataset): void {
  const numClasses = model.options?.numClasses;
  const inChannels = model.options?.inChannels;
  const problems: string[] = [];
  if (numClasses !== undefined && numClasses !== dataset.numClasses) {
    problems.push(
      `the model has ${numClasses} classes but the ${dataset.split} data has ${dataset.numClasses} ` +
        `(set model.num_classes: ${dataset.numClasses})`,
    );
  }
  if (inChannels !== undefined && inChannels !== dataset.channels) {
    problems.push(
      `the model takes ${inChannels} channels per point but the data has ${dataset.channels} ` +
        `(set model.in_channels: ${dataset.channels})`,
    );
  }
  if (problems.length > 0) {
    throw new AppError(
      'APP_DATA_MISMATCH',
      `The model does not fit the data: ${problems.join('; ')}.`,
    );
  }
}
