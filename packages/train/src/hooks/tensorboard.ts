import { resolve } from 'node:path';
import { HOOKS } from '@gorilla-ts/registry';
import { z } from 'zod';
import { registerOnce } from '../nn/register.js';
import { TensorBoardWriter } from '../tensorboard/writer.js';
import type { TrainerContext } from '../trainer/context.js';
import { HookBase, type HookOptions, type Metrics } from '../trainer/hook.js';
import { isPeriodEnd } from '../trainer/period.js';
import { hookOptionsShape, interval } from './schema.js';

/** Options of {@link TensorBoardHook}. */
export interface TensorBoardHookOptions extends HookOptions {
  /** Write the averages of the training scalars every this many iterations. Defaults to `10`. */
  interval?: number;
  /** The event files' folder, relative to the work dir. Defaults to the work dir (as the seed). */
  logDir?: string;
}

/**
 * Writes TensorBoard scalars on rank 0: `train/loss`, `lr`, each loss term (`train/<term>`),
 * `iter_time`, `data_time` and `grad_norm`, averaged over every `interval` iterations and written at
 * the iteration count; evaluation metrics (`val/acc`, ...) at the iteration count after each
 * evaluation. Priority `BELOW_NORMAL`; rank 0 only.
 */
export class TensorBoardHook extends HookBase {
  override readonly ranks = 'main';
  readonly interval: number;
  readonly #logDir: string | undefined;
  #writer: TensorBoardWriter | undefined;

  constructor(options: TensorBoardHookOptions = {}) {
    super(options, 'BELOW_NORMAL');
    this.interval = options.interval ?? 10;
    this.#logDir = options.logDir;
  }

  /** The writer, while the run lasts. */
  get writer(): TensorBoardWriter | undefined {
    return this.#writer;
  }

  override beforeRun(trainer: TrainerContext): void {
    this.#writer = new TensorBoardWriter(resolve(trainer.workDir, this.#logDir ?? '.'), {
      rank: 0,
    });
  }

  override afterStep(trainer: TrainerContext): void {
    const writer = this.#writer;
    const result = trainer.stepResult;
    if (writer === undefined || result === undefined) return;
    const scalars: Record<string, number> = { 'train/loss': result.loss, lr: result.lr };
    for (const [name, value] of Object.entries(result.terms)) scalars[`train/${name}`] = value;
    for (const name of ['iter_time', 'data_time', 'grad_norm']) {
      if (trainer.metrics.latestIter(name) === trainer.iter)
        scalars[name] = trainer.metrics.latest(name)!;
    }
    writer.update(scalars);
    if (isPeriodEnd(trainer.iter + 1, this.interval, trainer.maxIter))
      writer.write(trainer.iter + 1);
  }

  override afterEval(trainer: TrainerContext, metrics: Metrics): void {
    for (const [name, value] of Object.entries(metrics))
      this.#writer?.addScalar(name, value, trainer.completedIters);
    this.#writer?.flush();
  }

  override afterRun(trainer: TrainerContext): void {
    this.#writer?.write(trainer.completedIters);
    this.#writer?.close();
    this.#writer = undefined;
  }
}

registerOnce(HOOKS, 'TensorBoardHook', TensorBoardHook, {
  schema: z.strictObject({ ...hookOptionsShape, interval, logDir: z.string().optional() }),
});
