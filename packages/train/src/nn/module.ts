import * as tf from '@tensorflow/tfjs-core';
import { StateMismatchError } from '../errors.js';

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /**
   * Require the names to match exactly (every missing or unexpected name is an error).
   * Shapes must always match. Defaults to `true`.
   */
  strict?: boolean;
}

/** What {@link Module.loadStateDict} found, name by name. */
export interface LoadStateDictResult {
  /** Names the module has but the state lacked. */
  missing: string[];
  /** Names in the state the module does not have. */
  unexpected: string[];
  /** Names whose shapes differ: `name: expected [a, b], got [c]`. */
  wrongShape: string[];
}

/**
 * The base of every model and layer: a tree of named parameters (trainable `tf.Variable`s),
 * buffers (non-trainable state such as BatchNorm running statistics) and child modules, with
 * PyTorch's dotted names (`encoder.0.weight`), a training/evaluation mode, and a state dict.
 *
 * Subclasses create their state in the constructor with {@link Module.addParameter},
 * {@link Module.addBuffer} and {@link Module.addModule}, and implement {@link Module.forward}.
 */
export abstract class Module<In = tf.Tensor, Out = tf.Tensor> {
  /** Training mode (dropout active, BatchNorm uses batch statistics and updates its buffers). */
  training = true;
  readonly #parameters = new Map<string, tf.Variable>();
  readonly #buffers = new Map<string, tf.Variable>();
  readonly #children = new Map<string, Module<unknown, unknown>>();

  /** Computes the output. Called inside the caller's `tf.tidy`/gradient scope. */
  abstract forward(input: In): Out;

  /** Same as {@link Module.forward}; reads better at call sites (`model.apply(x)`). */
  apply(input: In): Out {
    return this.forward(input);
  }

  /** Registers a trainable parameter, taking ownership of `initial`. */
  protected addParameter(name: string, initial: tf.Tensor): tf.Variable {
    assertFreshName(this, name);
    const variable = tf.variable(initial, true);
    initial.dispose();
    this.#parameters.set(name, variable);
    return variable;
  }

  /** Registers a non-trainable buffer (saved in checkpoints, not optimized). */
  protected addBuffer(name: string, initial: tf.Tensor): tf.Variable {
    assertFreshName(this, name);
    const variable = tf.variable(initial, false);
    initial.dispose();
    this.#buffers.set(name, variable);
    return variable;
  }

  /** Registers a child module; its state appears under `name.`. */
  protected addModule<M extends Module<never, unknown>>(name: string, module: M): M {
    assertFreshName(this, name);
    this.#children.set(name, module as unknown as Module<unknown, unknown>);
    return module;
  }

  /** True when `name` is already used by a parameter, buffer or child of this module. */
  hasOwnName(name: string): boolean {
    return this.#parameters.has(name) || this.#buffers.has(name) || this.#children.has(name);
  }

  /** The direct children, by name, in registration order. */
  namedChildren(): Array<[string, Module<unknown, unknown>]> {
    return [...this.#children.entries()];
  }

  /** Every trainable parameter of this module and its descendants, by dotted name. */
  namedParameters(prefix = ''): Array<[string, tf.Variable]> {
    const result: Array<[string, tf.Variable]> = [];
    for (const [name, variable] of this.#parameters) result.push([prefix + name, variable]);
    for (const [name, child] of this.#children)
      result.push(...child.namedParameters(`${prefix}${name}.`));
    return result;
  }

  /** The trainable parameters, in {@link Module.namedParameters} order. */
  parameters(): tf.Variable[] {
    return this.namedParameters().map(([, variable]) => variable);
  }

  /** Every buffer of this module and its descendants, by dotted name. */
  namedBuffers(prefix = ''): Array<[string, tf.Variable]> {
    const result: Array<[string, tf.Variable]> = [];
    for (const [name, variable] of this.#buffers) result.push([prefix + name, variable]);
    for (const [name, child] of this.#children)
      result.push(...child.namedBuffers(`${prefix}${name}.`));
    return result;
  }

  /** Parameters and buffers by dotted name: what a checkpoint stores. Tensors are not copied. */
  stateDict(): Map<string, tf.Variable> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Assigns tensors by name into the parameters and buffers. Shapes must match; with `strict`
   * (the default) the names must match too. Every problem is reported at once, and nothing is
   * assigned unless all checks pass.
   *
   * @throws {@link StateMismatchError} listing every missing, unexpected and wrong-shaped name.
   */
  loadStateDict(
    state: ReadonlyMap<string, tf.Tensor> | Readonly<Record<string, tf.Tensor>>,
    options: LoadStateDictOptions = {},
  ): LoadStateDictResult {
    const strict = options.strict ?? true;
    const incoming = state instanceof Map ? state : new Map(Object.entries(state));
    const own = this.stateDict();
    const result: LoadStateDictResult = { missing: [], unexpected: [], wrongShape: [] };
    for (const [name, variable] of own) {
      const tensor = incoming.get(name);
      if (tensor === undefined) result.missing.push(name);
      else if (!sameShape(tensor.shape, variable.shape)) {
        result.wrongShape.push(
          `${name}: expected [${variable.shape.join(', ')}], got [${tensor.shape.join(', ')}]`,
        );
      }
    }
    for (const name of incoming.keys()) if (!own.has(name)) result.unexpected.push(name);
    const problems = [
      ...result.wrongShape.map((line) => `wrong shape ${line}`),
      ...(strict ? result.missing.map((name) => `missing ${name}`) : []),
      ...(strict ? result.unexpected.map((name) => `unexpected ${name}`) : []),
    ];
    if (problems.length > 0) {
      throw new StateMismatchError(
        `The state does not fit the ${this.constructor.name}:\n  - ${problems.join('\n  - ')}`,
        {
          missing: strict ? result.missing : [],
          unexpected: strict ? result.unexpected : [],
          wrongShape: result.wrongShape,
        },
      );
    }
    for (const [name, variable] of own) {
      const tensor = incoming.get(name);
      if (tensor !== undefined)
        variable.assign(tensor.dtype === variable.dtype ? tensor : tensor.cast(variable.dtype));
    }
    return result;
  }

  /** Sets training mode on this module and every descendant; returns `this`. */
  train(mode = true): this {
    this.training = mode;
    for (const child of this.#children.values()) child.train(mode);
    return this;
  }

  /** Sets evaluation mode (the same as `train(false)`); returns `this`. */
  eval(): this {
    return this.train(false);
  }

  /** Frees every parameter and buffer of this module and its descendants. */
  dispose(): void {
    for (const variable of [...this.#parameters.values(), ...this.#buffers.values()])
      variable.dispose();
    for (const child of this.#children.values()) child.dispose();
  }
}

function assertFreshName(module: Module<never, unknown>, name: string): void {
  if (name === '' || name.includes('.')) {
    throw new Error(
      `${module.constructor.name}: state name '${name}' must be non-empty and contain no '.'.`,
    );
  }
  if (module.hasOwnName(name)) {
    throw new Error(
      `${module.constructor.name}: the name '${name}' is already used in this module.`,
    );
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((size, axis) => size === b[axis]);
}
