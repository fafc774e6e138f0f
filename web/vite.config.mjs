// Built by `npm run build` after `nest build` (which empties dist/): assets go to dist/web,
// served at / by src/dashboard/. DASHBOARD_OUT_DIR lets the browser tests build elsewhere.
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

const root = import.meta.dirname;

export default defineConfig({
  root,
  base: '/',
  publicDir: resolve(root, 'public'),
  // Vite 8 transforms with Oxc (its successor to esbuild's options): Preact's automatic JSX.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  resolve: { alias: { react: 'preact/compat', 'react-dom': 'preact/compat' } },
  build: {
    outDir: process.env.DASHBOARD_OUT_DIR ?? resolve(root, '..', 'dist', 'web'),
    emptyOutDir: true,
    assetsDir: 'assets',
    // No inline script anywhere (the page runs under a CSP without 'unsafe-inline').
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    target: 'es2022',
    reportCompressedSize: false,
  },
  logLevel: 'warn',
});
