import { join, resolve } from 'node:path';
import { HOOKS } from '@gorilla-ts/registry';
import { z } from 'zod';
import { registerOnce } from '../nn/register.js';
import type { JsonValue } from '../optim/optimizer.js';
import {
  bestCheckpointName,
  checkpointName,
  LATEST_CHECKPOINT,
  linkCheckpoint,
  pruneCheckpoints,
} from '../trainer/checkpoint-files.js';
import type { TrainerContext } from '../trainer/context.js';
import { faultPoint } from '../trainer/fault.js';
import { HookBase, type HookOptions, type Metrics } from '../trainer/hook.js';
import { isPeriodEnd } from '../trainer/period.js';
import { hookOptionsShape, interval } from './schema.js';

/** Options of {@link CheckpointHook}. */
export interface CheckpointHookOptions extends HookOptions {
  /** Save every this many epochs (iterations with `byEpoch: false`). `0`: only the last. Defaults to `1`. */
  interval?: number;
  /** Count `interval` in epochs (`epoch_00003.safetensors`); `false`: iterations (`iter_00120...`). Defaults to `true`. */
  byEpoch?: boolean;
  /** Keep only the newest this many periodic checkpoints; `0` keeps all. Defaults to `0`. */
  maxKeep?: number;
  /** Keep `epoch_latest.safetensors` as the newest checkpoint (what `resume: 'auto'` reads). Defaults to `true`. */
  saveLatest?: boolean;
  /** Also save when the run ends (the last iteration, or a requested stop). Defaults to `true`. */
  saveLast?: boolean;
  /** Keep `best_<metric>.safetensors` for the best value of this metric (`val/acc`). Defaults to none. */
  saveBest?: string;
  /** The file name of the best checkpoint. Defaults to `best_<metric>.safetensors` (`best_val_acc.safetensors`). */
  bestFile?: string;
  /** `greater` or `less` is better for `saveBest`. Defaults to `less` for names with `loss`, else `greater`. */
  rule?: 'greater' | 'less';
  /** The folder. Defaults to the trainer's work dir. */
  dir?: string;
}

/**
 * Saves checkpoints of the whole run ({@link TrainerContext.saveCheckpoint}) every `interval` epochs or
 * iterations and at the end, keeps the newest `maxKeep`, keeps `epoch_latest` current (a hard
 * link, not a second write) and keeps the best by a metric. Its own state (the kept files, the
 * best value) is in every checkpoint, so a resumed run prunes and compares as the original would.
 * Priority `VERY_LOW` (last: it saves what every other hook did); runs on every rank.
 */
export class CheckpointHook extends HookBase {
  /** The options, defaults filled in. */
  readonly options: Readonly<
    Required<
      Pick<CheckpointHookOptions, 'interval' | 'byEpoch' | 'maxKeep' | 'saveLatest' | 'saveLast'>
    > &
      Pick<CheckpointHookOptions, 'saveBest' | 'bestFile' | 'rule' | 'dir'>
  >;
  #kept: string[] = [];
  #best: { value: number; iter: number } | undefined;
  #newBest = false;

  constructor(options: CheckpointHookOptions = {}) {
    super(options, 'VERY_LOW');
    const {
      interval = 1,
      byEpoch = true,
      maxKeep = 0,
      saveLatest = true,
      saveLast = true,
    } = options;
    this.options = { ...options, interval, byEpoch, maxKeep, saveLatest, saveLast };
  }

  override afterEval(trainer: TrainerContext, metrics: Metrics): void {
    const { saveBest, rule = saveBest?.includes('loss') ? 'less' : 'greater' } = this.options;
    const value = saveBest === undefined ? undefined : metrics[saveBest];
    if (value === undefined || !trainer.running || !Number.isFinite(value)) return;
    const best = this.#best?.value;
    if (best === undefined || (rule === 'greater' ? value > best : value < best)) {
      this.#best = { value, iter: trainer.completedIters };
      this.#newBest = true;
    }
  }

  override async afterStep(trainer: TrainerContext): Promise<void> {
    if (trainer.atEpochEnd) return; // saved in afterEpoch, after the epoch's other hooks
    const { byEpoch, interval: every, saveLast } = this.options;
    const periodic = !byEpoch && isPeriodEnd(trainer.iter + 1, every);
    await this.#save(trainer, periodic, saveLast && (trainer.isLastIter || trainer.stopRequested));
  }

  override async afterEpoch(trainer: TrainerContext): Promise<void> {
    const { byEpoch, interval: every, saveLast } = this.options;
    const periodic = isPeriodEnd(byEpoch ? trainer.epoch + 1 : trainer.iter + 1, every);
    await this.#save(trainer, periodic, saveLast && (trainer.isLastIter || trainer.stopRequested));
  }

  /**
   * Writes the period's checkpoint, then the names that point at it, in the order that keeps
   * them consistent after a kill at any point: the best file first, then `epoch_latest` (so the
   * best is never older than what the latest checkpoint's state says is best: a run resumed from
   * the latest re-does at most the epoch whose best link was written), then the pruning.
   */
  async #save(trainer: TrainerContext, periodic: boolean, last: boolean): Promise<void> {
    const dir = resolve(trainer.workDir, this.options.dir ?? '.');
    let file: string | undefined;
    let stale: string[] = [];
    if (periodic || last) {
      const name =
        trainer.atEpochEnd && this.options.byEpoch
          ? checkpointName('epoch', trainer.epoch + 1)
          : checkpointName('iter', trainer.iter + 1);
      if (!this.#kept.includes(name)) this.#kept.push(name);
      stale =
        this.options.maxKeep > 0
          ? this.#kept.splice(0, Math.max(0, this.#kept.length - this.options.maxKeep))
          : [];
      file = await trainer.saveCheckpoint(join(dir, name));
      if (trainer.rank === 0) trainer.logger.info(`Saving ${file}`);
    }
    if (this.#newBest) {
      this.#newBest = false;
      const best = join(dir, this.options.bestFile ?? bestCheckpointName(this.options.saveBest!));
      if (file === undefined) await trainer.saveCheckpoint(best);
      else if (trainer.rank === 0) {
        await linkCheckpoint(file, best);
        faultPoint('checkpoint:between-best-and-latest');
      }
      trainer.logger.info(`New best ${this.options.saveBest} = ${this.#best!.value}: ${best}`);
    }
    if (file !== undefined && trainer.rank === 0) {
      if (this.options.saveLatest) await linkCheckpoint(file, join(dir, LATEST_CHECKPOINT));
      await pruneCheckpoints(dir, stale);
    }
  }

  override afterRun(trainer: TrainerContext): void {
    const best = this.#best;
    if (best === undefined || trainer.rank !== 0) return;
    const epochs = best.iter / trainer.itersPerEpoch;
    const at = Number.isInteger(epochs) ? `epoch ${epochs}` : `iteration ${best.iter}`;
    trainer.logger.info(`Best ${this.options.saveBest} = ${best.value} after ${at}.`);
  }

  stateDict(): JsonValue {
    return { kept: [...this.#kept], best: this.#best ?? null };
  }

  loadStateDict(state: JsonValue): void {
    const { kept, best } = state as {
      kept?: string[];
      best?: { value: number; iter: number } | null;
    };
    this.#kept = Array.isArray(kept) ? [...kept] : [];
    this.#best = best ?? undefined;
  }
}

registerOnce(HOOKS, 'CheckpointHook', CheckpointHook, {
  schema: z.strictObject({
    ...hookOptionsShape,
    interval,
    byEpoch: z.boolean().optional(),
    maxKeep: z.number().int().min(0).optional(),
    saveLatest: z.boolean().optional(),
    saveLast: z.boolean().optional(),
    saveBest: z.string().optional(),
    bestFile: z.string().optional(),
    rule: z.enum(['greater', 'less']).optional(),
    dir: z.string().optional(),
  }),
});
