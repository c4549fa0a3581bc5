import * as tf from '@tensorflow/tfjs-core';

/**
 * The per-point layers of PointNet as custom-gradient kernels.
 *
 * A PointNet layer is a 1×1 convolution (a dense layer over the channel axis of every point),
 * BatchNorm over all `M = B·N` points, and ReLU, or, for the last layer, a global max pool over
 * each sample's points. Written with tfjs's stock gradients, a training step spends most of its
 * time in unfused elementwise passes over `[M, C]` activations (BatchNorm's moments and their
 * gradients, the ReLU and max-pool gradients) and in transposed matrix products (slow on wasm).
 * The kernels here compute the same values and the same gradients (up to rounding) with far fewer
 * full-size passes:
 *
 * - **BatchNorm statistics from the input's covariance.** With `z = x W + b`, the batch mean is
 *   `mean(x) W + b` and the batch variance is `diag(Wᵀ Σ W)`, `Σ` the `[Cin, Cin]` covariance of
 *   `x`. BatchNorm then folds into the product: `y = relu(x W' + c)`, `W' = W·γ/σ`, one fused
 *   matrix product and no pass over `[M, Cout]` besides it.
 * - **BatchNorm backward in closed form.** The gradients of `W`, `γ`, `β` and `x` reduce to
 *   `xᵀ dA`, `dA W'ᵀ` and `[Cin, Cin]`-sized corrections (`dA = dy·[y > 0]`); `dz` is never
 *   materialised. The conv bias before a training-mode BatchNorm has an exactly zero gradient
 *   (BatchNorm subtracts the batch mean), which is returned as such.
 * - **Max pool by argmax.** BatchNorm is a per-channel affine map, so the pooled value is the
 *   normalised value at the point where `x W` (sign-adjusted by `γ`) is largest: one product and
 *   one argmax, then a gather of `B·Cout` rows. The backward pass is sparse: the gradient flows
 *   to those rows only (a scatter-add, as PyTorch's `max` does; ties go to the first point),
 *   plus BatchNorm's dense rank-`Cin` correction. The `[M, Cout]` gradient of the largest layer
 *   is never formed, which removes two of its three big matrix products.
 *
 * Every kernel takes the points flattened to `x` `[M, Cin]`. @internal
 */

/** The state of one pointwise layer that the kernels read (see `layers.ts`). */
export interface ConvState {
  /** `[out, in, 1]`, PyTorch's Conv1d layout. */
  weight: tf.Variable;
  bias: tf.Variable;
  inChannels: number;
  outChannels: number;
}

/** The state of one BatchNorm that the kernels read and update. */
export interface BatchNormState {
  weight: tf.Variable;
  bias: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
  eps: number;
  updateRunningStats(mean: tf.Tensor, variance: tf.Tensor, count: number): void;
}

/** What a training-mode pointwise kernel needs to know besides its state. */
export interface PointwiseOptions {
  /**
   * Compute the gradient of `x`. False only where `x` is the raw input, which needs none: the
   * kernel then captures `x` instead of taking it as an input, and skips `dx`'s products.
   */
  inputGradient: boolean;
}

/**
 * The fastest way to run the kernels' building blocks on each backend, measured at batch 32 ×
 * 1,024 points (see the README):
 *
 * - `transposeFirst`: wasm's matrix products with a transposed operand are ~8× slower than a
 *   plain product, so it materialises the transpose (a cheap copy) first; tensorflow and cpu
 *   transpose inside the product.
 * - `argMaxChunkElements`: the argmax over points computes `Wᵀ xᵀ` `[Cout, n]` for a chunk of
 *   samples at a time, at most this many elements. On tfjs-node 4-sample chunks (16 MiB
 *   temporaries instead of one of 128 MiB) cost no measurable time and lower the peak memory;
 *   wasm is ~10% faster with one product than with 8-sample chunks.
 * - `gatherNd`: `gatherND` is ~10× faster than `gather` of rows on wasm and ~2× on tensorflow;
 *   the reverse on cpu.
 * - `nativeReluGrad`: TensorFlow's `ReluGrad` op is one pass, ~6× faster than tfjs's
 *   `mul(dy, step(y))` on tfjs-node.
 *
 * On every backend a sum over the rows of `[M, C]` is faster as the product `1ᵀ x` than as a
 * reduction over axis 0 (4× on tensorflow, 15× on cpu, 25× on wasm, which transposes first).
 */
interface BackendPlan {
  transposeFirst: boolean;
  argMaxChunkElements: number;
  gatherNd: boolean;
  nativeReluGrad: boolean;
}

const PLANS: Record<string, BackendPlan> = {
  tensorflow: {
    transposeFirst: false,
    argMaxChunkElements: 2 ** 22,
    gatherNd: true,
    nativeReluGrad: true,
  },
  wasm: {
    transposeFirst: true,
    argMaxChunkElements: 2 ** 25,
    gatherNd: true,
    nativeReluGrad: false,
  },
  cpu: {
    transposeFirst: false,
    argMaxChunkElements: 2 ** 25,
    gatherNd: false,
    nativeReluGrad: false,
  },
};

function plan(): BackendPlan {
  return PLANS[tf.getBackend()] ?? PLANS.cpu!;
}

/** `aᵀ b` for 2-D tensors. */
function matMulTA(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return plan().transposeFirst
    ? tf.matMul(tf.transpose(a) as tf.Tensor2D, b)
    : tf.matMul(a, b, true, false);
}

/** `a bᵀ` for 2-D tensors. */
function matMulTB(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return plan().transposeFirst
    ? tf.matMul(a, tf.transpose(b) as tf.Tensor2D)
    : tf.matMul(a, b, false, true);
}

/** tfjs-node's backend, as far as running a TensorFlow op by name goes. */
interface NativeBackend {
  executeSingleOutput(
    name: string,
    attrs: Array<{ name: string; type: number; value: unknown }>,
    inputs: tf.Tensor[],
  ): tf.Tensor;
  binding: { TF_ATTR_TYPE: number; TF_FLOAT: number; TF_INT32: number };
}

/** tfjs-node's backend when it is the active one (see {@link BackendPlan.nativeReluGrad}). */
function nativeBackend(): NativeBackend | undefined {
  if (!plan().nativeReluGrad) return undefined;
  const native = tf.backend() as unknown as Partial<NativeBackend>;
  return typeof native.executeSingleOutput === 'function' && native.binding !== undefined
    ? (native as NativeBackend)
    : undefined;
}

/** `dy · [y > 0]`: the ReLU gradient from its output. */
function reluGrad(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  const native = nativeBackend();
  if (native !== undefined) {
    const attrs = [
      { name: 'T', type: native.binding.TF_ATTR_TYPE, value: native.binding.TF_FLOAT },
    ];
    return native.executeSingleOutput('ReluGrad', attrs, [dy, y]);
  }
  return tf.mul(dy, tf.step(y));
}

/** The sum over the rows of `x` `[M, C]`: `[C]`, as the product `1ᵀ x` (see {@link BackendPlan}). */
function columnSum(x: tf.Tensor2D): tf.Tensor1D {
  return tf.reshape(tf.matMul(tf.ones([1, x.shape[0]]) as tf.Tensor2D, x), [-1]) as tf.Tensor1D;
}

/** The sum over the first axis of `[B, C, K]`: `[C, K]`, through {@link columnSum}. */
function sumOverBatch(x: tf.Tensor3D): tf.Tensor2D {
  const [, c, k] = x.shape;
  return tf.reshape(columnSum(tf.reshape(x, [x.shape[0], c * k]) as tf.Tensor2D), [
    c,
    k,
  ]) as tf.Tensor2D;
}

/** Rows `index` of `x` `[M, C]`. */
function gatherRows(x: tf.Tensor2D, index: tf.Tensor1D): tf.Tensor2D {
  return (
    plan().gatherNd ? tf.gatherND(x, tf.reshape(index, [-1, 1])) : tf.gather(x, index)
  ) as tf.Tensor2D;
}

/**
 * For each sample and output channel, the flat row index (`b·N + n`) of the point whose
 * `(x w)[n, c]` is largest: `[B·Cout]` int32, sample-major. Ties go to the first point.
 * `shiftedT`, where given, is `(x - s)ᵀ` for any row vector `s` (it shifts each channel by a
 * constant, so the argmax is the same): it saves the transpose where `transposeFirst`.
 */
function argMaxRows(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  batch: number,
  points: number,
  shiftedT?: tf.Tensor2D,
): tf.Tensor1D {
  return tf.tidy(() => {
    const [cin, cout] = w.shape;
    const { transposeFirst, argMaxChunkElements } = plan();
    const chunk = Math.max(1, Math.min(batch, Math.floor(argMaxChunkElements / (points * cout))));
    const wT = tf.transpose(w) as tf.Tensor2D;
    const xT = transposeFirst ? (shiftedT ?? (tf.transpose(x) as tf.Tensor2D)) : undefined;
    const parts: tf.Tensor[] = [];
    for (let start = 0; start < batch; start += chunk) {
      const size = Math.min(chunk, batch - start);
      // Each chunk's product is freed before the next one is computed: the point of chunking is
      // that only one `[Cout, size·N]` temporary is alive at a time.
      const part = tf.tidy(() => {
        let z: tf.Tensor2D; // [Cout, size·N]
        if (xT !== undefined) {
          const columns =
            size === batch ? xT : tf.slice(xT, [0, start * points], [cin, size * points]);
          z = tf.matMul(wT, columns);
        } else {
          const rows = size === batch ? x : tf.slice(x, [start * points, 0], [size * points, cin]);
          z = tf.matMul(wT, rows, false, true);
        }
        // As rows of a matrix: TensorFlow's ArgMax over the last axis of `[Cout·size, N]` takes
        // ~1.0 ms per 4-sample chunk here, of `[Cout, size, N]` 1.3-2.6 ms.
        const best = tf.argMax(tf.reshape(z, [cout * size, points]), 1);
        return tf.reshape(best, [cout, size]);
      });
      parts.push(part);
    }
    const index = tf.transpose(parts.length === 1 ? parts[0]! : tf.concat(parts, 1)); // [B, Cout]
    const offsets = tf.reshape(tf.range(0, batch * points, points, 'int32'), [batch, 1]);
    return tf.reshape(tf.add(index, offsets), [-1]) as tf.Tensor1D;
  });
}

/**
 * `dense` (or zeros `[m, Cin]`) plus, scatter-added into its rows `rows[b·Cout + c]`, the vectors
 * `values[b, c] · wT[c, :]`. Duplicate rows (a point that is the maximum of several channels) are
 * summed. Into `dense` on tfjs-node this is TensorFlow's `TensorScatterAdd`, one pass; elsewhere
 * a `scatterND` into zeros plus an add. Only the result stays alive.
 */
function scatterAddRows(
  dense: tf.Tensor2D | undefined,
  rows: tf.Tensor1D,
  values: tf.Tensor2D,
  wT: tf.Tensor2D,
  m: number,
): tf.Tensor2D {
  return tf.tidy(() => {
    const cin = wT.shape[1];
    const updates = tf.reshape(tf.mul(tf.expandDims(values, 2), wT), [-1, cin]);
    const indices = tf.reshape(rows, [-1, 1]);
    const native = dense === undefined ? undefined : nativeBackend();
    if (dense !== undefined && native !== undefined) {
      const { TF_ATTR_TYPE, TF_FLOAT, TF_INT32 } = native.binding;
      return native.executeSingleOutput(
        'TensorScatterAdd',
        [
          { name: 'T', type: TF_ATTR_TYPE, value: TF_FLOAT },
          { name: 'Tindices', type: TF_ATTR_TYPE, value: TF_INT32 },
        ],
        [dense, indices, updates],
      ) as tf.Tensor2D;
    }
    const scattered = tf.scatterND(indices, updates, [m, cin]) as tf.Tensor2D;
    return dense === undefined ? scattered : (tf.add(dense, scattered) as tf.Tensor2D);
  });
}

/**
 * `Σ_b gathered[b] ⊙ s[b]` summed over the batch: `[Cout, Cin]` from `gathered` `[B, Cout, Cin]`
 * and `s` `[B, Cout]`, freeing the `[B, Cout, Cin]` product at once.
 */
function weightedBatchSum(gathered: tf.Tensor3D, s: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => sumOverBatch(tf.mul(gathered, tf.expandDims(s, 2)) as tf.Tensor3D));
}

/** `[out, in, 1]` weight → `W` `[in, out]`. */
function weightMatrix(weight: tf.Tensor, conv: ConvState): tf.Tensor2D {
  return tf.transpose(tf.reshape(weight, [conv.outChannels, conv.inChannels])) as tf.Tensor2D;
}

/** `W` `[in, out]` gradient → the weight's `[out, in, 1]` gradient. */
function weightGrad(dW: tf.Tensor2D, conv: ConvState): tf.Tensor {
  return tf.reshape(tf.transpose(dW), [conv.outChannels, conv.inChannels, 1]);
}

/** Batch statistics of `z = x W + b` from the covariance of `x`. */
interface CovarianceStats {
  xMean: tf.Tensor1D;
  xc: tf.Tensor2D;
  /** `xcᵀ`, where the backend materialises transposes (wasm). */
  xcT: tf.Tensor2D | undefined;
  cov: tf.Tensor2D;
  covW: tf.Tensor2D;
  /** `mean(x) W`: the batch mean of `z` without the bias. */
  meanNoBias: tf.Tensor1D;
  /** The biased batch variance of `z`. */
  variance: tf.Tensor1D;
}

function covarianceStats(x: tf.Tensor2D, w: tf.Tensor2D): CovarianceStats {
  const m = x.shape[0];
  const xMean = tf.div(columnSum(x), m) as tf.Tensor1D;
  const xc = tf.sub(x, xMean) as tf.Tensor2D;
  // Centred before the product: no cancellation however far the data sit from the origin.
  const xcT = plan().transposeFirst ? (tf.transpose(xc) as tf.Tensor2D) : undefined;
  const cov = tf.div(
    xcT === undefined ? tf.matMul(xc, xc, true, false) : tf.matMul(xcT, xc),
    m,
  ) as tf.Tensor2D;
  const covW = tf.matMul(cov, w) as tf.Tensor2D;
  const meanNoBias = tf.reshape(
    tf.matMul(tf.reshape(xMean, [1, -1]) as tf.Tensor2D, w),
    [-1],
  ) as tf.Tensor1D;
  const variance = tf.relu(tf.sum(tf.mul(w, covW), 0)) as tf.Tensor1D;
  return { xMean, xc, xcT, cov, covW, meanNoBias, variance };
}

/**
 * Inputs wider than this keep themselves, not their centred copy, for the backward pass (see
 * {@link SavedRows}); narrower ones (raw points, 3 or 6 channels) keep the centred copy, which
 * costs next to nothing and is exact however far the points sit from the origin.
 */
const CENTRED_MAX_CHANNELS = 8;

/**
 * What a training kernel keeps of its input `x` for the backward pass: the centred rows `xc`, or,
 * where `x` is a wide intermediate that the previous layer keeps alive anyway (its output, saved
 * for its ReLU gradient), `x` itself and its mean. The two products the backward pass needs follow
 * from either: `xcᵀ A = xᵀ A − x̄ (1ᵀ A)` and `xc K + q = x K + (q − x̄ K)`. Keeping `x` saves one
 * `[M, Cin]` tensor per layer through the whole backward pass (24 MiB of the peak for the vanilla
 * model at batch 32 × 1,024 points); the inputs of those layers are BatchNorm + ReLU outputs, whose
 * mean is of the order of their spread, so the subtraction loses nothing measurable.
 */
interface SavedRows {
  /** `xc`, or `x` when `mean` is given. */
  rows: tf.Tensor2D;
  /** `x̄` `[Cin]` when `rows` is the uncentred input. */
  mean: tf.Tensor1D | undefined;
}

/** The tensors to `save` for {@link SavedRows}. */
function rowsToSave(x: tf.Tensor2D, stats: CovarianceStats, inputGradient: boolean): tf.Tensor[] {
  return inputGradient && x.shape[1] > CENTRED_MAX_CHANNELS ? [x, stats.xMean] : [stats.xc];
}

/** Reads back what {@link rowsToSave} saved (the tail of the saved list). */
function savedRows(saved: tf.Tensor[]): SavedRows {
  return saved.length === 2
    ? { rows: saved[0] as tf.Tensor2D, mean: saved[1] as tf.Tensor1D }
    : { rows: saved[0] as tf.Tensor2D, mean: undefined };
}

/** `xcᵀ a` `[Cin, C]` from {@link SavedRows} and `1ᵀ a` (`columnSumA`). */
function centredTransposeProduct(
  saved: SavedRows,
  a: tf.Tensor2D,
  columnSumA: tf.Tensor1D,
): tf.Tensor2D {
  const product = matMulTA(saved.rows, a);
  if (saved.mean === undefined) return product;
  const outer = tf.mul(tf.reshape(saved.mean, [-1, 1]), tf.reshape(columnSumA, [1, -1]));
  return tf.sub(product, outer) as tf.Tensor2D;
}

/**
 * `Σ_b s[b, c] · xc[rows[b·Cout + c], :]`: `[Cout, Cin]` from {@link SavedRows}, the argmax rows
 * and `s` `[B, Cout]` (with the uncentred input, `Σ_b s x_row − (Σ_b s) x̄`). The gathered
 * `[B, Cout, Cin]` rows are freed at once.
 */
function gatheredWeightedSum(
  saved: SavedRows,
  rows: tf.Tensor1D,
  s: tf.Tensor2D,
  batch: number,
): tf.Tensor2D {
  return tf.tidy(() => {
    const cout = s.shape[1];
    const cin = saved.rows.shape[1];
    const gathered = tf.reshape(gatherRows(saved.rows, rows), [batch, cout, cin]) as tf.Tensor3D;
    const sum = weightedBatchSum(gathered, s);
    if (saved.mean === undefined) return sum;
    const sSum = tf.reshape(columnSum(s), [-1, 1]);
    return tf.sub(sum, tf.mul(sSum, tf.reshape(saved.mean, [1, -1]))) as tf.Tensor2D;
  });
}

/** `xc k + q` `[M, Cin]` from {@link SavedRows}, with only the result left alive. */
function centredProductPlusBias(saved: SavedRows, k: tf.Tensor2D, q: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    const bias =
      saved.mean === undefined
        ? q
        : tf.sub(q, tf.reshape(tf.matMul(tf.reshape(saved.mean, [1, -1]) as tf.Tensor2D, k), [-1]));
    return tf.fused.matMul({ a: saved.rows, b: k, bias: bias as tf.Tensor1D }) as tf.Tensor2D;
  });
}

type SaveFunc = tf.GradSaveFunc;

/**
 * Splits a customGrad call's arguments: with `inputGradient`, `x` is the first argument;
 * without, it is captured and the arguments are the parameters only.
 */
function callKernel(
  kernel: (...args: tf.Tensor[]) => tf.Tensor,
  x: tf.Tensor2D,
  params: tf.Tensor[],
  inputGradient: boolean,
): tf.Tensor {
  return inputGradient ? kernel(x, ...params) : kernel(...params);
}

/**
 * `relu(BatchNorm(x Wᵀ + b))` in training mode, BatchNorm over all rows: `[M, Cin]` →
 * `[M, Cout]`. Updates the running statistics. See the file comment for the formulation.
 */
export function convBnReluTrain(
  x: tf.Tensor2D,
  conv: ConvState,
  bn: BatchNormState,
  options: PointwiseOptions,
): tf.Tensor2D {
  const m = x.shape[0];
  const kernel = tf.customGrad((...args: Array<tf.Tensor | SaveFunc>) => {
    const save = args.pop() as SaveFunc;
    const [xIn, weight, bias, gamma, beta] = (options.inputGradient ? args : [x, ...args]) as [
      tf.Tensor2D,
      tf.Tensor,
      tf.Tensor1D,
      tf.Tensor1D,
      tf.Tensor1D,
    ];
    const w = weightMatrix(weight, conv);
    const stats = covarianceStats(xIn, w);
    const r = tf.rsqrt(tf.add(stats.variance, bn.eps)) as tf.Tensor1D;
    const scale = tf.mul(gamma, r) as tf.Tensor1D;
    const wEff = tf.mul(w, scale) as tf.Tensor2D;
    const shift = tf.sub(beta, tf.mul(scale, stats.meanNoBias));
    const y = tf.fused.matMul({ a: xIn, b: wEff, bias: shift, activation: 'relu' });
    bn.updateRunningStats(tf.add(stats.meanNoBias, bias), stats.variance, m);
    save([y, w, stats.covW, r, scale, wEff, ...rowsToSave(xIn, stats, options.inputGradient)]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [sy, sw, scovW, sr, sscale, swEff] = saved as [
            tf.Tensor2D,
            tf.Tensor2D,
            tf.Tensor2D,
            tf.Tensor1D,
            tf.Tensor1D,
            tf.Tensor2D,
          ];
          const sx = savedRows(saved.slice(6));
          const dA = reluGrad(dy, sy) as tf.Tensor2D;
          const sumA = columnSum(dA);
          const hc = centredTransposeProduct(sx, dA, sumA); // xcᵀ dA
          const dGamma = tf.mul(sr, tf.sum(tf.mul(hc, sw), 0));
          const coef = tf.mul(tf.mul(sr, sscale), dGamma); // r²γ·dγ
          const dW = tf.sub(tf.mul(hc, sscale), tf.mul(scovW, coef)) as tf.Tensor2D;
          const grads = [weightGrad(dW, conv), tf.zerosLike(conv.bias), dGamma, sumA];
          if (!options.inputGradient) return grads;
          const k = matMulTB(tf.mul(sw, tf.div(coef, m)) as tf.Tensor2D, sw); // [Cin, Cin]
          // A rank-1 tensor of its own: wasm's fused product rejects a reshaped bias.
          const q = tf.sum(tf.mul(sw, tf.div(tf.mul(sscale, sumA), m)), 1);
          // Each product's temporaries are freed as soon as it is combined.
          const dense = centredProductPlusBias(sx, k, q as tf.Tensor1D);
          const dx = tf.tidy(() => tf.sub(matMulTB(dA, swEff), dense));
          dense.dispose();
          return [dx, ...grads];
        }),
    };
  });
  return callKernel(
    kernel,
    x,
    [conv.weight, conv.bias, bn.weight, bn.bias],
    options.inputGradient,
  ) as tf.Tensor2D;
}

/**
 * `max over each sample's points of BatchNorm(x Wᵀ + b)` in training mode, BatchNorm over all
 * `M = B·N` rows: `[M, Cin]` → `[B, Cout]`. Updates the running statistics. See the file comment.
 */
export function convBnMaxPoolTrain(
  x: tf.Tensor2D,
  conv: ConvState,
  bn: BatchNormState,
  batch: number,
  points: number,
  options: PointwiseOptions,
): tf.Tensor2D {
  const m = x.shape[0];
  const kernel = tf.customGrad((...args: Array<tf.Tensor | SaveFunc>) => {
    const save = args.pop() as SaveFunc;
    const [xIn, weight, bias, gamma, beta] = (options.inputGradient ? args : [x, ...args]) as [
      tf.Tensor2D,
      tf.Tensor,
      tf.Tensor1D,
      tf.Tensor1D,
      tf.Tensor1D,
    ];
    const wT = tf.reshape(weight, [conv.outChannels, conv.inChannels]) as tf.Tensor2D;
    const w = tf.transpose(wT) as tf.Tensor2D;
    const stats = covarianceStats(xIn, w);
    const r = tf.rsqrt(tf.add(stats.variance, bn.eps)) as tf.Tensor1D;
    const scale = tf.mul(gamma, r) as tf.Tensor1D;
    // The pooled value of channel c sits where scale_c · z is largest.
    const sign = tf.sub(1, tf.mul(2, tf.cast(tf.less(scale, 0), 'float32')));
    const rows = argMaxRows(xIn, tf.mul(w, sign) as tf.Tensor2D, batch, points, stats.xcT);
    // Centred rows: z - mean(z) at the max is their product with W, without cancellation. The
    // `[B, Cout, Cin]` rows are not kept for the backward pass, which gathers them again from
    // what it keeps of `x` anyway (16 MiB less through the whole backward pass of the vanilla
    // model, for one gather).
    const centered = tf.tidy(() => {
      const gathered = tf.reshape(gatherRows(stats.xc, rows), [
        batch,
        conv.outChannels,
        conv.inChannels,
      ]);
      return tf.sum(tf.mul(gathered, wT), 2) as tf.Tensor2D;
    });
    const pooled = tf.add(tf.mul(centered, scale), beta) as tf.Tensor2D;
    bn.updateRunningStats(tf.add(stats.meanNoBias, bias), stats.variance, m);
    save([
      rows,
      wT,
      w,
      stats.covW,
      r,
      scale,
      centered,
      ...rowsToSave(xIn, stats, options.inputGradient),
    ]);
    return {
      value: pooled,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [srows, swT, sw, scovW, sr, sscale, scentered] = saved as [
            tf.Tensor1D,
            tf.Tensor2D,
            tf.Tensor2D,
            tf.Tensor2D,
            tf.Tensor1D,
            tf.Tensor1D,
            tf.Tensor2D,
          ];
          const dBeta = tf.sum(dy, 0);
          const dGamma = tf.sum(tf.mul(dy, tf.mul(scentered, sr)), 0);
          const s = tf.mul(dy, sscale) as tf.Tensor2D; // dz at the max rows (sparse part)
          const u = tf.mul(sscale, tf.div(dBeta, -m)) as tf.Tensor1D; // dense constant part
          const v = tf.mul(tf.mul(sr, sscale), tf.div(dGamma, -m)) as tf.Tensor1D; // dense xc·W part
          // dWᵀ = Sᵀ x + M u x̄ᵀ + M diag(v) Wᵀ Σ; with centred rows the first two terms are Sᵀ xc
          // (Σ_b s = -M u).
          const sx = savedRows(saved.slice(7));
          const dWT = tf.add(
            gatheredWeightedSum(sx, srows, s, batch),
            tf.mul(tf.transpose(scovW), tf.expandDims(tf.mul(v, m), 1)),
          );
          const grads = [
            tf.reshape(dWT, [conv.outChannels, conv.inChannels, 1]),
            tf.zerosLike(conv.bias),
            dGamma,
            dBeta,
          ];
          if (!options.inputGradient) return grads;
          const k = matMulTB(tf.mul(sw, v) as tf.Tensor2D, sw); // [Cin, Cin]
          const q = tf.sum(tf.mul(sw, u), 1);
          // The dense part first (its product without the bias is freed), then the sparse part
          // added into it: at most two `[M, Cin]` temporaries alive at once.
          const dense = centredProductPlusBias(sx, k, q as tf.Tensor1D);
          const dx = scatterAddRows(dense, srows, s, swT, m);
          dense.dispose();
          return [dx, ...grads];
        }),
    };
  });
  return callKernel(
    kernel,
    x,
    [conv.weight, conv.bias, bn.weight, bn.bias],
    options.inputGradient,
  ) as tf.Tensor2D;
}

/**
 * `relu(x W + c)` for a fixed affine map (`W` `[Cin, Cout]`, `c` `[Cout]`): the pointwise layer
 * without BatchNorm, or with BatchNorm in evaluation mode folded into `W` and `c`. The gradients
 * of `W` and `c` flow on to the parameters through the (small) folding ops.
 */
export function denseRelu(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  c: tf.Tensor1D,
  inputGradient: boolean,
): tf.Tensor2D {
  const kernel = tf.customGrad((...args: Array<tf.Tensor | SaveFunc>) => {
    const save = args.pop() as SaveFunc;
    const [xIn, wIn, cIn] = (inputGradient ? args : [x, ...args]) as [
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor1D,
    ];
    const y = tf.fused.matMul({ a: xIn, b: wIn, bias: cIn, activation: 'relu' });
    save([xIn, wIn, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [sx, sw, sy] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
          const dA = reluGrad(dy, sy) as tf.Tensor2D;
          const grads = [matMulTA(sx, dA), columnSum(dA)];
          return inputGradient ? [matMulTB(dA, sw), ...grads] : grads;
        }),
    };
  });
  return callKernel(kernel, x, [w, c], inputGradient) as tf.Tensor2D;
}

/**
 * `max over each sample's points of (x W + c)` for a fixed affine map: the last pointwise layer
 * without BatchNorm, or with BatchNorm in evaluation mode folded in. `[M, Cin]` → `[B, Cout]`.
 */
export function denseMaxPool(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  c: tf.Tensor1D,
  batch: number,
  points: number,
  inputGradient: boolean,
): tf.Tensor2D {
  const m = x.shape[0];
  const [cin, cout] = w.shape;
  const kernel = tf.customGrad((...args: Array<tf.Tensor | SaveFunc>) => {
    const save = args.pop() as SaveFunc;
    const [xIn, wIn, cIn] = (inputGradient ? args : [x, ...args]) as [
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor1D,
    ];
    const rows = argMaxRows(xIn, wIn, batch, points);
    const gathered = tf.reshape(gatherRows(xIn, rows), [batch, cout, cin]);
    const wT = tf.transpose(wIn) as tf.Tensor2D;
    const pooled = tf.add(tf.sum(tf.mul(gathered, wT), 2), cIn);
    save([rows, gathered, wT]);
    return {
      value: pooled,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [srows, sgathered, swT] = saved as [tf.Tensor1D, tf.Tensor3D, tf.Tensor2D];
          const dWT = weightedBatchSum(sgathered, dy as tf.Tensor2D);
          const grads = [tf.transpose(dWT), tf.sum(dy, 0)];
          if (!inputGradient) return grads;
          return [scatterAddRows(undefined, srows, dy as tf.Tensor2D, swT, m), ...grads];
        }),
    };
  });
  return callKernel(kernel, x, [w, c], inputGradient) as tf.Tensor2D;
}

/**
 * The affine map `(W, c)` of a pointwise layer in evaluation mode or without BatchNorm:
 * `W = weightᵀ` and `c = bias`, BatchNorm's running statistics folded in when given.
 * Differentiable (plain tfjs ops on parameter-sized tensors).
 */
export function foldedAffine(
  conv: ConvState,
  bn: BatchNormState | undefined,
): { w: tf.Tensor2D; c: tf.Tensor1D } {
  const w = weightMatrix(conv.weight, conv);
  if (bn === undefined) return { w, c: conv.bias as tf.Tensor1D };
  const scale = tf.mul(bn.weight, tf.rsqrt(tf.add(bn.runningVar, bn.eps)));
  return {
    w: tf.mul(w, scale) as tf.Tensor2D,
    c: tf.add(bn.bias, tf.mul(scale, tf.sub(conv.bias, bn.runningMean))) as tf.Tensor1D,
  };
}

/**
 * `x Wᵀ` for a fully connected layer (`x` `[B, in]`, `W` `[out, in]`), with a gradient made of
 * plain products only (`dx = dy W`, `dW = dyᵀ x` with the small `dyᵀ` materialised): the stock
 * gradient of a transposed product is several times slower on wasm, and no faster elsewhere.
 */
export const linearProduct = tf.customGrad((...args: Array<tf.Tensor | SaveFunc>) => {
  const [x, weight, save] = args as [tf.Tensor2D, tf.Tensor2D, SaveFunc];
  save([x, weight]);
  return {
    value: tf.matMul(x, tf.transpose(weight) as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sweight] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [
        tf.matMul(dy as tf.Tensor2D, sweight),
        tf.matMul(tf.transpose(dy) as tf.Tensor2D, sx),
      ];
    },
  };
}) as (x: tf.Tensor2D, weight: tf.Tensor2D) => tf.Tensor2D;
