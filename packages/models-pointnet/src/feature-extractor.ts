import { Module } from '@gorilla-ts/train/nn';
import type * as tf from '@tensorflow/tfjs-core';
import type { BatchNorm, PointwiseConv } from './layers.js';
import type { Formulation } from './options.js';
import {
  createPointwiseStack,
  type ModuleList,
  type PointRows,
  pointwiseMaxPool,
  pointwiseRelu,
  transformRows,
} from './shared-mlp.js';
import { TNet } from './t-net.js';

/** Options of {@link PointNetFeatureExtractor}. */
export interface PointNetFeatureExtractorOptions {
  inChannels: number;
  featSize: number;
  /** Widths of the per-point layers before the last (`featSize`) one. */
  layerDims: number[];
  batchnorm: boolean;
  inputTransform: boolean;
  featureTransform: boolean;
}

/** The input of {@link PointNetFeatureExtractor.forward}. */
export interface FeatureExtractorInput extends PointRows {
  formulation: Formulation;
  /** Whether the input points need a gradient. */
  inputGradient: boolean;
}

/** The output of {@link PointNetFeatureExtractor.forward}. */
export interface FeatureExtractorOutput {
  /** The global feature `[B, featSize]`. */
  global: tf.Tensor2D;
  /** The input transform `[B, C, C]`, with `inputTransform`. */
  inputTransform?: tf.Tensor3D;
  /** The feature transform `[B, k, k]`, with `featureTransform`. */
  featureTransform?: tf.Tensor3D;
}

/**
 * gorilla3d's `PointNetFeatureExtractor` (global features): per-point layers
 * `inChannels → layerDims… → featSize`, each with BatchNorm and ReLU except the last (BatchNorm
 * only), then a max pool over each sample's points. Optionally the paper's T-Nets: an input
 * transform before the first layer and a feature transform after it.
 *
 * State names: `conv_layers.i` and `bn_layers.i` as gorilla3d's, then `input_transform.*` and
 * `feature_transform.*` ({@link TNet}).
 */
export class PointNetFeatureExtractor extends Module<
  FeatureExtractorInput,
  FeatureExtractorOutput
> {
  readonly convLayers: ModuleList<PointwiseConv>;
  readonly bnLayers: ModuleList<BatchNorm> | undefined;
  readonly inputTransform: TNet | undefined;
  readonly featureTransform: TNet | undefined;

  constructor(options: PointNetFeatureExtractorOptions) {
    super();
    const dims = [options.inChannels, ...options.layerDims, options.featSize];
    const stack = createPointwiseStack(dims, options.batchnorm);
    this.convLayers = this.addModule('conv_layers', stack.convLayers);
    this.bnLayers =
      stack.bnLayers === undefined ? undefined : this.addModule('bn_layers', stack.bnLayers);
    const batchnorm = options.batchnorm;
    this.inputTransform = options.inputTransform
      ? this.addModule('input_transform', new TNet({ k: options.inChannels, batchnorm }))
      : undefined;
    this.featureTransform = options.featureTransform
      ? this.addModule('feature_transform', new TNet({ k: dims[1]!, batchnorm }))
      : undefined;
  }

  forward(input: FeatureExtractorInput): FeatureExtractorOutput {
    const { batch, points, formulation } = input;
    const output: Partial<FeatureExtractorOutput> = {};
    let x = input.x;
    let inputGradient = input.inputGradient;
    if (this.inputTransform !== undefined) {
      const transform = this.inputTransform.forward({
        x,
        batch,
        points,
        formulation,
        inputGradient,
      });
      x = transformRows({ x, batch, points }, transform);
      output.inputTransform = transform;
      inputGradient = true;
    }
    const last = this.convLayers.length - 1;
    for (let i = 0; i < last; i += 1) {
      x = pointwiseRelu(x, this.convLayers.at(i), this.bnLayers?.at(i), {
        formulation,
        inputGradient,
      });
      inputGradient = true;
      if (i === 0 && this.featureTransform !== undefined) {
        const transform = this.featureTransform.forward({
          x,
          batch,
          points,
          formulation,
          inputGradient,
        });
        x = transformRows({ x, batch, points }, transform);
        output.featureTransform = transform;
      }
    }
    const run = { formulation, inputGradient };
    output.global = pointwiseMaxPool(
      { x, batch, points },
      this.convLayers.at(last),
      this.bnLayers?.at(last),
      run,
    );
    return output as FeatureExtractorOutput;
  }
}
