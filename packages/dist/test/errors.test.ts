import { describe, expect, it } from 'vitest';
import {
  AddressInUseError,
  CollectiveTimeoutError,
  DistError,
  WorkerFailedError,
} from '../src/index.js';

// The built copy (dist/, made by `pnpm build`) stands in for a second install of the package.
const builtCopy = new URL('../dist/index.js', import.meta.url).href;
const other = (await import(builtCopy)) as typeof import('../src/index.js');

describe('DistError', () => {
  it('is recognised across duplicate copies of the package, by brand', () => {
    const foreign = new other.CollectiveTimeoutError('barrier', [1], 10, 'late');
    expect(foreign instanceof DistError).toBe(false);
    expect(DistError.isInstance(foreign)).toBe(true);
    expect(CollectiveTimeoutError.isInstance(foreign)).toBe(true);
    expect(AddressInUseError.isInstance(foreign)).toBe(false);
    expect(DistError.isInstance(new Error('plain'))).toBe(false);
    expect(DistError.isInstance({ code: 'DIST_TIMEOUT' })).toBe(false);
  });

  it('carries a stable code and structured fields', () => {
    const cause = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    const error = new AddressInUseError('127.0.0.1', 29500, { cause });
    expect({
      ...error,
      name: error.name,
      message: error.message,
      cause: error.cause,
    }).toMatchInlineSnapshot(`
        {
          "cause": [Error: listen EADDRINUSE],
          "code": "DIST_ADDRESS_IN_USE",
          "host": "127.0.0.1",
          "message": "tcp://127.0.0.1:29500 is already in use: another run (or program) holds port 29500. Stop it, pick another port in distUrl, or use distUrl 'auto' on a single machine.",
          "name": "AddressInUseError",
          "port": 29500,
        }
      `);
    const failed = new WorkerFailedError(
      { rank: 1, localRank: 1, pid: 7, exitCode: null, signal: 'SIGKILL', workerError: undefined },
      'rank 1 was killed by SIGKILL',
    );
    expect(WorkerFailedError.isInstance(failed)).toBe(true);
    expect([failed.code, failed.rank, failed.signal]).toEqual(['DIST_WORKER_FAILED', 1, 'SIGKILL']);
  });
});
