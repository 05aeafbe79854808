// Vite builds the UI into ui/dist, which tauri.conf.json embeds; Vitest runs the unit tests.
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

export default defineConfig(({ mode }) => ({
  plugins: [svelte()],
  // Under Vitest (mode `test`), resolve Svelte's browser build: component tests mount views in
  // jsdom, and the server build's `mount` refuses to run.
  resolve: mode === 'test' ? { conditions: ['browser'] } : undefined,
  clearScreen: false,
  server: { port: 1420, strictPort: true },
  build: { outDir: 'dist', emptyOutDir: true, target: 'safari15', sourcemap: false },
  test: { environment: 'node', include: ['src/**/*.test.ts'] },
}));
