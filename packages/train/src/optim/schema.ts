import { z } from 'zod';
import type { ParamsInput } from './optimizer.js';

/** The `params` argument of an optimizer: checked by the constructor itself. @internal */
export const paramsSchema = z.custom<ParamsInput<never>>(
  (value) => typeof value === 'object' && value !== null,
  { message: 'params must be a Module, [name, variable] pairs or parameter groups' },
);
