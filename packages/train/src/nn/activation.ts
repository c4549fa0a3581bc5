import { MODULES } from '@gorilla-ts/registry';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { Module } from './module.js';
import { registerOnce } from './register.js';

/** `max(x, 0)`, element-wise. Has no state. */
export class ReLU extends Module {
  constructor(_options: Record<string, never> = {}) {
    super();
  }

  forward(input: tf.Tensor): tf.Tensor {
    return tf.relu(input);
  }
}

registerOnce(MODULES, 'ReLU', ReLU, { schema: z.strictObject({}) });
