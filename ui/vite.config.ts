// Vite builds the UI into ui/dist, which tauri.conf.json embeds; Vitest runs the unit tests.
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  server: { port: 1420, strictPort: true },
  build: { outDir: 'dist', emptyOutDir: true, target: 'safari15', sourcemap: false },
  test: { environment: 'node', include: ['src/**/*.test.ts'] },
});
