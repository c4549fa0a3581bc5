import type { Factory, RegisterOptions, Registry } from '@gorilla-ts/registry';

/**
 * Registers a built-in entry unless the name is already taken: a second copy of this package
 * in the process (the standard registries are shared through `globalThis`) or a user's own
 * entry registered first keeps its place instead of throwing. @internal
 */
export function registerOnce<T>(
  registry: Registry<T>,
  name: string,
  factory: Factory<T>,
  options: RegisterOptions = {},
): void {
  if (!registry.has(name)) registry.register(name, factory, options);
}
