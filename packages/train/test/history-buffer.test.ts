import { describe, expect, test } from 'vitest';
import { HistoryBuffer, LogBuffer } from '../src/index.js';

describe('HistoryBuffer', () => {
  test("the manual's values (§1.21)", () => {
    const buffer = new HistoryBuffer();
    buffer.update(10);
    buffer.update(12);
    buffer.update(14, 2);
    buffer.update(15);
    expect(buffer.avg).toBe(13);
    expect(buffer.sum).toBe(65);
    expect(buffer.average(3)).toBe(13.75);
    expect(buffer.median(3)).toBe(14);
    expect(buffer.latest).toBe(15);
    expect(buffer.count).toBe(4);
    expect(buffer.values).toEqual([10, 12, 14, 15]);
    expect(buffer.nums).toEqual([1, 1, 2, 1]);
    expect(String(buffer)).toBe(
      '    values: [10, 12, 14, 15]\n    nums:   [1, 1, 2, 1]\n    count:  4\n    avg:    13\n    sum:    65\n',
    );
  });

  test('window 0 means everything; summation; even-length median', () => {
    const buffer = new HistoryBuffer();
    for (const value of [4, 1, 3, 2]) buffer.update(value);
    expect(buffer.average(0)).toBe(2.5);
    expect(buffer.average(100)).toBe(2.5);
    expect(buffer.summation(2)).toBe(5);
    expect(buffer.median()).toBe(2.5);
  });

  test('empty: avg and sum 0, latest and windowed stats NaN', () => {
    const buffer = new HistoryBuffer();
    expect(buffer.avg).toBe(0);
    expect(buffer.sum).toBe(0);
    expect(buffer.latest).toBeNaN();
    expect(buffer.average(3)).toBeNaN();
    expect(buffer.median()).toBeNaN();
  });

  test('bounded ring: windows see the latest maxLength values, globals see all', () => {
    const buffer = new HistoryBuffer({ maxLength: 3 });
    for (let value = 1; value <= 100; value += 1) buffer.update(value);
    expect(buffer.values).toEqual([98, 99, 100]);
    expect(buffer.average()).toBe(99);
    expect(buffer.latest).toBe(100);
    expect(buffer.count).toBe(100);
    expect(buffer.sum).toBe(5050);
    expect(buffer.avg).toBe(50.5);
  });

  test('grows past its initial storage without losing order', () => {
    const buffer = new HistoryBuffer({ maxLength: 1000 });
    for (let value = 0; value < 500; value += 1) buffer.update(value);
    expect(buffer.values).toHaveLength(500);
    expect(buffer.values.slice(0, 3)).toEqual([0, 1, 2]);
    expect(buffer.median(5)).toBe(497);
  });

  test('clear, and type errors for non-numbers', () => {
    const buffer = new HistoryBuffer();
    buffer.update(3);
    buffer.clear();
    expect(buffer.count).toBe(0);
    expect(buffer.values).toEqual([]);
    expect(() => buffer.update('1' as unknown as number)).toThrow(TypeError);
    expect(() => new HistoryBuffer({ maxLength: 0 })).toThrow(RangeError);
    expect(() => buffer.average(-1)).toThrow(RangeError);
  });
});

describe('LogBuffer', () => {
  test("the manual's values (§1.19)", () => {
    const buffer = new LogBuffer();
    buffer.update({ a: 10, b: [10, 2] });
    buffer.update({ a: 12, b: [12, 3] });
    buffer.update({ a: 14, b: [13, 4] });
    expect(buffer.avg).toEqual({ a: 12, b: 12 });
    expect(buffer.latest).toEqual({ a: 14, b: 13 });
    expect(buffer.sum).toEqual({ a: 36, b: 108 });
    buffer.average(2);
    expect(buffer.output).toEqual({ a: 13, b: 12.571428571428571 });
    expect(buffer.summation(1)).toEqual({ a: 14, b: 52 });
  });

  test('an array value is summed', () => {
    const buffer = new LogBuffer();
    buffer.update({ loss: [[1, 2, 3], 2] });
    expect(buffer.sum).toEqual({ loss: 12 });
  });

  test('get, keys, clear, clearOutput', () => {
    const buffer = new LogBuffer();
    expect(buffer.get('x')).toBeUndefined();
    buffer.update({ x: 1, y: 2 });
    expect(buffer.keys()).toEqual(['x', 'y']);
    expect(buffer.get('x')?.latest).toBe(1);
    buffer.average();
    buffer.clearOutput();
    expect(buffer.output).toEqual({});
    expect(buffer.isEmpty).toBe(false);
    buffer.clear();
    expect(buffer.isEmpty).toBe(true);
  });

  test.each([
    ['a string', 'ab'],
    ['a dict', { nested: 1 }],
    ['null', null],
    ['a list of 3', [1, 2, 3]],
  ])('rejects %s with a TypeError naming the key, and adds nothing', (_, value) => {
    const buffer = new LogBuffer();
    expect(() => buffer.update({ ok: 1, bad: value as unknown as number })).toThrow(/'bad'/);
    expect(buffer.isEmpty).toBe(true);
  });
});
