import * as tf from '@tensorflow/tfjs-core';
import { OptimizerError } from '../errors.js';
import { Module } from '../nn/module.js';

/** A parameter and its dotted name (`fc1.weight`), as {@link Module.namedParameters} gives them. */
export type NamedVariable = readonly [string, tf.Variable];

/** Hyperparameters every optimizer has, per parameter group. */
export interface BaseHyperparameters {
  /** The learning rate. */
  lr: number;
  /** L2 penalty (coupled; decoupled for AdamW). */
  weightDecay: number;
  /** The learning rate schedulers start from (PyTorch's `initial_lr`); set by the first scheduler. */
  initialLr?: number;
}

/** A JSON value (what an optimizer state holds besides its tensors). */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** One group of parameters sharing hyperparameters (PyTorch's `param_groups[i]`). */
export type ParamGroup<H extends BaseHyperparameters = BaseHyperparameters> = H & {
  /** The group's parameters by dotted name. */
  params: NamedVariable[];
};

/**
 * A parameter group as given to an optimizer: its parameters and any hyperparameters that differ
 * from the optimizer's. `lrMult` and `decayMult` scale the optimizer-wide `lr` and `weightDecay`.
 */
export type ParamGroupInput<H extends BaseHyperparameters = BaseHyperparameters> = Partial<H> & {
  params: Iterable<NamedVariable>;
  /** Multiplies the group's learning rate. Defaults to 1. */
  lrMult?: number;
  /** Multiplies the group's weight decay. Defaults to 1. */
  decayMult?: number;
};

/** What an optimizer optimizes: a module, named parameters, or parameter groups. */
export type ParamsInput<H extends BaseHyperparameters = BaseHyperparameters> =
  | Module<never, unknown>
  | Iterable<NamedVariable>
  | Iterable<ParamGroupInput<H>>;

/**
 * An optimizer's state: JSON-able hyperparameters and counters, plus its slot tensors
 * (`fc1.weight.exp_avg`, ...) by name. A checkpoint stores the tensors under `optimizer.<name>`.
 */
export interface OptimizerState {
  /** The registered name of the optimizer (`SGD`, `Adam`, ...). */
  type: string;
  /** How many times {@link Optimizer.step} ran. */
  iterations: number;
  /** Each group's hyperparameters and parameter names. */
  groups: Array<{ params: string[]; [key: string]: JsonValue }>;
  /** Per parameter: how many updates it received (Adam's bias correction uses it). */
  steps: Record<string, number>;
  /** Slot tensors by `<parameter>.<slot>`. The optimizer's live variables: do not dispose them. */
  slots: Map<string, tf.Tensor>;
}

/** An {@link OptimizerState} whose slots may be any read-only map (as read from a checkpoint). */
export type LoadableOptimizerState = Omit<OptimizerState, 'slots'> & {
  slots: ReadonlyMap<string, tf.Tensor>;
};

/** Gradients by parameter name (or by the `tf.Variable`'s own name, as `tf.variableGrads` gives them). */
export type Gradients = ReadonlyMap<string, tf.Tensor> | tf.NamedTensorMap;

/**
 * The base of every optimizer: parameter groups with their hyperparameters, per-parameter slot
 * variables named `<parameter>.<slot>` created on first use, a step counter, the learning-rate
 * accessors schedulers use, and an exact state dict. Subclasses implement one parameter's update
 * with tfjs ops ({@link Optimizer.updateParameter}); {@link Optimizer.step} runs it in one
 * `tf.tidy` for all parameters, without reading any value back from the backend.
 */
export abstract class Optimizer<H extends BaseHyperparameters = BaseHyperparameters> {
  /** The registered name (`SGD`, `Adam`, ...), stored in the state dict. */
  abstract readonly type: string;
  /** The parameter groups; change `lr` through {@link Optimizer.setLr} or a scheduler. */
  readonly paramGroups: Array<ParamGroup<H>>;
  /** How many times {@link Optimizer.step} ran. */
  iterations = 0;
  readonly #slots = new Map<string, tf.Variable>();
  readonly #steps = new Map<string, number>();
  readonly #groupOf = new Map<string, ParamGroup<H>>();
  /** Scalar tensors by value during one {@link Optimizer.step} (see {@link Optimizer.scalar}). */
  #scalars: Map<number, tf.Scalar> | undefined;

  protected constructor(params: ParamsInput<H>, defaults: H) {
    this.paramGroups = resolveGroups(params, defaults);
    for (const group of this.paramGroups) {
      for (const [name, variable] of group.params) {
        if (this.#groupOf.has(name)) {
          throw new OptimizerError(
            'OPTIMIZER_INVALID',
            `The parameter '${name}' appears in more than one parameter group.`,
          );
        }
        if (!variable.trainable) {
          throw new OptimizerError(
            'OPTIMIZER_INVALID',
            `The parameter '${name}' is not trainable (a buffer?).`,
          );
        }
        this.#groupOf.set(name, group);
      }
    }
  }

  /**
   * Applies one update to one parameter, inside the caller's `tf.tidy`. Read slots with
   * {@link Optimizer.getSlot} and write new values with `assign`.
   *
   * @param step - this parameter's update count, starting at 1.
   */
  protected abstract updateParameter(
    name: string,
    param: tf.Variable,
    grad: tf.Tensor,
    group: ParamGroup<H>,
    step: number,
  ): void;

  /**
   * `value` as a float32 scalar tensor, for the hyperparameters of an update (`tf.mul(x,
   * this.scalar(beta))` instead of `tf.mul(x, beta)`). During {@link Optimizer.step} each value is
   * made once and shared by every parameter's update: tfjs turns a number operand into a new
   * scalar tensor on every op, which costs more than the op itself on small tensors (~11 µs of
   * ~20 µs on tfjs-node), about 1.5 ms per Adam step of an 811k-parameter model in 22 tensors.
   * The values, and so the results, are the same. Outside a step it returns a fresh scalar.
   */
  protected scalar(value: number): tf.Scalar {
    const cache = this.#scalars;
    if (cache === undefined) return tf.scalar(value);
    let tensor = cache.get(value);
    if (tensor === undefined) {
      tensor = tf.scalar(value);
      cache.set(value, tensor);
    }
    return tensor;
  }

  /** The slot `<name>.<slot>`, or undefined before it exists. */
  protected getSlot(name: string, slot: string): tf.Variable | undefined {
    return this.#slots.get(`${name}.${slot}`);
  }

  /** Creates (or replaces the value of) the slot `<name>.<slot>`, taking a copy of `value`. */
  protected setSlot(name: string, slot: string, value: tf.Tensor): tf.Variable {
    const key = `${name}.${slot}`;
    const existing = this.#slots.get(key);
    if (existing !== undefined) {
      existing.assign(value);
      return existing;
    }
    const variable = tf.variable(value, false);
    this.#slots.set(key, variable);
    return variable;
  }

  /** The slot `<name>.<slot>`, created with zeros like the parameter if missing. */
  protected zerosSlot(name: string, slot: string, param: tf.Variable): tf.Variable {
    return this.getSlot(name, slot) ?? this.setSlot(name, slot, tf.zerosLike(param));
  }

  /** Every parameter this optimizer updates, by name, in group order. */
  namedParameters(): NamedVariable[] {
    return this.paramGroups.flatMap((group) => group.params);
  }

  /**
   * Updates every parameter that has a gradient (the others are left alone, as PyTorch skips
   * parameters whose `.grad` is None). Gradients are looked up by parameter name, then by the
   * variable's tfjs name. The gradients are not disposed.
   *
   * @throws {@link OptimizerError} when a gradient's shape differs from its parameter's.
   */
  step(grads: Gradients): void {
    const lookup =
      grads instanceof Map
        ? (key: string) => grads.get(key)
        : (key: string) => (grads as tf.NamedTensorMap)[key];
    const updates: Array<[string, tf.Variable, tf.Tensor, ParamGroup<H>]> = [];
    for (const group of this.paramGroups) {
      for (const [name, param] of group.params) {
        const grad = lookup(name) ?? lookup(param.name);
        if (grad === undefined) continue;
        if (!sameShape(grad.shape, param.shape)) {
          throw new OptimizerError(
            'OPTIMIZER_INVALID',
            `The gradient of '${name}' has shape [${grad.shape.join(', ')}], the parameter [${param.shape.join(', ')}].`,
          );
        }
        updates.push([name, param, grad, group]);
      }
    }
    // The shared scalars are made inside the tidy and freed with everything else at its end.
    this.#scalars = new Map();
    try {
      tf.tidy(() => {
        for (const [name, param, grad, group] of updates) {
          const step = (this.#steps.get(name) ?? 0) + 1;
          this.#steps.set(name, step);
          this.updateParameter(name, param, grad, group, step);
        }
      });
    } finally {
      this.#scalars = undefined;
    }
    this.iterations += 1;
  }

  /**
   * Computes the gradients of `loss` with respect to every parameter, applies one step, frees
   * the gradients and returns the loss (yours to dispose). `loss` must return a scalar (a
   * criterion's first result with its default `mean` or `sum` reduction); tfjs throws otherwise.
   */
  minimize(loss: () => tf.Tensor): tf.Scalar {
    const { value, grads } = tf.variableGrads(
      loss as () => tf.Scalar,
      this.namedParameters().map(([, variable]) => variable),
    );
    try {
      this.step(grads);
    } finally {
      tf.dispose(grads);
    }
    return value;
  }

  /** The first group's learning rate (the usual one to log). */
  getLr(): number {
    return this.paramGroups[0]!.lr;
  }

  /** Every group's learning rate, in group order. */
  getLrs(): number[] {
    return this.paramGroups.map((group) => group.lr);
  }

  /** Sets every group's learning rate to `lr`, or each group's to `lr[i]`. */
  setLr(lr: number | readonly number[]): void {
    if (typeof lr === 'number') {
      for (const group of this.paramGroups) group.lr = lr;
      return;
    }
    if (lr.length !== this.paramGroups.length) {
      throw new OptimizerError(
        'OPTIMIZER_INVALID',
        `setLr() got ${lr.length} learning rates for ${this.paramGroups.length} parameter groups.`,
      );
    }
    this.paramGroups.forEach((group, index) => {
      group.lr = lr[index]!;
    });
  }

  /** The state: hyperparameters, counters and slot tensors (not copies: see {@link OptimizerState.slots}). */
  stateDict(): OptimizerState {
    return {
      type: this.type,
      iterations: this.iterations,
      groups: this.paramGroups.map(({ params, ...hyper }) => ({
        ...(structuredClone(hyper) as Record<string, JsonValue>),
        params: params.map(([name]) => name),
      })),
      steps: Object.fromEntries(this.#steps),
      slots: new Map(this.#slots),
    };
  }

  /**
   * Every reason `state` cannot be loaded into this optimizer (a different type, other groups or
   * parameters, unknown or wrong-shaped slots); empty when it fits.
   */
  checkStateDict(state: LoadableOptimizerState): string[] {
    const problems: string[] = [];
    if (
      typeof state !== 'object' ||
      state === null ||
      typeof state.type !== 'string' ||
      !Number.isInteger(state.iterations) ||
      !Array.isArray(state.groups) ||
      !state.groups.every((group) => Array.isArray(group?.params)) ||
      typeof state.steps !== 'object' ||
      state.steps === null ||
      !(state.slots instanceof Map)
    ) {
      return [
        'it is not an optimizer state { type, iterations, groups: [{ params, ... }], steps, slots }',
      ];
    }
    if (state.type !== this.type)
      problems.push(`the state is for ${state.type}, this optimizer is ${this.type}`);
    if (state.groups.length !== this.paramGroups.length) {
      problems.push(
        `the state has ${state.groups.length} parameter groups, the optimizer ${this.paramGroups.length}`,
      );
    } else {
      state.groups.forEach((saved, index) => {
        const own = this.paramGroups[index]!.params.map(([name]) => name);
        if (own.join('\n') !== saved.params.join('\n')) {
          const missing = own.filter((name) => !saved.params.includes(name));
          const unexpected = saved.params.filter((name) => !own.includes(name));
          problems.push(
            `group ${index} parameters differ (missing: ${missing.join(', ') || 'none'}; unexpected: ${unexpected.join(', ') || 'none'}; or a different order)`,
          );
        }
      });
    }
    for (const [key, tensor] of state.slots) {
      const dot = key.lastIndexOf('.');
      const param = dot > 0 ? this.#groupOf.get(key.slice(0, dot)) : undefined;
      const variable = param?.params.find(([name]) => name === key.slice(0, dot))?.[1];
      if (variable === undefined) problems.push(`unexpected slot ${key}`);
      else if (!sameShape(variable.shape, tensor.shape)) {
        problems.push(
          `wrong shape slot ${key}: expected [${variable.shape.join(', ')}], got [${tensor.shape.join(', ')}]`,
        );
      }
    }
    for (const name of Object.keys(state.steps)) {
      if (!this.#groupOf.has(name)) problems.push(`unexpected step count for ${name}`);
    }
    return problems;
  }

  /**
   * Restores a state from {@link Optimizer.stateDict} (possibly read back from a checkpoint):
   * hyperparameters, counters and every slot, exactly; slots the state lacks are dropped.
   * Nothing changes unless the whole state fits.
   *
   * @throws {@link OptimizerError} `OPTIMIZER_STATE_INVALID` listing every problem at once.
   */
  loadStateDict(state: LoadableOptimizerState): void {
    const problems = this.checkStateDict(state);
    if (problems.length > 0) {
      throw new OptimizerError(
        'OPTIMIZER_STATE_INVALID',
        `The state does not fit the ${this.type} optimizer:\n  - ${problems.join('\n  - ')}`,
      );
    }
    state.groups.forEach(({ params: _params, ...hyper }, index) => {
      Object.assign(this.paramGroups[index]!, structuredClone(hyper));
    });
    for (const [key, variable] of this.#slots) {
      if (!state.slots.has(key)) {
        variable.dispose();
        this.#slots.delete(key);
      }
    }
    for (const [key, tensor] of state.slots) {
      const dot = key.lastIndexOf('.');
      tf.tidy(() => {
        this.setSlot(
          key.slice(0, dot),
          key.slice(dot + 1),
          tensor.dtype === 'float32' ? tensor : tf.cast(tensor, 'float32'),
        );
      });
    }
    this.#steps.clear();
    for (const [name, count] of Object.entries(state.steps)) this.#steps.set(name, count);
    this.iterations = state.iterations;
  }

  /** Frees every slot variable (not the parameters). */
  dispose(): void {
    for (const variable of this.#slots.values()) variable.dispose();
    this.#slots.clear();
  }
}

function resolveGroups<H extends BaseHyperparameters>(
  params: ParamsInput<H>,
  defaults: H,
): Array<ParamGroup<H>> {
  const items: unknown[] = params instanceof Module ? [...params.namedParameters()] : [...params];
  const isGroup = (item: unknown): item is ParamGroupInput<H> =>
    typeof item === 'object' && item !== null && !Array.isArray(item) && 'params' in item;
  const inputs: Array<ParamGroupInput<H>> =
    items.length > 0 && items.every(isGroup)
      ? items
      : [{ params: items as NamedVariable[] } as unknown as ParamGroupInput<H>];
  if (!inputs.every(isGroup)) {
    throw new OptimizerError(
      'OPTIMIZER_INVALID',
      'params must be a Module, [name, variable] pairs, or parameter groups { params, ... }.',
    );
  }
  const groups = inputs.map((input, index) => {
    const { params: groupParams, lrMult = 1, decayMult = 1, ...overrides } = input;
    const list = [...groupParams];
    for (const entry of list) {
      if (
        !Array.isArray(entry) ||
        typeof entry[0] !== 'string' ||
        typeof entry[1]?.assign !== 'function'
      ) {
        throw new OptimizerError(
          'OPTIMIZER_INVALID',
          `Parameter group ${index}: each parameter must be a [name, tf.Variable] pair (from model.namedParameters()).`,
        );
      }
    }
    const hyper = { ...defaults, ...overrides } as H;
    hyper.lr *= lrMult;
    hyper.weightDecay *= decayMult;
    return { ...hyper, params: list } as ParamGroup<H>;
  });
  if (groups.every((group) => group.params.length === 0)) {
    throw new OptimizerError('OPTIMIZER_INVALID', 'The optimizer got no parameters to optimize.');
  }
  return groups;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((size, axis) => size === b[axis]);
}
