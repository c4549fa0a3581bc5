import * as tf from '@tensorflow/tfjs-core';
import type { CriterionInput, LossTerms } from '../loss/criterion.js';
import type { Module } from '../nn/module.js';
import { TrainerError } from './errors.js';

/** A loss in the seed's convention: `criterion({ logits, labels })` → `[loss, lossOut]`. */
export type CriterionFn = (input: CriterionInput) => [tf.Tensor, LossTerms];

/** What a {@link ForwardFn} receives. */
export interface ForwardContext<B> {
  /** The model, in training or evaluation mode as `training` says. */
  readonly model: Module<never, unknown>;
  /** One batch from the loader (yours to read, the trainer disposes it). */
  readonly batch: B;
  /** The trainer's loss, if it has one. */
  readonly criterion: CriterionFn | undefined;
  /** True during training (gradients are being recorded), false during evaluation. */
  readonly training: boolean;
}

/**
 * What a {@link ForwardFn} returns. Training needs `loss` (a scalar); evaluation uses `output`
 * and `labels` (for the default evaluator's accuracy) and `loss` when present.
 */
export interface ForwardResult {
  /** The scalar loss to minimise. */
  loss?: tf.Tensor;
  /** Its named terms (`{ ce }`), logged as `loss_<name>`. */
  terms?: LossTerms;
  /** The model's output (class scores `[..., C]`). */
  output?: tf.Tensor;
  /** The labels of the batch. */
  labels?: tf.Tensor;
}

/**
 * One forward pass: batch in, loss (and output) out. Runs inside the trainer's gradient scope;
 * create tensors freely, the trainer frees them.
 */
export type ForwardFn<B> = (context: ForwardContext<B>) => ForwardResult;

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
 * The default forward: `output = model.forward(input)`, then `criterion({ logits: output,
 * labels })` when the trainer has a loss and the batch has labels. Without a loss, a scalar
 * output is taken as the loss itself (a model that computes its own loss).
 *
 * @throws {@link TrainerError} `TRAINER_DATA` when training has no loss to minimise.
 */
export function defaultForward(context: ForwardContext<unknown>): ForwardResult {
  const { model, batch, criterion, training } = context;
  const { input, labels } = splitBatch(batch);
  const output = (model as unknown as Module<tf.Tensor, tf.Tensor>).forward(input);
  if (criterion !== undefined && labels !== undefined) {
    const [loss, terms] = criterion({ logits: output, labels });
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
