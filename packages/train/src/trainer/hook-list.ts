import type { ResumeResult } from '../checkpoint/checkpoint.js';
import type { JsonValue } from '../optim/optimizer.js';
import type { TrainerContext } from './context.js';
import { TrainerError } from './errors.js';
import type { Hook, Metrics } from './hook.js';

/**
 * A trainer's hooks in priority order (stable: equal priorities keep the given order), with one
 * typed dispatch method per hook point. On ranks other than 0, hooks marked `ranks: 'main'` are
 * left out.
 */
export class HookList {
  /** Every hook, in priority order (those of other ranks included). */
  readonly all: readonly Hook[];
  /** The hooks this rank calls, in priority order. */
  readonly active: readonly Hook[];

  /** @throws {@link TrainerError} `HOOK_INVALID` when two hooks share a name. */
  constructor(hooks: readonly Hook[], rank: number) {
    const seen = new Map<string, number>();
    for (const hook of hooks) seen.set(hook.name, (seen.get(hook.name) ?? 0) + 1);
    const duplicates = [...seen].filter(([, count]) => count > 1).map(([name]) => name);
    if (duplicates.length > 0) {
      throw new TrainerError(
        'HOOK_INVALID',
        `Hook names must be unique (checkpoints key each hook's state by its name): ${duplicates.map((name) => `'${name}'`).join(', ')} appear more than once. Give each a distinct \`name\`.`,
        {
          issues: duplicates.map((name) => ({
            path: 'hooks',
            message: `duplicate name '${name}'`,
          })),
        },
      );
    }
    this.all = hooks
      .map((hook, index) => ({ hook, index }))
      .sort((a, b) => a.hook.priority - b.hook.priority || a.index - b.index)
      .map(({ hook }) => hook);
    this.active = rank === 0 ? this.all : this.all.filter((hook) => hook.ranks !== 'main');
  }

  /** The hook named `name`, if any. */
  get(name: string): Hook | undefined {
    return this.all.find((hook) => hook.name === name);
  }

  async beforeRun(trainer: TrainerContext): Promise<void> {
    for (const hook of this.active) await hook.beforeRun(trainer);
  }
  async afterRun(trainer: TrainerContext): Promise<void> {
    for (const hook of this.active) await hook.afterRun(trainer);
  }
  async beforeEpoch(trainer: TrainerContext): Promise<void> {
    for (const hook of this.active) await hook.beforeEpoch(trainer);
  }
  async afterEpoch(trainer: TrainerContext): Promise<void> {
    for (const hook of this.active) await hook.afterEpoch(trainer);
  }
  async beforeStep(trainer: TrainerContext): Promise<void> {
    for (const hook of this.active) await hook.beforeStep(trainer);
  }
  async afterStep(trainer: TrainerContext): Promise<void> {
    for (const hook of this.active) await hook.afterStep(trainer);
  }
  async beforeEval(trainer: TrainerContext): Promise<void> {
    for (const hook of this.active) await hook.beforeEval(trainer);
  }
  async afterEval(trainer: TrainerContext, metrics: Metrics): Promise<void> {
    for (const hook of this.active) await hook.afterEval(trainer, metrics);
  }
  async beforeSaveCheckpoint(
    trainer: TrainerContext,
    meta: Record<string, JsonValue>,
  ): Promise<void> {
    for (const hook of this.active) await hook.beforeSaveCheckpoint(trainer, meta);
  }
  async afterSaveCheckpoint(trainer: TrainerContext, filename: string): Promise<void> {
    for (const hook of this.active) await hook.afterSaveCheckpoint(trainer, filename);
  }
  async afterLoadCheckpoint(trainer: TrainerContext, checkpoint: ResumeResult): Promise<void> {
    for (const hook of this.active) await hook.afterLoadCheckpoint(trainer, checkpoint);
  }

  /** Every stateful hook's state, by name (for a checkpoint). */
  stateDict(): Record<string, JsonValue> {
    const states: Record<string, JsonValue> = {};
    for (const hook of this.active) if (hook.stateDict) states[hook.name] = hook.stateDict();
    return states;
  }

  /**
   * Restores each stateful hook from `states[hook.name]`; returns the names of stateful hooks
   * the states lacked (they start fresh).
   */
  loadStateDict(states: Readonly<Record<string, JsonValue>>): string[] {
    const missing: string[] = [];
    for (const hook of this.active) {
      if (!hook.loadStateDict) continue;
      const state = states[hook.name];
      if (state === undefined) missing.push(hook.name);
      else hook.loadStateDict(state);
    }
    return missing;
  }
}
