/**
 * TensorFlow's C++ start-up notes (issue 16): absl prints them to stderr while libtensorflow
 * loads, past TF_CPP_MIN_LOG_LEVEL. initBackend filters them; what is not chatter still reaches
 * stderr. Real processes with a piped stderr, as under the launcher, a test runner or `| tee`.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { filterNativeChatter, minLogLevel } from '../src/backend/native-chatter.js';
import { installed } from './train1-helpers.js';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const dist = (file: string) => JSON.stringify(new URL(`../dist/${file}`, import.meta.url).href);
const scratch = mkdtempSync(join(tmpdir(), 'gorilla-chatter-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * Runs an ES module in a fresh Node with an empty TMPDIR of its own and stderr into a pipe
 * (`2>&1 >stdout | cat`, as in a terminal pipeline, under the launcher or turbo). Node's own
 * `stdio: 'pipe'` would give a socket, which cannot be reopened, so stays unfiltered.
 */
function run(script: string, env: NodeJS.ProcessEnv = {}) {
  const tmp = mkdtempSync(join(scratch, 'tmp-'));
  const out = join(scratch, `stdout-${basename(tmp)}`);
  const base: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp };
  delete base.TF_CPP_MIN_LOG_LEVEL;
  const result = spawnSync(
    'bash',
    ['-c', 'set -o pipefail; "$NODE" --input-type=module -e "$SCRIPT" 2>&1 >"$OUT" | cat'],
    {
      cwd: packageRoot,
      env: { ...base, ...env, NODE: process.execPath, SCRIPT: script, OUT: out },
      encoding: 'utf8',
    },
  );
  return {
    status: result.status,
    stdout: readFileSync(out, 'utf8'),
    stderr: result.stdout,
    leftInTmp: readdirSync(tmp),
  };
}

const ONEDNN = /oneDNN custom operations are on/;
const ABSL_NOTICE = /All log messages before absl::InitializeLog\(\) is called/;

describe('TensorFlow start-up notes', () => {
  const noNative = !installed('@tensorflow/tfjs-node');
  const skipNote = noNative ? ' (skipped: @tensorflow/tfjs-node is not installed)' : '';
  const script = `
    import { initBackend } from ${dist('index.js')};
    import * as tf from '@tensorflow/tfjs-core';
    const info = await initBackend({ backend: 'tensorflow', logger: (line) => console.log(line) });
    process.stderr.write('stderr still works\\n');
    console.log('sum', tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0]);`;

  it.skipIf(noNative)(
    `are not printed by default; stderr keeps working and nothing is left in TMPDIR${skipNote}`,
    () => {
      const { status, stdout, stderr, leftInTmp } = run(script);
      expect(status, stderr).toBe(0);
      expect(stdout).toMatch(/^backend: tensorflow \(@tensorflow\/tfjs-node /m);
      expect(stdout).toContain('sum 3');
      expect(stderr).not.toMatch(ONEDNN);
      expect(stderr).not.toMatch(ABSL_NOTICE);
      expect(stderr).toBe('stderr still works\n');
      expect(leftInTmp).toEqual([]);
    },
    60_000,
  );

  it.skipIf(noNative)(
    `are printed with TF_CPP_MIN_LOG_LEVEL=0 (the demo's --verbose): this libtensorflow does print them${skipNote}`,
    () => {
      const { status, stderr } = run(script, { TF_CPP_MIN_LOG_LEVEL: '0' });
      expect(status, stderr).toBe(0);
      expect(stderr).toMatch(ONEDNN);
      expect(stderr).toMatch(/stderr still works\n$/);
    },
    60_000,
  );

  it('what a native load writes to descriptor 2 that is not chatter reaches stderr, in order', () => {
    const { status, stdout, stderr, leftInTmp } = run(`
      import { writeSync } from 'node:fs';
      import { withNativeChatterFiltered } from ${dist('backend/native-chatter.js')};
      const value = withNativeChatterFiltered(() => {
        writeSync(2, 'WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n');
        writeSync(2, 'I0000 00:00:1796480025.450929   12572 port.cc:153] oneDNN custom operations are on.\\n');
        writeSync(2, 'W0000 00:00:1796480025.450930   12572 loader.cc:7] a warning\\n');
        writeSync(2, 'E0000 00:00:1796480025.450931   12572 loader.cc:9] an error\\n  with detail\\n');
        writeSync(2, 'a line of its own\\n');
        return 42;
      }, 2);
      console.log('returned', value);`);
    expect(status, stderr).toBe(0);
    expect(stdout).toBe('returned 42\n');
    expect(stderr).toBe(
      'E0000 00:00:1796480025.450931   12572 loader.cc:9] an error\n  with detail\na line of its own\n',
    );
    expect(leftInTmp).toEqual([]);
  });

  it.skipIf(noNative)(
    `are not written into a log file opened for appending (2>>log) either${skipNote}`,
    () => {
      const log = join(scratch, 'append.log');
      const fd = openSync(log, 'a');
      try {
        const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
          cwd: packageRoot,
          env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
          stdio: ['ignore', 'ignore', fd],
        });
        expect(result.status).toBe(0);
      } finally {
        closeSync(fd);
      }
      expect(readFileSync(log, 'utf8')).toBe('stderr still works\n');
    },
    60_000,
  );

  it('a load that throws still gives stderr back, with what it wrote', () => {
    const { status, stderr } = run(`
      import { writeSync } from 'node:fs';
      import { withNativeChatterFiltered } from ${dist('backend/native-chatter.js')};
      try {
        withNativeChatterFiltered(() => { writeSync(2, 'dlopen: libtensorflow.so.2: cannot open\\n'); throw new Error('load failed'); }, 2);
      } catch (error) {
        process.stderr.write('caught: ' + error.message + '\\n');
      }`);
    expect(status, stderr).toBe(0);
    expect(stderr).toBe('dlopen: libtensorflow.so.2: cannot open\ncaught: load failed\n');
  });
});

describe('filterNativeChatter', () => {
  const text = [
    'WARNING: All log messages before absl::InitializeLog() is called are written to STDERR',
    'I0000 00:00:1796480094.073313   13031 cpu_feature_guard.cc:227] This TensorFlow binary is optimized.',
    'To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow.',
    'W0000 00:00:1796480094.073313   13031 x.cc:1] careful',
    'E1205 14:08:25.123456   13031 y.cc:2] broken',
    '',
  ].join('\n');

  it('keeps every line at level 0, drops by severity above it', () => {
    expect(filterNativeChatter(text, 0)).toBe(text);
    expect(filterNativeChatter(text, 1)).toBe(
      'W0000 00:00:1796480094.073313   13031 x.cc:1] careful\nE1205 14:08:25.123456   13031 y.cc:2] broken\n',
    );
    expect(filterNativeChatter(text, 2)).toBe('E1205 14:08:25.123456   13031 y.cc:2] broken\n');
    expect(filterNativeChatter(text, 3)).toBe('');
  });

  it('reads TF_CPP_MIN_LOG_LEVEL as TensorFlow does', () => {
    expect(minLogLevel({})).toBe(0);
    expect(minLogLevel({ TF_CPP_MIN_LOG_LEVEL: '2' })).toBe(2);
    expect(minLogLevel({ TF_CPP_MIN_LOG_LEVEL: '9' })).toBe(3);
    expect(minLogLevel({ TF_CPP_MIN_LOG_LEVEL: 'x' })).toBe(0);
  });
});
