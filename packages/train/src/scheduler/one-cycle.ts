import { SCHEDULERS } from '@gorilla-ts/registry';
import { z } from 'zod';
import { SchedulerError } from '../errors.js';
import { registerOnce } from '../nn/register.js';
import {
  baseSchema,
  LrScheduler,
  type SchedulerBaseOptions,
  type SchedulerState,
} from './scheduler.js';

/** Options of {@link OneCycleLR}. */
export interface OneCycleLROptions extends SchedulerBaseOptions {
  /** The peak rate (one number, or one per group). */
  maxLr: number | readonly number[];
  /** Steps of the whole cycle; or give `epochs` and `stepsPerEpoch`. */
  totalSteps?: number;
  /** With `stepsPerEpoch`: `totalSteps = epochs * stepsPerEpoch`. */
  epochs?: number;
  /** With `epochs`. */
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing the rate. Defaults to `0.3`. */
  pctStart?: number;
  /** `cos` or `linear` annealing. Defaults to `cos`. */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle the momentum (SGD/RMSprop `momentum`, Adam `betas[0]`) inversely to the rate. Defaults to `true`. */
  cycleMomentum?: boolean;
  /** The lowest momentum. Defaults to `0.85`. */
  baseMomentum?: number;
  /** The highest momentum. Defaults to `0.95`. */
  maxMomentum?: number;
  /** `initialLr = maxLr / divFactor`. Defaults to `25`. */
  divFactor?: number;
  /** `minLr = initialLr / finalDivFactor`. Defaults to `1e4`. */
  finalDivFactor?: number;
  /** Three phases (up, down to `initialLr`, down to `minLr`) instead of two. Defaults to `false`. */
  threePhase?: boolean;
}

interface Phase {
  endStep: number;
  startLr: 'initial' | 'max' | 'min';
  endLr: 'initial' | 'max' | 'min';
  startMomentum: 'max' | 'base';
  endMomentum: 'max' | 'base';
}

/**
 * PyTorch's OneCycleLR (the 1cycle policy): the rate rises from `maxLr / divFactor` to `maxLr`
 * over `pctStart` of the cycle, then anneals to `initialLr / finalDivFactor`; the momentum moves
 * the opposite way. It ignores the optimizer's own rate. Stepped per iteration usually
 * (`by: 'iteration'`). Beyond `totalSteps`, the step is clamped (PyTorch raises).
 */
export class OneCycleLR extends LrScheduler {
  readonly type = 'OneCycleLR';
  /** Steps of the whole cycle. */
  readonly totalSteps: number;

  constructor(options: OneCycleLROptions) {
    const {
      pctStart = 0.3,
      annealStrategy = 'cos',
      cycleMomentum = true,
      baseMomentum = 0.85,
      maxMomentum = 0.95,
      divFactor = 25,
      finalDivFactor = 1e4,
      threePhase = false,
    } = options;
    const totalSteps = resolveTotalSteps(options);
    const groups = options.optimizer.paramGroups;
    const maxLrs =
      typeof options.maxLr === 'number'
        ? groups.map(() => options.maxLr as number)
        : [...options.maxLr];
    if (maxLrs.length !== groups.length) {
      throw new SchedulerError(
        'SCHEDULER_INVALID',
        `OneCycleLR: maxLr has ${maxLrs.length} values for ${groups.length} parameter groups.`,
      );
    }
    const initialLrs = maxLrs.map((lr) => lr / divFactor);
    const minLrs = initialLrs.map((lr) => lr / finalDivFactor);
    groups.forEach((group, index) => {
      group.initialLr = initialLrs[index]!;
    });
    const phases: Phase[] = threePhase
      ? [
          {
            endStep: pctStart * totalSteps - 1,
            startLr: 'initial',
            endLr: 'max',
            startMomentum: 'max',
            endMomentum: 'base',
          },
          {
            endStep: 2 * pctStart * totalSteps - 2,
            startLr: 'max',
            endLr: 'initial',
            startMomentum: 'base',
            endMomentum: 'max',
          },
          {
            endStep: totalSteps - 1,
            startLr: 'initial',
            endLr: 'min',
            startMomentum: 'max',
            endMomentum: 'max',
          },
        ]
      : [
          {
            endStep: pctStart * totalSteps - 1,
            startLr: 'initial',
            endLr: 'max',
            startMomentum: 'max',
            endMomentum: 'base',
          },
          {
            endStep: totalSteps - 1,
            startLr: 'max',
            endLr: 'min',
            startMomentum: 'base',
            endMomentum: 'max',
          },
        ];
    const anneal =
      annealStrategy === 'cos'
        ? (start: number, end: number, pct: number) =>
            end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1)
        : (start: number, end: number, pct: number) => (end - start) * pct + start;
    const locate = (step: number): [Phase, number] => {
      const t = Math.min(step, totalSteps);
      let startStep = 0;
      for (const [index, phase] of phases.entries()) {
        if (t <= phase.endStep || index === phases.length - 1) {
          return [phase, (t - startStep) / (phase.endStep - startStep)];
        }
        startStep = phase.endStep;
      }
      throw new Error('unreachable');
    };
    const lrs = { initial: initialLrs, max: maxLrs, min: minLrs };
    const momenta = { max: maxMomentum, base: baseMomentum };
    if (cycleMomentum && !groups.every((group) => 'momentum' in group || 'betas' in group)) {
      throw new SchedulerError(
        'SCHEDULER_INVALID',
        'OneCycleLR: the optimizer has no momentum or betas to cycle; pass cycleMomentum: false.',
      );
    }
    super(options, (step, _base, group) => {
      const [phase, pct] = locate(step);
      return anneal(lrs[phase.startLr][group]!, lrs[phase.endLr][group]!, pct);
    });
    this.totalSteps = totalSteps;
    this.momentumAt = cycleMomentum
      ? (step) => {
          const [phase, pct] = locate(step);
          return anneal(momenta[phase.startMomentum], momenta[phase.endMomentum], pct);
        }
      : undefined;
    this.applyAt(0);
  }

  // A plain field, not #private: the base constructor calls applyAt() before it exists.
  private readonly momentumAt: ((step: number) => number) | undefined;

  protected override applyAt(epoch: number): void {
    super.applyAt(epoch);
    this.setMomentum(epoch);
  }

  override loadStateDict(state: SchedulerState): void {
    super.loadStateDict(state);
    this.setMomentum(this.lastEpoch);
  }

  // Not #private: applyAt() runs in the base constructor, before #private members exist.
  private setMomentum(epoch: number): void {
    // The base constructor applies step 0 before momentumAt is set; the constructor applies it again.
    if (this.momentumAt === undefined) return;
    const momentum = this.momentumAt(epoch);
    for (const group of this.optimizer.paramGroups as unknown as Array<Record<string, unknown>>) {
      if (Array.isArray(group.betas)) group.betas = [momentum, group.betas[1]];
      else group.momentum = momentum;
    }
  }
}

function resolveTotalSteps(options: OneCycleLROptions): number {
  const { totalSteps, epochs, stepsPerEpoch } = options;
  const total =
    totalSteps ??
    (epochs !== undefined && stepsPerEpoch !== undefined ? epochs * stepsPerEpoch : undefined);
  if (total === undefined || !Number.isInteger(total) || total <= 0) {
    throw new SchedulerError(
      'SCHEDULER_INVALID',
      'OneCycleLR: give totalSteps, or epochs and stepsPerEpoch (positive integers).',
    );
  }
  return total;
}

registerOnce(SCHEDULERS, 'OneCycleLR', OneCycleLR, {
  schema: z.strictObject({
    ...baseSchema,
    maxLr: z.union([z.number().positive(), z.array(z.number().positive())]),
    totalSteps: z.number().int().positive().optional(),
    epochs: z.number().int().positive().optional(),
    stepsPerEpoch: z.number().int().positive().optional(),
    pctStart: z.number().gt(0).lt(1).optional(),
    annealStrategy: z.enum(['cos', 'linear']).optional(),
    cycleMomentum: z.boolean().optional(),
    baseMomentum: z.number().nonnegative().optional(),
    maxMomentum: z.number().nonnegative().optional(),
    divFactor: z.number().positive().optional(),
    finalDivFactor: z.number().positive().optional(),
    threePhase: z.boolean().optional(),
  }),
});
