import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The in-process groups of tcp-backend.test.ts take 0.3-4 s alone, and up to 3x that with the
    // whole suite and other jobs on 2 cores (measured 5.2 s against vitest's 5 s default).
    testTimeout: 30_000,
  },
});
