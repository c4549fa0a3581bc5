import { allGatherObject } from '@gorilla-ts/dist';
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import { TrainerError } from './errors.js';
import type { Evaluator } from './evaluator.js';
import type { CriterionFn, ForwardFn, ForwardResult } from './forward.js';

/** What {@link backwardPass} and {@link evaluationPass} run. @internal */
export interface PassContext {
  model: Module<never, unknown>;
  forward: ForwardFn<unknown>;
  criterion: CriterionFn | undefined;
}

/** One batch's loss, its scalar terms, and its gradients by parameter name. @internal */
export interface BackwardResult {
  loss: number;
  terms: Record<string, number>;
  grads: Map<string, tf.Tensor>;
}

/**
 * Forward and backward on one batch: the gradients of `loss / scale` with respect to
 * `parameters` (by parameter name; yours to dispose), the unscaled loss and its scalar terms as
 * numbers. @internal
 */
export async function backwardPass(
  context: PassContext,
  parameters: ReadonlyArray<readonly [string, tf.Variable]>,
  batch: unknown,
  scale: number,
): Promise<BackwardResult> {
  const { model, criterion, forward } = context;
  let unscaled: tf.Tensor | undefined;
  let terms: Array<[string, tf.Tensor]> = [];
  const { value, grads } = tf.variableGrads(
    () => {
      const result = forward({ model, batch, criterion, training: true });
      const loss = result.loss;
      if (loss === undefined || loss.rank !== 0) {
        throw new TrainerError(
          'TRAINER_DATA',
          `forward must return a scalar \`loss\` in training, got ${loss === undefined ? 'none' : `shape [${loss.shape.join(', ')}]`} (a criterion with reduction 'none'?).`,
        );
      }
      terms = Object.entries(result.terms ?? {})
        .filter(([, term]) => term.rank === 0)
        .map(([name, term]) => [name, tf.keep(term)]);
      if (scale === 1) return loss as tf.Scalar;
      unscaled = tf.keep(loss);
      return tf.div(loss, scale) as tf.Scalar;
    },
    parameters.map(([, variable]) => variable),
  );
  try {
    const values = await Promise.all([
      (unscaled ?? value).data(),
      ...terms.map(([, term]) => term.data()),
    ]);
    const named = new Map<string, tf.Tensor>();
    for (const [name, variable] of parameters) {
      const grad = grads[variable.name];
      if (grad) named.set(name, grad);
    }
    return {
      loss: values[0]![0]!,
      terms: Object.fromEntries(terms.map(([name], index) => [name, values[index + 1]![0]!])),
      grads: named,
    };
  } finally {
    tf.dispose([value, ...(unscaled === undefined ? [] : [unscaled]), ...terms.map(([, t]) => t)]);
  }
}

/**
 * Runs every batch of `loader` through the model in evaluation mode (restored afterwards) into
 * `evaluator`, gathers every rank's partial result and returns the metrics, prefixed `val/`.
 * Batches and forward results are freed. @internal
 */
export async function evaluationPass(
  context: PassContext,
  loader: AsyncIterable<unknown>,
  evaluator: Evaluator,
): Promise<Record<string, number>> {
  const { model, criterion, forward } = context;
  const wasTraining = model.training;
  model.eval();
  evaluator.reset();
  try {
    for await (const batch of loader) {
      let result: ForwardResult = {};
      try {
        result = tf.tidy(
          () =>
            forward({ model, batch, criterion, training: false }) as unknown as tf.TensorContainer,
        ) as unknown as ForwardResult;
        await evaluator.process(result, batch);
      } finally {
        tf.dispose(result as unknown as tf.TensorContainer);
        tf.dispose(batch as tf.TensorContainer);
      }
    }
  } finally {
    model.train(wasTraining);
  }
  const summary = evaluator.summarize(await allGatherObject(evaluator.partial()));
  return Object.fromEntries(Object.entries(summary).map(([name, value]) => [`val/${name}`, value]));
}
