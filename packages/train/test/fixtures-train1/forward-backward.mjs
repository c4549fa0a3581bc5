// One forward and backward pass of a small model on the backend named by --backend; writes the
// outputs, the loss, every gradient and the BatchNorm running statistics as JSON to --out.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import {
  BatchNorm1d,
  crossEntropyLoss,
  initBackend,
  Linear,
  RandomGenerator,
  ReLU,
  Sequential,
  setRandomSeed,
} from '../../dist/index.js';

const { values } = parseArgs({ options: { backend: { type: 'string' }, out: { type: 'string' } } });
const info = await initBackend({ backend: values.backend, logger: () => {} });
setRandomSeed(3);
const model = new Sequential({
  layers: [
    new Linear({ inFeatures: 5, outFeatures: 16 }),
    new BatchNorm1d({ numFeatures: 16 }),
    new ReLU(),
    new Linear({ inFeatures: 16, outFeatures: 4 }),
  ],
});
const data = new RandomGenerator(11);
const x = tf.tensor3d(
  Array.from({ length: 3 * 7 * 5 }, () => data.normal()),
  [3, 7, 5],
);
const labels = tf.tensor2d(
  Array.from({ length: 21 }, () => data.int(4)),
  [3, 7],
  'int32',
);
const criterion = crossEntropyLoss({ labelSmoothing: 0.1, weight: [1, 2, 0.5, 1] });
let logits;
const params = model.namedParameters();
const { value, grads } = tf.variableGrads(
  () => {
    logits = tf.keep(model.forward(x));
    return criterion({ logits, labels })[0];
  },
  params.map(([, variable]) => variable),
);
const result = {
  backend: info.name,
  loss: (await value.data())[0],
  logits: Array.from(await logits.data()),
  grads: Object.fromEntries(
    await Promise.all(
      params.map(async ([name, variable]) => [name, Array.from(await grads[variable.name].data())]),
    ),
  ),
  buffers: Object.fromEntries(
    await Promise.all(
      model
        .namedBuffers()
        .map(async ([name, variable]) => [name, Array.from(await variable.data())]),
    ),
  ),
};
model.eval();
result.evalLogits = Array.from(await model.forward(x).data());
writeFileSync(values.out, JSON.stringify(result));
