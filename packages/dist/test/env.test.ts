import { describe, expect, it } from 'vitest';
import { parseDistUrl, readDistEnv } from '../src/env.js';

describe('readDistEnv', () => {
  it('is undefined outside a distributed run', () => {
    expect(readDistEnv({})).toBeUndefined();
    expect(readDistEnv({ RANK: '0' })).toBeUndefined();
  });

  it('reads what launchers set, GORILLA_DIST_TIMEOUT_MS included', () => {
    expect(
      readDistEnv({
        RANK: '3',
        WORLD_SIZE: '4',
        LOCAL_RANK: '1',
        LOCAL_WORLD_SIZE: '2',
        MASTER_ADDR: '10.0.0.1',
        MASTER_PORT: '29500',
        GORILLA_DIST_TIMEOUT_MS: '5000',
        GORILLA_DIST_WORKER: '1',
      }),
    ).toEqual({
      rank: 3,
      worldSize: 4,
      localRank: 1,
      localSize: 2,
      masterAddr: '10.0.0.1',
      masterPort: 29500,
      timeoutMs: 5000,
      spawnedByLaunch: true,
    });
  });

  it('explains bad values', () => {
    expect(() => readDistEnv({ RANK: '4', WORLD_SIZE: '4', MASTER_PORT: '1' })).toThrow(
      'RANK=4 must be smaller than WORLD_SIZE=4',
    );
    expect(() => readDistEnv({ RANK: 'one', WORLD_SIZE: '4' })).toThrow(
      'environment variable RANK="one" must be an integer >= 0',
    );
    expect(() => readDistEnv({ RANK: '0', WORLD_SIZE: '2' })).toThrow(
      'RANK and WORLD_SIZE are set but MASTER_PORT is not',
    );
  });
});

describe('parseDistUrl', () => {
  it('reads tcp://host:port, IPv6 in brackets', () => {
    expect(parseDistUrl('tcp://127.0.0.1:29500')).toEqual({ host: '127.0.0.1', port: 29500 });
    expect(parseDistUrl('tcp://node-0.cluster:1234/')).toEqual({
      host: 'node-0.cluster',
      port: 1234,
    });
    expect(parseDistUrl('tcp://[::1]:80')).toEqual({ host: '::1', port: 80 });
  });

  it.each(['file:///tmp/x', 'tcp://host', 'tcp://host:0', 'tcp://host:70000', 'auto'])(
    'rejects %s',
    (url) => {
      expect(() => parseDistUrl(url)).toThrow("expected 'auto' or 'tcp://host:port'");
    },
  );
});
