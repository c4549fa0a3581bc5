import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { collectLogger, getLogger, type Logger, type TextStream } from '../src/index.js';

/** A console stand-in that records what is written. */
function memoryStream(isTTY = false): TextStream & { lines: () => string[] } {
  let text = '';
  return {
    isTTY,
    write(chunk: string) {
      text += chunk;
      return true;
    },
    lines: () => text.split('\n').filter((line) => line !== ''),
  };
}

const LINE = /^\[\d\d\/\d\d \d\d:\d\d:\d\d (\S+)\] (DEBUG|INFO|WARNING|ERROR): (.*)$/;

let dir: string;
const opened: Logger[] = [];
const open = (logger: Logger) => {
  opened.push(logger);
  return logger;
};
let savedRank: string | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gorilla-logger-'));
  savedRank = process.env.RANK;
});

afterEach(() => {
  for (const logger of opened.splice(0)) logger.close();
  if (savedRank === undefined) delete process.env.RANK;
  else process.env.RANK = savedRank;
  rmSync(dir, { recursive: true, force: true });
});

describe('getLogger (gorilla tests/test_config/test_logging.py)', () => {
  test('rank 0: one console handler, plus one file handler with a log file', () => {
    const stream = memoryStream();
    const logger = open(getLogger({ name: 'rank0', stream, rank: 0 }));
    expect(logger.handlers.map((handler) => handler.kind)).toEqual(['console']);
    expect(logger.level).toBe('info');

    const logFile = join(dir, 'run.log');
    const again = getLogger({ name: 'rank0', logFile, level: 'debug' });
    expect(again).toBe(logger);
    expect(logger.handlers.map((handler) => handler.kind)).toEqual(['console', 'file']);
    expect(logger.level).toBe('debug');
    expect(logger.logFile).toBe(logFile);
    expect(logger.metricsFile).toBe(join(dir, 'run.jsonl'));
  });

  test('repeated calls never duplicate handlers or lines', () => {
    const stream = memoryStream();
    const logFile = join(dir, 'run.log');
    for (let call = 0; call < 5; call += 1) {
      open(getLogger({ name: 'repeat', stream, logFile, rank: 0 }));
      getLogger({ name: 'repeat', level: 'info' });
      getLogger({ name: 'repeat', logFile: `${dir}/./run.log` }); // the same file, spelled differently
    }
    const logger = getLogger({ name: 'repeat' });
    expect(logger.handlers).toHaveLength(2);
    logger.info('hello %s', 'world');
    expect(stream.lines()).toHaveLength(1);
    const fileLines = readFileSync(logFile, 'utf8').trimEnd().split('\n');
    expect(fileLines).toHaveLength(1);
    expect(fileLines[0]).toMatch(LINE);
    expect(LINE.exec(fileLines[0]!)?.slice(1)).toEqual(['repeat', 'INFO', 'hello world']);
  });

  test('levels filter; a new file replaces the previous one', () => {
    const stream = memoryStream();
    const first = join(dir, 'a.log');
    const second = join(dir, 'b.log');
    const logger = open(getLogger({ name: 'levels', stream, logFile: first, rank: 0 }));
    logger.debug('hidden');
    logger.info('one');
    logger.level = 'debug';
    logger.debug('shown');
    getLogger({ name: 'levels', logFile: second });
    logger.warn('two');
    logger.error(new Error('boom'));
    expect(readFileSync(first, 'utf8')).not.toContain('two');
    expect(readFileSync(first, 'utf8')).toContain('DEBUG: shown');
    const lines = readFileSync(second, 'utf8');
    expect(lines).toContain('WARNING: two');
    expect(lines).toContain('ERROR: Error: boom');
    expect(logger.handlers).toHaveLength(2);
    expect(
      stream
        .lines()
        .filter((line) => LINE.test(line))
        .map((line) => LINE.exec(line)![3]),
    ).toEqual(['one', 'shown', 'two', 'Error: boom']);
    expect(() => {
      logger.level = 'loud' as never;
    }).toThrow(/Unknown log level 'loud'/);
  });

  test('rank 1 (option) never creates or writes a file and shows errors only', () => {
    const stream = memoryStream();
    const logFile = join(dir, 'sub', 'rank1.log');
    const logger = open(getLogger({ name: 'rank1', stream, logFile, rank: 1, level: 'debug' }));
    expect(logger.handlers.map((handler) => handler.kind)).toEqual(['console']);
    expect(logger.level).toBe('error');
    logger.info('quiet');
    logger.error('loud');
    logger.metrics({ loss: 1 });
    expect(existsSync(join(dir, 'sub'))).toBe(false);
    expect(stream.lines()).toHaveLength(1);
  });

  test('rank 1 (RANK environment variable) never writes a file', () => {
    process.env.RANK = '1';
    const { logDir, logFile, logger } = collectLogger({
      root: dir,
      prefix: 'envrank',
      stream: memoryStream(),
      name: 'envrank',
    });
    open(logger);
    expect(logger.rank).toBe(1);
    logger.error('nope');
    expect(existsSync(logDir)).toBe(false);
    expect(existsSync(logFile)).toBe(false);
  });

  test('colour on a TTY console only; the file stays plain text', () => {
    const tty = memoryStream(true);
    const logFile = join(dir, 'color.log');
    const logger = open(getLogger({ name: 'color', stream: tty, logFile, rank: 0 }));
    logger.warn('careful');
    expect(tty.lines()[0]).toContain('\u001b[');
    expect(readFileSync(logFile, 'utf8')).not.toContain('\u001b');
    expect(readFileSync(logFile, 'utf8')).toMatch(/WARNING: careful\n$/);

    const plain = memoryStream(false);
    const other = open(getLogger({ name: 'nocolor', stream: plain, rank: 0 }));
    other.warn('careful');
    expect(plain.lines()[0]).not.toContain('\u001b');
  });

  test('metrics go to a JSON-lines file beside the log', () => {
    const logFile = join(dir, 'm.log');
    const logger = open(getLogger({ name: 'metrics', stream: memoryStream(), logFile, rank: 0 }));
    logger.metrics({ epoch: 1, loss: 0.5 });
    logger.metrics({ epoch: 2, loss: 0.25, tag: 'x' });
    const records = readFileSync(join(dir, 'm.jsonl'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(records.map(({ time, ...rest }) => rest)).toEqual([
      { epoch: 1, loss: 0.5 },
      { epoch: 2, loss: 0.25, tag: 'x' },
    ]);
    expect(Number.isNaN(Date.parse(records[0].time))).toBe(false);
  });

  test('close forgets the logger: the next getLogger builds a fresh one', () => {
    const logger = getLogger({ name: 'closing', stream: memoryStream(), rank: 0 });
    logger.close();
    const fresh = open(getLogger({ name: 'closing', stream: memoryStream(), rank: 0 }));
    expect(fresh).not.toBe(logger);
  });
});

describe('collectLogger', () => {
  const now = () => new Date(2026, 10, 27, 5, 52, 3);

  test('absolute root: log/<prefix>/<YYYYMMDD_HHMMSS>.log at that absolute path', () => {
    const stream = memoryStream();
    const result = collectLogger({
      root: join(dir, 'log'),
      prefix: 'default',
      now,
      stream,
      name: 'abs',
    });
    open(result.logger);
    expect(result.logDir).toBe(join(dir, 'log', 'default'));
    expect(result.timestamp).toBe('20261127_055203');
    expect(result.logFile).toBe(join(dir, 'log', 'default', '20261127_055203.log'));
    result.logger.info('hello');
    result.logger.metrics({ step: 1 });
    expect(readdirSync(result.logDir).sort()).toEqual([
      '20261127_055203.jsonl',
      '20261127_055203.log',
    ]);
    expect(readFileSync(result.logFile, 'utf8')).toMatch(
      /^\[\d\d\/\d\d \d\d:\d\d:\d\d abs\] INFO: hello\n$/,
    );
  });

  test('relative root, prefix and suffix; logName', () => {
    const root = relative(process.cwd(), join(dir, 'rel'));
    const result = collectLogger({
      root,
      prefix: 'new',
      suffix: 'test',
      logName: 'run',
      now,
      stream: memoryStream(),
      name: 'rel',
    });
    open(result.logger);
    expect(result.logDir).toBe(join(root, 'new_test'));
    expect(result.logFile).toBe(join(root, 'new_test', 'run.log'));
    expect(existsSync(join(dir, 'rel', 'new_test', 'run.log'))).toBe(true);
  });

  test('twice with the same name: one console handler, the file follows the latest call', () => {
    const stream = memoryStream();
    const first = collectLogger({ root: dir, prefix: 'a', now, stream, name: 'twice' });
    const second = collectLogger({ root: dir, prefix: 'b', now, stream, name: 'twice' });
    open(second.logger);
    expect(second.logger).toBe(first.logger);
    expect(second.logger.handlers).toHaveLength(2);
    second.logger.info('only in b');
    expect(readFileSync(first.logFile, 'utf8')).toBe('');
    expect(readFileSync(second.logFile, 'utf8')).toContain('only in b');
    expect(stream.lines()).toHaveLength(1);
  });
});
