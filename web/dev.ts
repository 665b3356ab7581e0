/**
 * `npm run dev`: the API server (as `npm start` runs it, on VIGIL_PORT) and the Vite dev server with hot
 * reload in one process; Vite proxies /api and /healthz to the API. Stop with Ctrl-C.
 */
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';
import { env } from '../server/config/env';
import { startServer } from '../server/serve';

const config = env();
const api = await startServer({
  port: config.VIGIL_PORT,
  host: '127.0.0.1',
  storage: config.VIGIL_DATABASE_URL ?? config.VIGIL_DATA_DIR,
  // The dev server serves the dashboard from source; the API server serves only the API.
  dashboardDir: null,
  role: 'all',
});
const apiUrl = api.url;
if (!apiUrl) throw new Error('the API server is not listening');

const vite = await createServer({
  configFile: fileURLToPath(new URL('./vite.config.ts', import.meta.url)),
  server: {
    proxy: {
      '/api': { target: apiUrl },
      '/healthz': { target: apiUrl },
    },
  },
});
await vite.listen();
vite.printUrls();
// The API server printed its first-run link with its own address; in development the dashboard is Vite's.
const dashboardUrl = vite.resolvedUrls?.local[0];
if (api.setupUrl && dashboardUrl) {
  const { pathname, hash } = new URL(api.setupUrl);
  console.log(`  First run: create the admin at ${new URL(`${pathname}${hash}`, dashboardUrl)}`);
}

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await vite.close();
  await api.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
