import { Writable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { EpochProgress } from '../src/index.js';

/** A stream standing in for a log file or a CI console (not a TTY). */
function capture(isTTY = false) {
  const chunks: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk, _encoding, callback) {
        chunks.push(String(chunk));
        callback();
      },
    }),
    { isTTY, columns: 120 },
  );
  return { stream, text: () => chunks.join('') };
}

function clock() {
  let time = 0;
  return {
    now: () => time,
    set: (seconds: number) => {
      time = seconds;
    },
  };
}

describe('EpochProgress without a TTY', () => {
  test('prints periodic plain lines with it/s, loss, lr, data time and a whole-run ETA', () => {
    const { stream, text } = capture();
    const time = clock();
    const progress = new EpochProgress({
      total: 10,
      epoch: 1,
      epochs: 2,
      stream,
      now: time.now,
      everySecs: 2,
    });
    for (let iter = 0; iter < 10; iter += 1) {
      time.set((iter + 1) * 0.5); // 2 it/s
      progress.update(iter, { loss: 1 / (iter + 1), lr: 0.001, dataTime: 0.0123 });
    }
    progress.stop();
    expect(text()).toMatchInlineSnapshot(`
      "epoch 1/2 iter 1/10 | 2.00 it/s | loss 1.0000 | lr 0.001000 | data 0.012s | eta 9s
      epoch 1/2 iter 5/10 | 2.00 it/s | loss 0.2000 | lr 0.001000 | data 0.012s | eta 7s
      epoch 1/2 iter 9/10 | 2.00 it/s | loss 0.1111 | lr 0.001000 | data 0.012s | eta 5s
      epoch 1/2 iter 10/10 | 2.00 it/s | loss 0.1000 | lr 0.001000 | data 0.012s | eta 5s
      "
    `);
  });

  test('every N iterations, extra stats, an epoch-only ETA, and stop() flushes the last line', () => {
    const { stream, text } = capture();
    const time = clock();
    const progress = new EpochProgress({
      total: 100,
      stream,
      now: time.now,
      everySecs: 1e9,
      everyIters: 3,
    });
    for (let iter = 0; iter < 4; iter += 1) {
      time.set(iter + 1);
      progress.update(iter, { acc: 0.5, lr: 1e-5, samples: 32 });
    }
    progress.stop();
    progress.stop();
    expect(text().split('\n').filter(Boolean)).toEqual([
      'epoch iter 1/100 | 1.00 it/s | lr 1.000e-5 | acc 0.5000 | samples 32 | eta 1m 39s',
      'epoch iter 3/100 | 1.00 it/s | lr 1.000e-5 | acc 0.5000 | samples 32 | eta 1m 37s',
      'epoch iter 4/100 | 1.00 it/s | lr 1.000e-5 | acc 0.5000 | samples 32 | eta 1m 36s',
    ]);
  });

  test('lines can go to a logger; after a mid-epoch resume the rate counts only new iterations', () => {
    const lines: string[] = [];
    const time = clock();
    const progress = new EpochProgress({
      total: 10,
      startIter: 5,
      epoch: 3,
      now: time.now,
      write: (line) => lines.push(line),
      tty: false,
    });
    time.set(2);
    progress.update(5);
    time.set(4);
    progress.update(9);
    expect(lines).toEqual([
      'epoch 3 iter 6/10 | 0.50 it/s | eta 8s',
      'epoch 3 iter 10/10 | 1.25 it/s | eta 0s',
    ]);
    expect(progress.lastLine).toBe(lines[1]);
  });
});

describe('EpochProgress on a TTY', () => {
  test('draws a cli-progress bar with the same details', () => {
    const { stream, text } = capture(true);
    const progress = new EpochProgress({ total: 4, epoch: 1, epochs: 1, stream, tty: true });
    for (let iter = 0; iter < 4; iter += 1) progress.update(iter, { loss: 0.5 });
    progress.stop();
    const output = text();
    expect(output).toContain('epoch 1/1 |');
    expect(output).toContain('4/4');
    expect(output).toContain('loss 0.5000');
    expect(output).toContain('it/s');
  });
});
