import { z } from 'zod';

/** How the per-point layers are computed (same values and gradients, different speed). */
export type Formulation = 'fused' | 'autodiff';

/**
 * Options of {@link PointNetCls}. The defaults are the seed's ModelNet40 config (gorilla3d's
 * `PointNetCls` with `num_classes: 40, dropout: 0.4`); every key is also accepted in the seed's
 * snake_case spelling when the model is built from a config.
 */
export interface PointNetClsOptions {
  /** Channels per input point (3 for xyz, 6 with normals). Defaults to `3`. */
  inChannels?: number;
  /** Width of the last per-point layer, i.e. of the global feature. Defaults to `1024`. */
  featSize?: number;
  /** Number of classes (width of the logits). Defaults to `40`. */
  numClasses?: number;
  /**
   * Dropout probability, applied (as in gorilla3d) after the last hidden fully connected layer,
   * before its BatchNorm; `0` disables it. Defaults to `0.4`.
   */
  dropout?: number;
  /** Widths of the hidden fully connected layers of the classifier (at least one). Defaults to `[512, 256]`. */
  classifierLayerDims?: number[];
  /** Widths of the per-point layers before the last (`featSize`) one. Defaults to `[64, 128]`. */
  featLayerDims?: number[];
  /** BatchNorm after every layer but the last fully connected one. Defaults to `true`. */
  batchnorm?: boolean;
  /** The paper's input transform: a T-Net predicting an `inChannels × inChannels` matrix. Defaults to `false`. */
  inputTransform?: boolean;
  /**
   * The paper's feature transform: a T-Net predicting a `k × k` matrix applied to the first
   * per-point layer's features (`k = featLayerDims[0]`, 64), with the orthogonality
   * regularization returned by `forward`. Defaults to `false`.
   */
  featureTransform?: boolean;
  /** Weight of the feature transform's orthogonality term `‖I − A Aᵀ‖²_F`. Defaults to `0.001`. */
  regularizationWeight?: number;
  /** The input is `[B, C, N]` (PyTorch's Conv1d layout) instead of `[B, N, C]`. Defaults to `false`. */
  transposedInput?: boolean;
  /**
   * `fused`: the custom-gradient kernels (fast, see the README); `autodiff`: the plain ops with
   * tfjs's stock gradients (the reference, for checking and benchmarking). Defaults to `fused`.
   */
  formulation?: Formulation;
}

/** {@link PointNetClsOptions} with every default filled in. */
export type ResolvedPointNetClsOptions = Required<PointNetClsOptions>;

/** The defaults of {@link PointNetClsOptions}. */
export const POINTNET_CLS_DEFAULTS: Readonly<ResolvedPointNetClsOptions> = Object.freeze({
  inChannels: 3,
  featSize: 1024,
  numClasses: 40,
  dropout: 0.4,
  classifierLayerDims: [512, 256],
  featLayerDims: [64, 128],
  batchnorm: true,
  inputTransform: false,
  featureTransform: false,
  regularizationWeight: 0.001,
  transposedInput: false,
  formulation: 'fused',
});

/** The seed's (gorilla3d's) snake_case keys and the option each one sets. */
export const SNAKE_CASE_KEYS: Readonly<Record<string, keyof PointNetClsOptions>> = Object.freeze({
  in_channels: 'inChannels',
  feat_size: 'featSize',
  num_classes: 'numClasses',
  classifier_layer_dims: 'classifierLayerDims',
  feat_layer_dims: 'featLayerDims',
  input_transform: 'inputTransform',
  feature_transform: 'featureTransform',
  regularization_weight: 'regularizationWeight',
  transposed_input: 'transposedInput',
});

const width = z.number().int().positive();

/** The validator of each option, by its camelCase name. */
const FIELDS = {
  inChannels: width.optional(),
  featSize: width.optional(),
  numClasses: width.optional(),
  dropout: z.number().min(0).lt(1).optional(),
  classifierLayerDims: z.array(width).min(1).optional(),
  featLayerDims: z.array(width).optional(),
  batchnorm: z.boolean().optional(),
  inputTransform: z.boolean().optional(),
  featureTransform: z.boolean().optional(),
  regularizationWeight: z.number().nonnegative().optional(),
  transposedInput: z.boolean().optional(),
  formulation: z.enum(['fused', 'autodiff']).optional(),
} satisfies Record<keyof PointNetClsOptions, z.ZodType>;

const SNAKE_FIELDS = Object.fromEntries(
  Object.entries(SNAKE_CASE_KEYS).map(([snake, camel]) => [snake, FIELDS[camel]]),
) as Record<string, z.ZodOptional<z.ZodType>>;

/**
 * The zod schema `MODELS` validates a `PointNetCls` config with: the camelCase options or the
 * seed's snake_case keys (`in_channels`, `feat_size`, `num_classes`, `classifier_layer_dims`,
 * `feat_layer_dims`, `input_transform`, `feature_transform`, ...), each issue reported under the
 * key as the user spelled it. One option given in both spellings, and unknown keys, are errors.
 * The output is {@link PointNetClsOptions} (camelCase).
 */
export const pointNetClsSchema: z.ZodType<PointNetClsOptions, unknown> = z
  .strictObject({ ...FIELDS, ...SNAKE_FIELDS })
  .superRefine((raw, context) => {
    const record = raw as Record<string, unknown>;
    for (const [snake, camel] of Object.entries(SNAKE_CASE_KEYS)) {
      if (record[snake] !== undefined && record[camel] !== undefined) {
        context.addIssue({
          code: 'custom',
          path: [snake],
          message: `'${snake}' and '${camel}' set the same option: give one.`,
        });
      }
    }
    const featureTransform = record.featureTransform ?? record.feature_transform;
    const layerDims = (record.featLayerDims ??
      record.feat_layer_dims ??
      POINTNET_CLS_DEFAULTS.featLayerDims) as number[];
    if (featureTransform === true && layerDims.length === 0) {
      context.addIssue({
        code: 'custom',
        path: [record.feat_layer_dims === undefined ? 'featLayerDims' : 'feat_layer_dims'],
        message:
          'featureTransform needs at least one per-point layer before the last (the transformed features).',
      });
    }
  })
  .transform((raw) => {
    const options: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
      if (value !== undefined) options[SNAKE_CASE_KEYS[key] ?? key] = value;
    }
    return options as PointNetClsOptions;
  });

/** Fills in the defaults (the constructor's options are not validated beyond TypeScript). */
export function resolveOptions(options: PointNetClsOptions): ResolvedPointNetClsOptions {
  const defined = Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  );
  return { ...POINTNET_CLS_DEFAULTS, ...defined } as ResolvedPointNetClsOptions;
}
