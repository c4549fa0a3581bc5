import { register } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';

const LOADED = Symbol.for('@gorilla-ts/train.gradients');

/**
 * A resolve hook for Node's module loader: the ES modules under `@tensorflow/tfjs-core/dist/`
 * import each other without file extensions (they are written for bundlers), which Node's ESM
 * resolver refuses. For those imports only, it tries the specifier with `.js` first.
 */
const EXTENSION_HOOK = `
export async function resolve(specifier, context, next) {
  const parent = context.parentURL ?? '';
  if (specifier.startsWith('.') && !specifier.endsWith('.js') && parent.includes('/@tensorflow/tfjs-core/dist/')) {
    try { return await next(specifier + '.js', context); } catch {}
  }
  return next(specifier, context);
}`;

/** True when tfjs-core's gradient functions are registered (autodiff works). */
export function gradientsRegistered(): boolean {
  return tf.getGradient('BatchMatMul') != null && tf.getGradient('Sum') != null;
}

/**
 * Registers the gradient functions of every tfjs-core op, once per process.
 *
 * `@tensorflow/tfjs-core` alone has no gradients: the `@tensorflow/tfjs` bundle (which
 * `tfjs-node` loads) registers them. Without it, the gradients come from tfjs-core's own
 * `dist/register_all_gradients.js`, loaded through a narrow resolve hook (see
 * the module-private `EXTENSION_HOOK`).
 *
 * @returns where the gradients came from: `'present'`, `'@tensorflow/tfjs'` or
 *   `'@tensorflow/tfjs-core'`.
 */
export async function ensureGradients(): Promise<string> {
  if (gradientsRegistered()) return 'present';
  const holder = globalThis as typeof globalThis & { [LOADED]?: Promise<string> };
  holder[LOADED] ??= loadGradients();
  return holder[LOADED];
}

async function loadGradients(): Promise<string> {
  try {
    await import(/* @vite-ignore */ '@tensorflow/tfjs' as string);
    if (gradientsRegistered()) return '@tensorflow/tfjs';
  } catch {
    // Not installed next to this package: fall back to tfjs-core's own gradient modules.
  }
  register(`data:text/javascript,${encodeURIComponent(EXTENSION_HOOK)}`);
  await import(/* @vite-ignore */ '@tensorflow/tfjs-core/dist/register_all_gradients.js' as string);
  if (!gradientsRegistered()) {
    throw new Error(
      'Loading @tensorflow/tfjs-core/dist/register_all_gradients.js registered no gradients.',
    );
  }
  return '@tensorflow/tfjs-core';
}
