import { DATASETS, type Registry } from '@gorilla-ts/registry';
import { ModelNetH5, modelNetH5Schema } from './modelnet-h5.js';
import {
  ModelNetNormalResampled,
  modelNetNormalResampledSchema,
} from './modelnet-normal-resampled.js';
import { SyntheticShapes, syntheticShapesSchema } from './synthetic-shapes.js';

/**
 * Registers `ModelNetH5`, `ModelNetNormalResampled` and `SyntheticShapes` with their schemas in
 * `registry` (the shared `DATASETS` by default). Names already taken are left alone, so calling it
 * twice is harmless. Importing this module's index calls it once.
 */
export function registerDatasets(registry: Registry<unknown> = DATASETS): void {
  const entries = [
    ['ModelNetH5', ModelNetH5, modelNetH5Schema],
    ['ModelNetNormalResampled', ModelNetNormalResampled, modelNetNormalResampledSchema],
    ['SyntheticShapes', SyntheticShapes, syntheticShapesSchema],
  ] as const;
  for (const [name, factory, schema] of entries) {
    if (!registry.has(name)) registry.register(name, factory, { schema });
  }
}
