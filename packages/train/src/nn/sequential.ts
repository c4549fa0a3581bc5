import { type BuildConfig, MODULES } from '@gorilla-ts/registry';
import type * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { Module } from './module.js';
import { registerOnce } from './register.js';

/** Options of {@link Sequential}. */
export interface SequentialOptions {
  /**
   * The layers, applied in order; their state is named `0.`, `1.`, ... A config object
   * (`{ type: 'Linear', inFeatures: 3, outFeatures: 8 }`) is built with `MODULES`.
   */
  layers: ReadonlyArray<Module | BuildConfig>;
}

/**
 * A chain of modules, each fed the previous one's output, with PyTorch's state names
 * (`0.weight`, `1.running_mean`, ...).
 *
 * @example
 * ```ts
 * const model = new Sequential({ layers: [
 *   new Linear({ inFeatures: 3, outFeatures: 16 }), new BatchNorm1d({ numFeatures: 16 }),
 *   new ReLU(), new Linear({ inFeatures: 16, outFeatures: 4 }),
 * ] });
 * ```
 */
export class Sequential extends Module {
  readonly layers: readonly Module[];

  constructor(options: SequentialOptions) {
    super();
    this.layers = options.layers.map((layer, index) => {
      const module = layer instanceof Module ? layer : MODULES.build<Module>(layer);
      if (!(module instanceof Module)) {
        throw new TypeError(`Sequential: layer ${index} is not a Module (got ${String(module)}).`);
      }
      return this.addModule(String(index), module);
    });
  }

  forward(input: tf.Tensor): tf.Tensor {
    let output = input;
    for (const layer of this.layers) output = layer.forward(output);
    return output;
  }
}

registerOnce(MODULES, 'Sequential', Sequential, {
  schema: z.strictObject({
    layers: z.array(z.union([z.instanceof(Module), z.looseObject({ type: z.unknown() })])),
  }),
});
