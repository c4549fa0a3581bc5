import { OPTIMIZERS } from '@gorilla-ts/registry';
// The built-in optimizers register themselves on import (see buildLrScheduler's module).
import './adam.js';
import './rmsprop.js';
import './sgd.js';
import { OptimizerError } from '../errors.js';
import type { Module } from '../nn/module.js';
import type { NamedVariable, Optimizer, ParamGroupInput } from './optimizer.js';

/** A per-parameter-group rule of {@link OptimizerConfig.paramGroups}. */
export interface ParamGroupRule {
  /** Parameters whose dotted name starts with this prefix (`head.`) form the group. */
  prefix: string;
  /** Multiplies the learning rate for the group. Defaults to 1. */
  lrMult?: number;
  /** Multiplies the weight decay for the group. Defaults to 1. */
  decayMult?: number;
}

/** The optimizer section of a config: `type` names an entry of `OPTIMIZERS`, the rest are its options. */
export interface OptimizerConfig {
  /** `SGD`, `Adam`, `AdamW`, `RMSprop`, or any other registered optimizer. */
  type: string;
  /**
   * Parameter groups by name prefix, each with multipliers of `lr` and `weightDecay`. A parameter
   * joins the first rule whose prefix it starts with; the rest form the first group. Defaults to
   * one group.
   */
  paramGroups?: readonly ParamGroupRule[];
  [option: string]: unknown;
}

/**
 * Builds an optimizer over a model's parameters from a config (`{ type: 'Adam', lr: 1e-3 }`).
 * The config is never written to. With `paramGroups`, the parameters not matched by any rule
 * come first, then one group per rule, in order.
 *
 * @example
 * ```ts
 * const optimizer = buildOptimizer(model, {
 *   type: 'SGD', lr: 0.01, momentum: 0.9, weightDecay: 1e-4,
 *   paramGroups: [{ prefix: 'head.', lrMult: 10, decayMult: 0 }],
 * });
 * ```
 * @throws {@link OptimizerError} for a rule that matches no parameter; the registry's errors for
 *   an unknown type or invalid options.
 */
export function buildOptimizer<O extends Optimizer = Optimizer>(
  model: Module<never, unknown> | { namedParameters(): Iterable<NamedVariable> },
  config: OptimizerConfig,
): O {
  const { paramGroups: rules, ...options } = config;
  const named = [...model.namedParameters()];
  if (rules === undefined || rules.length === 0) {
    return OPTIMIZERS.build<O>({ ...options, params: named });
  }
  const groups: Array<ParamGroupInput & { params: NamedVariable[] }> = rules.map((rule) => ({
    params: [],
    ...(rule.lrMult === undefined ? {} : { lrMult: rule.lrMult }),
    ...(rule.decayMult === undefined ? {} : { decayMult: rule.decayMult }),
  }));
  const rest: NamedVariable[] = [];
  for (const entry of named) {
    const index = rules.findIndex((rule) => entry[0].startsWith(rule.prefix));
    if (index < 0) rest.push(entry);
    else groups[index]!.params.push(entry);
  }
  const empty = rules.filter((_, index) => groups[index]!.params.length === 0);
  if (empty.length > 0) {
    const roots = [...new Set(named.map(([name]) => `${name.split('.')[0]}.`))];
    throw new OptimizerError(
      'OPTIMIZER_INVALID',
      `paramGroups: no parameter starts with ${empty.map((rule) => `'${rule.prefix}'`).join(', ')} ` +
        `(or an earlier rule took them all). Parameter names start with: ${roots.join(', ')}.`,
    );
  }
  const params = rest.length > 0 ? [{ params: rest }, ...groups] : groups;
  return OPTIMIZERS.build<O>({ ...options, params });
}
