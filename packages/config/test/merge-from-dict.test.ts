import { describe, expect, it } from 'vitest';
import { Config, ConfigDataError, ConfigKeyError } from '../src/index.js';
import { fixture, thrown } from './helpers.js';

const load = () => Config.fromFile(fixture('a.yaml'));

describe('mergeFromDict', () => {
  it('expands dotted keys and merges them in', async () => {
    const cfg = await load();
    const merged = cfg.mergeFromDict({ 'item2.a': 1, 'item2.b': 0.1, item3: false });
    expect(merged.toObject()).toEqual({
      item1: [1, 2],
      item2: { a: 1, b: 0.1 },
      item3: false,
      item4: 'test',
    });
  });

  it('returns a new config and leaves the original alone', async () => {
    const cfg = await load();
    const merged = cfg.mergeFromDict({ 'item2.a': 1 });
    expect(merged).not.toBe(cfg);
    expect(cfg.get('item2.a')).toBe(0);
    expect(merged.filename).toBe(cfg.filename);
    expect(merged.text).toBe(cfg.text);
    expect(merged.files).toEqual(cfg.files);
  });

  it('indexes lists with digit segments', async () => {
    const cfg = new Config({ list: [{ x: 1 }, { x: 2 }], item1: [1, 2] });
    const merged = cfg.mergeFromDict({ 'list.0.x': 10, 'list.1': { y: 3 }, 'item1.1': 'b' });
    expect(merged.toObject()).toEqual({
      list: [{ x: 10 }, { x: 2, y: 3 }],
      item1: [1, 'b'],
    });
  });

  it('creates missing keys and objects', async () => {
    const merged = (await load()).mergeFromDict({ 'model.backbone.depth': 50 });
    expect(merged.get('model')).toEqual({ backbone: { depth: 50 } });
  });

  it('merges object values, unless they say _delete_', async () => {
    const cfg = new Config({ model: { type: 'A', depth: 50 } });
    expect(cfg.mergeFromDict({ model: { depth: 18 } }).get('model')).toEqual({
      type: 'A',
      depth: 18,
    });
    expect(cfg.mergeFromDict({ model: { _delete_: true, type: 'B' } }).get('model')).toEqual({
      type: 'B',
    });
  });

  it('skips undefined values and keeps null', async () => {
    const merged = (await load()).mergeFromDict({ item3: undefined, item4: null });
    expect(merged.get('item3')).toBe(true);
    expect(merged.get('item4')).toBeNull();
  });

  it('names the key and the list length for an index out of range', async () => {
    const cfg = new Config({ list: [{ x: 1 }, { x: 2 }] });
    const error = thrown(() => cfg.mergeFromDict({ 'list.2.x': 3 }));
    expect(error).toBeInstanceOf(ConfigKeyError);
    expect(error).toMatchObject({
      code: 'CONFIG_INDEX_OUT_OF_RANGE',
      path: 'list.2.x',
      at: 'list.2',
      length: 2,
    });
    expect(error.message).toMatchInlineSnapshot(
      `"Config key 'list.2.x': index 2 is out of range for the list 'list' of length 2 (valid indices: 0 to 1)."`,
    );
  });

  it('rejects a list index where there is no list', async () => {
    const error = thrown(() => new Config({ other: 1 }).mergeFromDict({ 'list.0.x': 2 }));
    expect(error).toBeInstanceOf(ConfigKeyError);
    expect(error).toMatchObject({ code: 'CONFIG_KEY_NOT_FOUND', at: 'list' });
    expect(error.message).toMatchInlineSnapshot(
      `"Config key 'list.0.x': 'list' does not exist, so there is no list to index with 0. Set the whole list instead, e.g. 'list=[...]'."`,
    );
  });

  it('rejects a key that is not an index into a list', async () => {
    const error = thrown(() => new Config({ list: [1] }).mergeFromDict({ 'list.x': 2 }));
    expect(error).toMatchObject({ code: 'CONFIG_INVALID_PATH' });
    expect(error.message).toMatchInlineSnapshot(
      `"Invalid config key 'list.x': 'list' is a list, so 'x' must be an index from 0 to 0."`,
    );
  });

  it('rejects a path through a scalar', async () => {
    const error = thrown(() => new Config({ lr: 0.1 }).mergeFromDict({ 'lr.base': 1 }));
    expect(error).toMatchObject({ code: 'CONFIG_INVALID_PATH', path: 'lr.base' });
    expect(error.message).toMatchInlineSnapshot(
      `"Invalid config key 'lr.base': 'lr' is a number, not an object or a list, so it has no 'base'."`,
    );
  });

  it('rejects new keys with allowNewKeys: false, suggesting the closest', async () => {
    const cfg = new Config({ optimizer: { lr: 0.1, momentum: 0.9 } });
    expect(
      cfg.mergeFromDict({ 'optimizer.lr': 1 }, { allowNewKeys: false }).get('optimizer.lr'),
    ).toBe(1);
    const error = thrown(() =>
      cfg.mergeFromDict({ 'optimizer.momentun': 0 }, { allowNewKeys: false }),
    );
    expect(error).toMatchObject({ code: 'CONFIG_KEY_NOT_FOUND', available: ['lr', 'momentum'] });
    expect(error.message).toMatchInlineSnapshot(
      `"Config key 'optimizer.momentun' not found: no key 'momentun' in 'optimizer'. Did you mean 'optimizer.momentum'? Available keys: 'lr', 'momentum'."`,
    );
  });

  it('rejects values that are not JSON data', async () => {
    const error = thrown(() => new Config().mergeFromDict({ 'a.b': new Map() }));
    expect(error).toBeInstanceOf(ConfigDataError);
    expect(error.message).toMatchInlineSnapshot(
      `"Config value at 'a.b' must be JSON data (null, boolean, number, string, list or plain object), received Map instance."`,
    );
  });
});
