import * as tf from '@tensorflow/tfjs-core';
import type { CriterionInput, LossTerms } from '../loss/criterion.js';
import type { Module } from '../nn/module.js';
import { TrainerError } from './errors.js';

/** A loss in the seed's convention: `criterion({ logits, labels })` → `[loss, lossOut]`. */
export type CriterionFn = (input: CriterionInput) => [tf.Tensor, LossTerms];

/** What a {@link ForwardFn} receives. */
export interface ForwardContext<B, M extends Module<never, unknown> = Module<never, unknown>> {
  /** The model (the trainer's, with its own type), in training or evaluation mode as `training` says. */
  readonly model: M;
  /** One batch from the loader (yours to read, the trainer disposes it). */
  readonly batch: B;
  /** The trainer's loss, if it has one. */
  readonly criterion: CriterionFn | undefined;
  /** True during training (gradients are being recorded), false during evaluation. */
  readonly training: boolean;
}

/**
 * What a {@link ForwardFn} returns. Training needs `loss` (a scalar); evaluation uses `output`
 * and `labels` (for the evaluator) and `loss` when present.
 */
export interface ForwardResult {
  /** The scalar loss to minimise. */
  loss?: tf.Tensor;
  /** Its named terms (`{ ce }`), logged as `loss_<name>`. */
  terms?: LossTerms;
  /** The model's output as the evaluator reads it: class scores `[..., C]` (the logits). */
  output?: tf.Tensor;
  /** The labels of the batch. */
  labels?: tf.Tensor;
}

/**
 * One forward pass: batch in, loss (and output) out. Runs inside the trainer's gradient scope;
 * create tensors freely, the trainer frees them. `context.model` has the model's own type.
 */
export type ForwardFn<B, M extends Module<never, unknown> = Module<never, unknown>> = (
  context: ForwardContext<B, M>,
) => ForwardResult;

/**
 * The model-output contract of the default forward (every model of the toolkit follows it):
 * a model's `forward(input)` returns either
 * - a tensor: the logits (class scores `[..., C]`), or
 * - an object with the logits under `logits` and any other named tensors beside them
 *   (`{ logits, regularization }` for PointNet with T-Nets).
 *
 * An object is spread into the criterion with the labels (`criterion({ ...output, labels })`), so
 * a loss can read any field it knows. A scalar `regularization` field is a term the model adds to
 * its own loss (PointNet's feature-transform orthogonality term): the default forward adds it to
 * the criterion's loss and reports it as the term `regularization`, unless the criterion already
 * returned a `regularization` term (it added it itself, e.g. `withRegularization`).
 */
export type ModelOutput = tf.Tensor | ModelOutputObject;

/** The object form of {@link ModelOutput}. */
export interface ModelOutputObject {
  /** Class scores `[..., C]`: what the loss and the evaluator read. */
  readonly logits: tf.Tensor;
  /** A scalar the model adds to the loss (weighted already). */
  readonly regularization?: tf.Tensor | undefined;
  /** Anything else the model returns is handed to the criterion as is. */
  readonly [field: string]: unknown;
}

const INPUT_KEYS = ['inputs', 'input', 'points', 'x'] as const;
const LABEL_KEYS = ['labels', 'label', 'targets', 'target', 'y'] as const;

/**
 * Finds the model input and the labels in a batch: a `[input, labels]` pair, or an object whose
 * input is under `inputs`, `input`, `points` or `x` and labels under `labels`, `label`,
 * `targets`, `target` or `y`.
 *
 * @throws {@link TrainerError} `TRAINER_DATA` when no input tensor is found.
 */
export function splitBatch(batch: unknown): { input: tf.Tensor; labels: tf.Tensor | undefined } {
  if (batch instanceof tf.Tensor) return { input: batch, labels: undefined };
  if (Array.isArray(batch) && batch[0] instanceof tf.Tensor) {
    return { input: batch[0], labels: batch[1] instanceof tf.Tensor ? batch[1] : undefined };
  }
  if (typeof batch === 'object' && batch !== null) {
    const record = batch as Record<string, unknown>;
    const inputKey = INPUT_KEYS.find((key) => record[key] instanceof tf.Tensor);
    const labelKey = LABEL_KEYS.find((key) => record[key] instanceof tf.Tensor);
    if (inputKey !== undefined) {
      return {
        input: record[inputKey] as tf.Tensor,
        labels: labelKey === undefined ? undefined : (record[labelKey] as tf.Tensor),
      };
    }
  }
  const shape = Array.isArray(batch)
    ? `an array of ${batch.length}`
    : typeof batch === 'object' && batch !== null
      ? `an object with keys ${Object.keys(batch).join(', ') || '(none)'}`
      : typeof batch;
  throw new TrainerError(
    'TRAINER_DATA',
    `The default forward cannot find the model input in the batch (${shape}). Expected a tensor, ` +
      `[input, labels], or an object with the input under ${INPUT_KEYS.join('/')} and labels under ` +
      `${LABEL_KEYS.join('/')}. Pass \`forward\` to the trainer for any other batch.`,
  );
}

/**
 * The default forward: `output = model.forward(input)` (a {@link ModelOutput}: the logits, or an
 * object holding them under `logits`), then, when the trainer has a loss and the batch has
 * labels, `criterion({ ...output, labels })` (for a tensor output, `{ logits: output, labels }`)
 * plus the output's `regularization` term (see {@link ModelOutput}). Without a loss, a scalar
 * output is taken as the loss itself (a model that computes its own loss).
 *
 * @throws {@link TrainerError} `TRAINER_DATA` when training has no loss to minimise, or the
 *   model's output is neither a tensor nor an object with a `logits` tensor.
 */
export function defaultForward(context: ForwardContext<unknown>): ForwardResult {
  const { model, batch, criterion, training } = context;
  const { input, labels } = splitBatch(batch);
  const raw = (model as unknown as Module<tf.Tensor, unknown>).forward(input);
  const fields = outputFields(raw);
  const output = fields.logits;
  if (criterion !== undefined && labels !== undefined) {
    const [loss, terms] = criterion({ ...fields, logits: output, labels } as CriterionInput);
    const regularization = fields.regularization;
    if (regularization instanceof tf.Tensor && terms.regularization === undefined) {
      return {
        loss: tf.add(loss, regularization),
        terms: { ...terms, regularization },
        output,
        labels,
      };
    }
    return { loss, terms, output, labels };
  }
  if (output.rank === 0) return { loss: output };
  if (training) {
    throw new TrainerError(
      'TRAINER_DATA',
      criterion === undefined
        ? `Nothing to minimise: the trainer has no loss and the model output has shape [${output.shape.join(', ')}], not a scalar. Pass \`loss\` (e.g. { type: 'CrossEntropyLoss' }) or \`forward\`.`
        : 'The batch has no labels for the loss. Put them under `labels` (or label/targets/target/y), or pass `forward`.',
    );
  }
  return labels === undefined ? { output } : { output, labels };
}

/** A model output as its fields: `{ logits }` for a tensor, the object itself otherwise. */
function outputFields(raw: unknown): ModelOutputObject {
  if (raw instanceof tf.Tensor) return { logits: raw };
  if (
    typeof raw === 'object' &&
    raw !== null &&
    (raw as { logits?: unknown }).logits instanceof tf.Tensor
  )
    return raw as ModelOutputObject;
  const shape =
    typeof raw === 'object' && raw !== null
      ? `an object with keys ${Object.keys(raw).join(', ') || '(none)'}`
      : typeof raw;
  throw new TrainerError(
    'TRAINER_DATA',
    `The default forward expects the model to return a tensor (the logits) or an object with the logits under \`logits\`, got ${shape}. Return one of those from forward(), or pass \`forward\` to the trainer.`,
  );
}
