import { Module } from '@gorilla-ts/train/nn';
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm, LinearLayer, type PointwiseConv } from './layers.js';
import type { Formulation } from './options.js';
import {
  createPointwiseStack,
  ModuleList,
  type PointRows,
  pointwiseMaxPool,
  pointwiseRelu,
} from './shared-mlp.js';

/** Options of {@link TNet}. */
export interface TNetOptions {
  /** Size of the predicted `k × k` matrix (the channels it transforms). */
  k: number;
  /** BatchNorm after every layer but the last. Defaults to `true`. */
  batchnorm?: boolean;
}

/** The input of {@link TNet.forward}. */
export interface TNetInput extends PointRows {
  formulation: Formulation;
  /** Whether the rows need a gradient (false for the raw input points). */
  inputGradient: boolean;
}

/** The paper's T-Net widths: per-point 64, 128, 1024, then fully connected 512, 256. */
const POINTWISE_DIMS: readonly number[] = [64, 128, 1024];
const LINEAR_DIMS: readonly number[] = [512, 256];
const GLOBAL_SIZE = 1024;
const LAST_HIDDEN = 256;

/**
 * The PointNet paper's transform network (T-Net): per-point layers `k → 64 → 128 → 1024`, each
 * with BatchNorm and ReLU, a global max pool, fully connected `1024 → 512 → 256` with BatchNorm
 * and ReLU, and a last fully connected layer to `k·k` whose weight starts at zero and whose bias
 * is the flattened identity, so that the transform starts as the identity. Returns one `k × k`
 * matrix per sample.
 *
 * State names: `conv_layers.{0,1,2}`, `bn_layers.{0,1,2}` (per-point), `linear_layers.{0,1}`,
 * `linear_bn_layers.{0,1}` and `last_linear_layer`.
 */
export class TNet extends Module<TNetInput, tf.Tensor3D> {
  readonly k: number;
  readonly convLayers: ModuleList<PointwiseConv>;
  readonly bnLayers: ModuleList<BatchNorm> | undefined;
  readonly linearLayers: ModuleList<LinearLayer>;
  readonly linearBnLayers: ModuleList<BatchNorm> | undefined;
  readonly lastLinearLayer: LinearLayer;

  constructor(options: TNetOptions) {
    super();
    const { k, batchnorm = true } = options;
    this.k = k;
    const stack = createPointwiseStack([k, ...POINTWISE_DIMS], batchnorm);
    this.convLayers = this.addModule('conv_layers', stack.convLayers);
    this.bnLayers =
      stack.bnLayers === undefined ? undefined : this.addModule('bn_layers', stack.bnLayers);
    const dims = [GLOBAL_SIZE, ...LINEAR_DIMS];
    const linears = LINEAR_DIMS.map((out, i) => new LinearLayer(dims[i]!, out));
    this.linearLayers = this.addModule('linear_layers', new ModuleList(linears));
    this.linearBnLayers = batchnorm
      ? this.addModule(
          'linear_bn_layers',
          new ModuleList(LINEAR_DIMS.map((out) => new BatchNorm(out))),
        )
      : undefined;
    this.lastLinearLayer = this.addModule(
      'last_linear_layer',
      new LinearLayer(LAST_HIDDEN, k * k, {
        weight: tf.zeros([k * k, LAST_HIDDEN]),
        bias: tf.reshape(tf.eye(k), [k * k]),
      }),
    );
  }

  forward(input: TNetInput): tf.Tensor3D {
    return tf.tidy(() => {
      const { formulation } = input;
      let x = input.x;
      const last = this.convLayers.length - 1;
      for (let i = 0; i < last; i += 1) {
        const inputGradient = i > 0 || input.inputGradient;
        x = pointwiseRelu(x, this.convLayers.at(i), this.bnLayers?.at(i), {
          formulation,
          inputGradient,
        });
      }
      const rows = { x, batch: input.batch, points: input.points };
      const run = { formulation, inputGradient: last > 0 || input.inputGradient };
      // ReLU commutes with the max pool, so it is applied to the pooled [B, 1024] only.
      let h: tf.Tensor = tf.relu(
        pointwiseMaxPool(rows, this.convLayers.at(last), this.bnLayers?.at(last), run),
      );
      for (let i = 0; i < this.linearLayers.length; i += 1) {
        h = this.linearLayers.at(i).forward(h);
        const bn = this.linearBnLayers?.at(i);
        h = tf.relu(bn === undefined ? h : bn.forward(h));
      }
      return tf.reshape(this.lastLinearLayer.forward(h), [
        input.batch,
        this.k,
        this.k,
      ]) as tf.Tensor3D;
    });
  }
}
