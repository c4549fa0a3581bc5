import { Module } from '@gorilla-ts/train/nn';
import * as tf from '@tensorflow/tfjs-core';
import {
  convBnMaxPoolTrain,
  convBnReluTrain,
  denseMaxPool,
  denseRelu,
  foldedAffine,
} from './kernels.js';
import { BatchNorm, PointwiseConv } from './layers.js';
import type { Formulation } from './options.js';

/**
 * An indexed list of modules, named `0`, `1`, ... in state dicts (PyTorch's `nn.ModuleList`).
 * It only holds state: its owner calls the items.
 */
export class ModuleList<M extends Module<never, unknown>> extends Module<never, never> {
  readonly items: readonly M[];

  constructor(items: M[]) {
    super();
    this.items = items.map((item, index) => this.addModule(String(index), item));
  }

  /** The item at `index` (throws when out of range). */
  at(index: number): M {
    const item = this.items[index < 0 ? this.items.length + index : index];
    if (item === undefined)
      throw new RangeError(`ModuleList: no item ${index} in ${this.items.length}.`);
    return item;
  }

  get length(): number {
    return this.items.length;
  }

  forward(): never {
    throw new Error('ModuleList holds modules; call its items instead.');
  }
}

/** Points flattened to rows: `x` `[B·N, C]`. */
export interface PointRows {
  x: tf.Tensor2D;
  batch: number;
  points: number;
}

/** How a pointwise layer runs. */
export interface PointwiseRun {
  formulation: Formulation;
  /** Whether `x` needs a gradient (false only for the raw input). */
  inputGradient: boolean;
}

/**
 * One hidden per-point layer: `relu(bn(conv(x)))` (`bn` optional), `[M, Cin]` → `[M, Cout]`.
 * `training` is read from `bn` (the model's `train()`/`eval()` sets it).
 */
export function pointwiseRelu(
  x: tf.Tensor2D,
  conv: PointwiseConv,
  bn: BatchNorm | undefined,
  run: PointwiseRun,
): tf.Tensor2D {
  if (run.formulation === 'autodiff') {
    const z = conv.forward(x);
    return tf.relu(bn === undefined ? z : bn.forward(z)) as tf.Tensor2D;
  }
  if (bn?.training) return convBnReluTrain(x, conv, bn, { inputGradient: run.inputGradient });
  const { w, c } = foldedAffine(conv, bn);
  return denseRelu(x, w, c, run.inputGradient);
}

/**
 * The last per-point layer and the global max pool: `max over each sample's points of
 * bn(conv(x))` (`bn` optional), `[B·N, Cin]` → `[B, Cout]`.
 */
export function pointwiseMaxPool(
  rows: PointRows,
  conv: PointwiseConv,
  bn: BatchNorm | undefined,
  run: PointwiseRun,
): tf.Tensor2D {
  const { x, batch, points } = rows;
  if (run.formulation === 'autodiff') {
    const z = conv.forward(x);
    const normalised = bn === undefined ? z : bn.forward(z);
    return tf.max(tf.reshape(normalised, [batch, points, conv.outChannels]), 1) as tf.Tensor2D;
  }
  if (bn?.training) {
    return convBnMaxPoolTrain(x, conv, bn, batch, points, { inputGradient: run.inputGradient });
  }
  const { w, c } = foldedAffine(conv, bn);
  return denseMaxPool(x, w, c, batch, points, run.inputGradient);
}

/** Applies one `[k, k]` matrix per sample to the rows of that sample: `[B·N, k]` → `[B·N, k]`. */
export function transformRows(rows: PointRows, transform: tf.Tensor3D): tf.Tensor2D {
  const k = rows.x.shape[1];
  const points3d = tf.reshape(rows.x, [rows.batch, rows.points, k]) as tf.Tensor3D;
  return tf.reshape(tf.matMul(points3d, transform), [-1, k]) as tf.Tensor2D;
}

/** PointNet's per-point stack: the conv layers with their BatchNorms, names as gorilla3d's. */
export interface PointwiseStack {
  convLayers: ModuleList<PointwiseConv>;
  bnLayers: ModuleList<BatchNorm> | undefined;
}

/** Creates `conv_layers` (`dims[i]` → `dims[i + 1]`) and, with `batchnorm`, `bn_layers`. */
export function createPointwiseStack(dims: number[], batchnorm: boolean): PointwiseStack {
  const convs: PointwiseConv[] = [];
  for (let i = 0; i + 1 < dims.length; i += 1)
    convs.push(new PointwiseConv(dims[i]!, dims[i + 1]!));
  return {
    convLayers: new ModuleList(convs),
    bnLayers: batchnorm
      ? new ModuleList(convs.map((conv) => new BatchNorm(conv.outChannels)))
      : undefined,
  };
}
