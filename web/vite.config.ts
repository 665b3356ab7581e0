import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import solid from 'vite-plugin-solid';

const webRoot = fileURLToPath(new URL('.', import.meta.url));

/** Where plain `vite` sends /api and /healthz: `npm start` on its default port (web/dev.ts sets the real one). */
const apiOrigin = 'http://127.0.0.1:8080';

export default defineConfig({
  root: webRoot,
  plugins: [solid()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Keeps every style in a stylesheet file (strict CSP: no style-src 'unsafe-inline').
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      '/api': { target: apiOrigin, changeOrigin: false },
      '/healthz': { target: apiOrigin, changeOrigin: false },
    },
  },
});
