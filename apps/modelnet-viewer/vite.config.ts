import { defineConfig } from 'vite';

// `base: './'`: the build works from any static host and any sub-folder (relative URLs).
export default defineConfig({
  base: './',
  build: { outDir: 'dist', target: 'es2022', chunkSizeWarningLimit: 4096 },
  server: { host: '127.0.0.1' },
});
