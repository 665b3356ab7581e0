import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import solid from 'vite-plugin-solid';

const webRoot = fileURLToPath(new URL('.', import.meta.url));

/** Where `npm run dev` sends /api and /healthz: the Hono server started by `npm start` (VIGIL_PORT default). */
const apiOrigin = process.env.VIGIL_API_ORIGIN ?? 'http://127.0.0.1:8080';

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
