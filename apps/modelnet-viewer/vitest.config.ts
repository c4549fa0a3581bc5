import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Trains (or finds) the checkpoint every test classifies with, once.
    globalSetup: ['test/global-setup.ts'],
    // tfjs-node through the toolkit's initBackend, in every test file.
    setupFiles: ['test/node-backend.ts'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    // One file at a time: the browser test builds, serves and drives Chromium on a 2-core box.
    fileParallelism: false,
  },
});
