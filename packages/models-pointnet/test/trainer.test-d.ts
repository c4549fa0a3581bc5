// Type tests (checked by `pnpm typecheck`): the Trainer keeps the model's and the batch's types.
import { Trainer, type TrainerContext, type TrainLoader } from '@gorilla-ts/train';
import type * as tf from '@tensorflow/tfjs-core';
import { expectTypeOf } from 'vitest';
import { PointNetCls, type PointNetOutput } from '../src/index.js';

type Batch = { points: tf.Tensor3D; labels: tf.Tensor1D };
declare const trainLoader: TrainLoader<Batch>;

const trainer = new Trainer({
  model: new PointNetCls({ numClasses: 3 }),
  optimizer: { type: 'Adam', lr: 1e-3 },
  loss: { type: 'CrossEntropyLoss' },
  trainLoader,
  // A custom forward gets the model's own type and the loader's batch type: no casts.
  forward: ({ model, batch, criterion }) => {
    expectTypeOf(model).toEqualTypeOf<PointNetCls>();
    expectTypeOf(batch).toEqualTypeOf<Batch>();
    const output = model.forward(batch.points);
    expectTypeOf(output).toEqualTypeOf<PointNetOutput>();
    const [loss, terms] = criterion!({ logits: output.logits, labels: batch.labels });
    return { loss, terms, output: output.logits, labels: batch.labels };
  },
});
expectTypeOf(trainer).toEqualTypeOf<Trainer<PointNetCls, Batch>>();
expectTypeOf(trainer.model).toEqualTypeOf<PointNetCls>();
// Hooks see the trainer through the narrow context, with the same types.
expectTypeOf(trainer).toExtend<TrainerContext<PointNetCls, Batch>>();

new Trainer({
  model: new PointNetCls({ numClasses: 3 }),
  optimizer: { type: 'Adam', lr: 1e-3 },
  trainLoader,
  // @ts-expect-error: the batch has no `inputs`
  forward: ({ batch }) => ({ loss: batch.inputs }),
});

const fromConfig = Trainer.fromConfig<PointNetCls, Batch>({ optimizer: { type: 'Adam' } });
expectTypeOf(fromConfig.model).toEqualTypeOf<PointNetCls>();
