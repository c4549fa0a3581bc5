import { z } from 'zod';
import { PRIORITY } from '../trainer/priority.js';

/** The options every built-in hook accepts from a config. @internal */
export const hookOptionsShape = {
  name: z.string().min(1).optional(),
  priority: z
    .union([z.number(), z.enum(Object.keys(PRIORITY) as [keyof typeof PRIORITY])])
    .optional(),
};

/** A positive integer interval (0 disables where allowed). @internal */
export const interval = z.number().int().min(0).optional();
