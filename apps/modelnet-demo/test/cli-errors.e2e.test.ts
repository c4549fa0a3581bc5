/**
 * End-to-end: the CLI's user errors (the real `dist/cli.js` in child processes): every config
 * problem in one message before anything is created or started, usage errors with suggestions,
 * exit code 2 for all of them; the config file's numGpus reaching the launcher; TensorFlow's C++
 * notes only with --verbose.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEventFile } from '@gorilla-ts/train';
import { afterAll, describe, expect, it } from 'vitest';
import { APP_DIR } from '../src/paths.js';

const CLI = join(APP_DIR, 'dist', 'cli.js');
// A process that loads tfjs-node takes ~5 s alone and ~20 s on a busy 2-core machine.
const TIMEOUT = 90_000;

const TINY = `_base_: ${join(APP_DIR, 'configs', 'default.yaml')}
dataset:
  numClasses: 4
  samplesPerClass: 8
  numPoints: 64
model:
  num_classes: 4
  feat_size: 32
  feat_layer_dims: [16]
  classifier_layer_dims: [16]
dataloader:
  batch_size: 4
epochs: 1
`;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function workdir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'modelnet-cli-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** This process's environment without a TF_CPP_MIN_LOG_LEVEL of its own (the CLI picks it). */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', GORILLA_DEBUG: '' };
  delete env.TF_CPP_MIN_LOG_LEVEL;
  return env;
}

function cli(
  cwd: string,
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((done) => child.on('close', (code) => done({ code, stdout, stderr })));
}

describe('config errors: all at once, with the path, before anything starts', () => {
  it(
    'three typos in the file and a bad override: one error, nothing created',
    async () => {
      const dir = workdir({
        'tiny.yaml': TINY,
        'x.yaml': `_base_: ./tiny.yaml\nmodel:\n  num_clases: 4\noptimizer:\n  weight_decy: 0.0001\nlr_scheduler:\n  type: StepRL\n`,
      });
      const run = await cli(dir, 'train', '--config', 'x.yaml', 'epochs=two');
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe(
        'error: Config validation failed with 4 issues; fix these keys in the config file or override them:\n' +
          '  command line: epochs=two: expected a number\n' +
          '  x.yaml: model.num_clases: unknown key, did you mean num_classes?\n' +
          '  x.yaml: optimizer.weight_decy: unknown key, did you mean weight_decay?\n' +
          "  x.yaml: lr_scheduler.type: no 'StepRL' in the 'schedulers' registry, did you mean StepLR? " +
          '(registered: StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, PolyLR, LinearLR, ConstantLR, ' +
          'OneCycleLR, ReduceLROnPlateau, SequentialLR, WarmupMultiStepLR, WarmupCosineLR, WarmupPolyLR)\n',
      );
      // Nothing was created (no log folder, no backup) and no backend was started.
      expect(readdirSync(dir).sort()).toEqual(['tiny.yaml', 'x.yaml']);
    },
    TIMEOUT,
  );

  it(
    'a key in both spellings is refused; an override in the other spelling replaces the value',
    async () => {
      const dir = workdir({
        'tiny.yaml': TINY,
        'y.yaml': '_base_: ./tiny.yaml\noptimizer:\n  weight_decay: 0.001\n  weightDecay: 0.001\n',
      });
      const run = await cli(dir, 'train', '--config', 'y.yaml', 'epochs=0');
      expect(run.code).toBe(2);
      expect(run.stderr).toBe(
        'error: Config validation failed with 2 issues; fix these keys in the config file or override them:\n' +
          '  command line: epochs=0: expected number > 0, received number 0\n' +
          '  y.yaml: optimizer.weight_decay: given as both weightDecay and weight_decay: they set the same option, give one\n',
      );
      expect(existsSync(join(dir, 'log'))).toBe(false);
    },
    TIMEOUT,
  );
});

describe('usage errors exit 2 with a hint', () => {
  it.each([
    [['trian'], "error: unknown command 'trian'\n(Did you mean train?)\n"],
    [
      ['train', '--epochs', '3'],
      "error: unknown option '--epochs': 'epochs' is a config key: use epochs=3\n",
    ],
    [
      ['train', '--num-gpus', '0'],
      "error: option '--num-gpus <n>' argument '0' is invalid. Expected an integer >= 1. (see 'train --help')\n",
    ],
    [
      ['train', '--num-gpus', 'abc'],
      "error: option '--num-gpus <n>' argument 'abc' is invalid. Expected an integer >= 1. (see 'train --help')\n",
    ],
    [['eval', '--resume'], "error: unknown option '--resume' (see 'test --help')\n"],
    [
      ['download', '--size', 'big'],
      "error: option '--size <bytes>' argument 'big' is invalid. Expected a positive integer (bytes). (see 'download --help')\n",
    ],
  ])(
    '%j',
    async (args, stderr) => {
      const run = await cli(workdir(), ...args);
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 2, stderr });
    },
    TIMEOUT,
  );

  it(
    '`test --help` (and its alias `eval`) lists only what applies to evaluation',
    async () => {
      const [test, evalRun] = await Promise.all([
        cli(workdir(), 'test', '--help'),
        cli(workdir(), 'eval', '--help'),
      ]);
      expect(test.code).toBe(0);
      expect(evalRun.stdout).toBe(test.stdout);
      expect(test.stdout).toContain('--checkpoint <path>');
      expect(test.stdout).not.toContain('--resume');
      expect(test.stdout).not.toContain('--eval-only');
    },
    TIMEOUT,
  );
});

describe('the launcher takes numGpus from the config file', () => {
  it(
    'numGpus: 2 in the file starts 2 workers; --num-gpus 1 overrides it',
    async () => {
      const dir = workdir({ 'two.yaml': `${TINY}numGpus: 2\n` });
      const [two, one] = await Promise.all([
        cli(dir, 'train', '--config', 'two.yaml', 'logRoot=two'),
        cli(dir, 'train', '--config', 'two.yaml', '--num-gpus', '1', 'logRoot=one'),
      ]);
      expect(two.code, two.stderr).toBe(0);
      expect(two.stderr).toContain('iterations per epoch on each of 2 processes');
      expect(one.code, one.stderr).toBe(0);
      expect(one.stderr).not.toContain('processes');
      // TensorFlow's C++ start-up notes (INFO level) are not printed by default. The load-time
      // ones (oneDNN, absl) are filtered where stderr is a terminal, a pipe or an append-mode
      // file (packages/train/test/native-chatter.test.ts); Node's spawn gives a socket, where
      // only TF_CPP_MIN_LOG_LEVEL's share is hidden.
      for (const text of [two.stderr, one.stderr]) {
        expect(text).not.toMatch(/This TensorFlow binary is optimized|cpu_feature_guard/);
      }
    },
    TIMEOUT * 2,
  );

  it(
    '--verbose shows TensorFlow start-up notes',
    async () => {
      const dir = workdir({ 'tiny.yaml': TINY });
      const run = await cli(
        dir,
        'train',
        '--config',
        'tiny.yaml',
        '--verbose',
        '--backend',
        'tensorflow',
      );
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/This TensorFlow binary is optimized/);
    },
    TIMEOUT,
  );
});

describe('a finished run says where everything is; eval writes the pictures and the report', () => {
  it(
    'start and end lines, TensorBoard confusion images, eval outputs',
    async () => {
      const dir = workdir({ 'tiny.yaml': TINY });
      const run = await cli(dir, 'train', '--config', 'tiny.yaml', 'epochs=2');
      expect(run.code, run.stderr).toBe(0);
      const lines = run.stderr.split('\n').map((line) => line.replace(/^\[[^\]]+\] INFO: /, ''));
      const best = join(dir, 'log', 'tiny', 'epoch_best.safetensors');
      const where = [
        'run folder:  log/tiny',
        expect.stringMatching(/^log file: {4}log\/tiny\/\d{8}_\d{6}\.log$/),
        'tensorboard: tensorboard --logdir log/tiny',
      ];
      const start = lines.indexOf('run folder:  log/tiny');
      expect(lines.slice(start, start + 6)).toEqual([
        ...where,
        'best:        log/tiny/epoch_best.safetensors (not yet)',
        'latest:      log/tiny/epoch_latest.safetensors (not yet)',
        `evaluate:    pnpm --filter modelnet-demo eval --checkpoint ${best}`,
      ]);
      const end = lines.lastIndexOf('run folder:  log/tiny');
      expect(end).toBeGreaterThan(start);
      expect(lines.slice(end, end + 6)).toEqual([
        ...where,
        'best:        log/tiny/epoch_best.safetensors',
        'latest:      log/tiny/epoch_latest.safetensors',
        `evaluate:    pnpm --filter modelnet-demo eval --checkpoint ${best}`,
      ]);
      // The labelled confusion matrix went to TensorBoard at each evaluation, at the iteration
      // count like the Trainer's val/ scalars (2 epochs of 8 iterations).
      const events = readdirSync(join(dir, 'log', 'tiny'))
        .filter((name) => name.startsWith('events.out.tfevents.'))
        .flatMap((name) => readEventFile(join(dir, 'log', 'tiny', name)));
      const images = events.filter((event) =>
        event.values.some((value) => value.tag === 'val/confusion_matrix'),
      );
      expect(images.map((event) => event.step)).toEqual([8, 16]);
      const evalRun = await cli(dir, 'eval', '--checkpoint', best);
      expect(evalRun.code, evalRun.stderr).toBe(0);
      for (const name of ['confusion.svg', 'confusion.png', 'confusion.csv', 'report.html']) {
        const file = join(dir, 'log', 'tiny', `epoch_best_${name}`);
        expect(evalRun.stdout).toContain(file);
        expect(existsSync(file)).toBe(true);
      }
    },
    TIMEOUT * 2,
  );
});
