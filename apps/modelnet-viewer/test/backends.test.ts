/**
 * The PointNet forward in eval mode gives the same logits on tfjs's wasm backend as on
 * tfjs-node, for a checkpoint trained by the demo CLI and the bundled ModelNet10 shapes.
 */
import '@tensorflow/tfjs-backend-wasm';
import { expect, inject, test } from 'vitest';
import { bundledSamples, classifyOn, maxAbsDifference } from './helpers.js';

test('wasm and tfjs-node agree within 1e-4 on every logit', async () => {
  const samples = bundledSamples();
  const checkpoint = inject('checkpoint');
  const node = await classifyOn('tensorflow', checkpoint, samples);
  const wasm = await classifyOn('wasm', checkpoint, samples);
  const difference = maxAbsDifference(
    node.map((row) => row.logits),
    wasm.map((row) => row.logits),
  );
  console.log(
    JSON.stringify({
      compare: 'wasm vs tfjs-node',
      shapes: samples.shapes.length,
      maxAbsLogitDifference: difference,
    }),
  );
  expect(node).toHaveLength(30);
  expect(difference).toBeLessThan(1e-4);
  expect(wasm.map((row) => row.predicted)).toEqual(node.map((row) => row.predicted));
}, 240_000);
