import { MODELS } from '@gorilla-ts/registry';
import { Module } from '@gorilla-ts/train/nn';
import * as tf from '@tensorflow/tfjs-core';
import { PointNetError } from './errors.js';
import { PointNetFeatureExtractor } from './feature-extractor.js';
import { BatchNorm, LinearLayer, opSeed } from './layers.js';
import {
  type PointNetClsOptions,
  pointNetClsSchema,
  type ResolvedPointNetClsOptions,
  resolveOptions,
} from './options.js';
import { orthogonalityLoss } from './regularization.js';
import { ModuleList } from './shared-mlp.js';

/**
 * What {@link PointNetCls.forward} returns: a plain object of tensors (a `tf.TensorContainer`, so
 * `tf.tidy(() => model.forward(points))` keeps all of them).
 */
export interface PointNetOutput extends tf.TensorContainerObject {
  /** Class scores `[B, numClasses]` (unnormalised). */
  logits: tf.Tensor2D;
  /**
   * With `featureTransform`: the orthogonality term `regularizationWeight · mean_b ‖I − A Aᵀ‖²_F`
   * to add to the loss (see `withRegularization`). Absent otherwise.
   */
  regularization?: tf.Scalar;
  /** With `inputTransform`: the predicted input transforms `[B, C, C]`. */
  inputTransform?: tf.Tensor3D;
  /** With `featureTransform`: the predicted feature transforms `[B, k, k]`. */
  featureTransform?: tf.Tensor3D;
}

/**
 * PointNet for classification: gorilla3d's `PointNetCls` (the seed's model), and with
 * `inputTransform` and `featureTransform` the paper's full PointNet.
 *
 * Points `[B, N, C]` (or `[B, C, N]` with `transposedInput`) go through a shared per-point MLP
 * `C → 64 → 128 → 1024` (1×1 convolutions with bias, BatchNorm and ReLU; BatchNorm only after the
 * last), a max pool over the points, fully connected `1024 → 512 → 256` with BatchNorm and ReLU
 * (dropout after the last hidden linear layer, before its BatchNorm, as in gorilla3d) and a last
 * fully connected layer to `numClasses`. The default model has 811,048 parameters, as in PyTorch.
 *
 * `forward` returns `{ logits, regularization? }`, which spreads into the seed's criterion call:
 * `criterion({ ...model.forward(points), labels })`.
 *
 * State names are gorilla3d's PyTorch names (`feature_extractor.conv_layers.0.weight`
 * `[64, 3, 1]`, `feature_extractor.bn_layers.0.running_mean`, `linear_layers.0.weight`
 * `[512, 1024]`, `bn_layers.0.num_batches_tracked`, `last_linear_layer.bias`, ...), with PyTorch's
 * shapes, so a converted gorilla3d checkpoint loads by name.
 *
 * @example
 * ```ts
 * import { buildModel } from '@gorilla-ts/registry';
 * import '@gorilla-ts/models-pointnet'; // registers PointNetCls
 * const model = buildModel<PointNetCls>({ type: 'PointNetCls', num_classes: 40, dropout: 0.4 });
 * const { logits } = model.forward(points); // [B, 40]
 * ```
 */
export class PointNetCls extends Module<tf.Tensor, PointNetOutput> {
  /** The options with every default filled in. */
  readonly options: Readonly<ResolvedPointNetClsOptions>;
  readonly featureExtractor: PointNetFeatureExtractor;
  readonly linearLayers: ModuleList<LinearLayer>;
  readonly bnLayers: ModuleList<BatchNorm> | undefined;
  readonly lastLinearLayer: LinearLayer;
  /**
   * Whether `forward` makes the input points differentiable (for saliency or adversarial
   * inputs). Off by default: the first layer then skips the gradient of its input. With
   * `inputTransform` the input always gets one.
   */
  inputGradient = false;

  constructor(options: PointNetClsOptions = {}) {
    super();
    const checked = pointNetClsSchema.safeParse(options);
    if (!checked.success) {
      const lines = checked.error.issues.map(
        (issue) => `${issue.path.join('.') || '(options)'}: ${issue.message}`,
      );
      throw new PointNetError(
        'POINTNET_INVALID_OPTIONS',
        `Invalid PointNetCls options:\n  - ${lines.join('\n  - ')}`,
        { cause: checked.error },
      );
    }
    const resolved = resolveOptions(checked.data);
    this.options = Object.freeze({
      ...resolved,
      classifierLayerDims: [...resolved.classifierLayerDims],
    });
    const { inChannels, featSize, featLayerDims, batchnorm, classifierLayerDims, numClasses } =
      resolved;
    this.featureExtractor = this.addModule(
      'feature_extractor',
      new PointNetFeatureExtractor({
        inChannels,
        featSize,
        layerDims: featLayerDims,
        batchnorm,
        inputTransform: resolved.inputTransform,
        featureTransform: resolved.featureTransform,
      }),
    );
    const dims = [featSize, ...classifierLayerDims];
    const linears = classifierLayerDims.map((out, i) => new LinearLayer(dims[i]!, out));
    this.linearLayers = this.addModule('linear_layers', new ModuleList(linears));
    this.bnLayers = batchnorm
      ? this.addModule(
          'bn_layers',
          new ModuleList(classifierLayerDims.map((out) => new BatchNorm(out))),
        )
      : undefined;
    this.lastLinearLayer = this.addModule(
      'last_linear_layer',
      new LinearLayer(classifierLayerDims[classifierLayerDims.length - 1]!, numClasses),
    );
  }

  /**
   * Classifies point clouds: `[B, N, C]` (`[B, C, N]` with `transposedInput`) → `{ logits }`
   * `[B, numClasses]`, plus the transforms and the regularization term when the T-Nets are on.
   * Runs inside the caller's `tf.tidy`/gradient scope; in training mode it updates BatchNorm's
   * running statistics.
   *
   * @throws {@link PointNetError} `POINTNET_INVALID_INPUT` for a wrong shape, or a batch of one
   *   sample in training mode with BatchNorm.
   */
  forward(points: tf.Tensor): PointNetOutput {
    const { inChannels, transposedInput, formulation } = this.options;
    const channelAxis = transposedInput ? 1 : 2;
    if (points.rank !== 3 || points.shape[channelAxis] !== inChannels) {
      const expected = transposedInput ? `[B, ${inChannels}, N]` : `[B, N, ${inChannels}]`;
      throw new PointNetError(
        'POINTNET_INVALID_INPUT',
        `PointNetCls: expected points ${expected}, got [${points.shape.join(', ')}].`,
      );
    }
    const batch = points.shape[0]!;
    const count = points.shape[transposedInput ? 2 : 1]!;
    if (this.training && this.options.batchnorm && batch < 2) {
      throw new PointNetError(
        'POINTNET_INVALID_INPUT',
        `PointNetCls: BatchNorm in training mode needs at least 2 samples per batch, got ${batch}. ` +
          'Use a larger batch, or eval() to run single samples.',
      );
    }
    if (points.dtype !== 'float32') {
      throw new PointNetError(
        'POINTNET_INVALID_INPUT',
        `PointNetCls: expected float32 points, got ${points.dtype}.`,
      );
    }
    return tf.tidy((): PointNetOutput => {
      const channelsLast = transposedInput ? tf.transpose(points, [0, 2, 1]) : points;
      const x = tf.reshape(channelsLast, [batch * count, inChannels]) as tf.Tensor2D;
      const features = this.featureExtractor.forward({
        x,
        batch,
        points: count,
        formulation,
        inputGradient: this.inputGradient,
      });
      const output: PointNetOutput = { logits: this.#classify(features.global) };
      if (features.inputTransform !== undefined) output.inputTransform = features.inputTransform;
      if (features.featureTransform !== undefined) {
        output.featureTransform = features.featureTransform;
        output.regularization = orthogonalityLoss(
          features.featureTransform,
          this.options.regularizationWeight,
        );
      }
      return output;
    });
  }

  /** The classifier head on the global features `[B, featSize]` → logits. */
  #classify(global: tf.Tensor2D): tf.Tensor2D {
    let h: tf.Tensor = global;
    const last = this.linearLayers.length - 1;
    for (let i = 0; i <= last; i += 1) {
      h = this.linearLayers.at(i).forward(h);
      if (i === last) h = this.#dropout(h);
      const bn = this.bnLayers?.at(i);
      h = tf.relu(bn === undefined ? h : bn.forward(h));
    }
    return this.lastLinearLayer.forward(h) as tf.Tensor2D;
  }

  /** Inverted dropout (PyTorch's): in training mode, zero with probability p, scale by 1/(1-p). */
  #dropout(h: tf.Tensor): tf.Tensor {
    const p = this.options.dropout;
    if (!this.training || p === 0) return h;
    const keep = tf.greaterEqual(tf.randomUniform(h.shape, 0, 1, 'float32', opSeed()), p);
    return tf.mul(h, tf.mul(tf.cast(keep, 'float32'), 1 / (1 - p)));
  }
}

/** Registers {@link PointNetCls} in `MODELS` once (a second copy of this package keeps the first). */
export function registerPointNet(): void {
  if (!MODELS.has('PointNetCls'))
    MODELS.register('PointNetCls', PointNetCls, { schema: pointNetClsSchema });
}
