import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The console builds to dist/web, which the agent serves at `/` (agent/api/console.ts). */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // One small bundle: the console is a single page; hashed names let the agent cache them forever.
    assetsDir: 'assets',
    reportCompressedSize: true,
  },
});
