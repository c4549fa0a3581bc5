import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, test } from 'vitest';
import { Module, parameterCount, parameterCountTable } from '../src/index.js';
import { BACKEND_HOOK_TIMEOUT } from './train1-helpers.js';

class Linear extends Module {
  constructor(inFeatures: number, outFeatures: number, bias = true) {
    super();
    this.addParameter('weight', tf.zeros([outFeatures, inFeatures]));
    if (bias) this.addParameter('bias', tf.zeros([outFeatures]));
  }
  forward(input: tf.Tensor): tf.Tensor {
    return input;
  }
}

class Sequential extends Module {
  constructor(...layers: Module[]) {
    super();
    layers.forEach((layer, index) => {
      this.addModule(String(index), layer);
    });
  }
  forward(input: tf.Tensor): tf.Tensor {
    return input;
  }
}

beforeAll(async () => {
  await tf.setBackend('cpu');
}, BACKEND_HOOK_TIMEOUT);

describe('parameterCount', () => {
  test("gorilla's observed example: Sequential(Linear(3,4), Sequential(Linear(4,2,bias=False)))", () => {
    const model = new Sequential(new Linear(3, 4), new Sequential(new Linear(4, 2, false)));
    const counts = parameterCount(model);
    expect(Object.fromEntries(counts)).toEqual({
      '': 24,
      '0': 16,
      '0.weight': 12,
      '0.bias': 4,
      '1': 8,
      '1.0': 8,
      '1.0.weight': 8,
    });
    expect([...counts.keys()][0]).toBe('');
    // The seed's sum over all prefixes over-counts; '' is the real total.
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(80);
    model.dispose();
  });

  test('an empty model has a total of 0', () => {
    expect(Object.fromEntries(parameterCount(new Sequential()))).toEqual({ '': 0 });
  });

  test('parameterCountTable: total, indented modules and shapes, maxDepth', () => {
    const model = new Sequential(new Linear(300, 400), new Sequential(new Linear(4, 2, false)));
    expect(parameterCountTable(model)).toMatchInlineSnapshot(`
      "| name          | #elements or shape |
      |:--------------|:-------------------|
      | model         | 0.1M               |
      |  0            |  0.1M              |
      |   0.weight    |   (400, 300)       |
      |   0.bias      |   (400,)           |
      |  1            |  8                 |
      |   1.0         |   8                |
      |    1.0.weight |    (2, 4)          |"
    `);
    expect(parameterCountTable(model, 1).split('\n')).toHaveLength(5);
    model.dispose();
  });
});
