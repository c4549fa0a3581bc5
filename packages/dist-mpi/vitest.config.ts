import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Each test starts up to 4 MPI ranks (each with its MPI thread): one file at a time, so that
    // CI's 2 cores are not oversubscribed further.
    fileParallelism: false,
  },
});
